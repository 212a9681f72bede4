"""`rootfsPropagation` of the runtime spec, as runc reads it (default rslave)."""

from __future__ import annotations

import pytest

from pycontainer.linux import syscalls as sc
from pycontainer.runtime.builtin.mounts import propagation_flags


@pytest.mark.parametrize(("name", "flags"), [
    (None, sc.MS_REC | sc.MS_SLAVE),
    ("", sc.MS_REC | sc.MS_SLAVE),
    ("rslave", sc.MS_REC | sc.MS_SLAVE),
    ("slave", sc.MS_SLAVE),
    ("private", sc.MS_PRIVATE),
    ("rprivate", sc.MS_REC | sc.MS_PRIVATE),
    ("shared", sc.MS_SHARED),
    ("rshared", sc.MS_REC | sc.MS_SHARED),
    ("unbindable", sc.MS_UNBINDABLE),
    ("runbindable", sc.MS_REC | sc.MS_UNBINDABLE),
])
def test_propagation_names(name: str | None, flags: int) -> None:
    assert propagation_flags(name) == flags


@pytest.mark.parametrize("bad", ["bogus", "rbogus", "r", "Shared"])
def test_unknown_propagation_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="rootfsPropagation"):
        propagation_flags(bad)
