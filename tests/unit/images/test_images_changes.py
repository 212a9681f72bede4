from __future__ import annotations

import pytest

from pycontainer.errors import UsageError
from pycontainer.ops import changes


@pytest.mark.parametrize(("change", "key", "value"), [
    ('CMD ["/bin/sh", "-c", "echo hi"]', "Cmd", ["/bin/sh", "-c", "echo hi"]),
    ("CMD echo hi", "Cmd", ["/bin/sh", "-c", "echo hi"]),
    ('CMD=["sh"]', "Cmd", ["sh"]),
    ('ENTRYPOINT ["/init"]', "Entrypoint", ["/init"]),
    ("ENV A=1 B=2", "Env", ["A=1", "B=2"]),
    ("ENV A 1", "Env", ["A=1"]),
    ("WORKDIR /srv", "WorkingDir", "/srv"),
    ("USER app", "User", "app"),
    ("EXPOSE 80 53/udp", "ExposedPorts", {"80/tcp": {}, "53/udp": {}}),
    ("LABEL a=b", "Labels", {"a": "b"}),
    ("VOLUME /data", "Volumes", {"/data": {}}),
    ("STOPSIGNAL SIGINT", "StopSignal", "SIGINT"),
])
def test_changes(change: str, key: str, value: object) -> None:
    cfg = changes.apply({}, [change])
    assert cfg["config"][key] == value


def test_unknown_instruction() -> None:
    with pytest.raises(UsageError, match="RUN is not a valid change command"):
        changes.apply({}, ["RUN true"])
