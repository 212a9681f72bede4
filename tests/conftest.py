"""Suite-wide rules: markers by directory, and no integration fixtures in unit tests.

tests/unit/**        -> marker `unit`: pure logic, no processes, mounts or network
tests/integration/** -> marker `integration`: real kernel, registry and processes, run as an
                        unprivileged user (fixtures in tests/integration/conftest.py)
tests/rootful/**     -> marker `rootful`: pyc run as real root, only inside a private mount
                        namespace that scripts/test makes (collected only when run as root)

So `pytest -m unit` runs everything that needs no prepared host.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
KINDS = ("unit", "integration", "rootful")

# The unprivileged run never collects the rootful tests; scripts/test runs them as root, in a
# mount namespace of their own, with `pytest tests/rootful`.
collect_ignore = [] if os.getuid() == 0 else ["rootful"]

#: fixtures that start processes or talk to the registry; unit tests must not use them
INTEGRATION_FIXTURES = frozenset({
    "pyc", "shared_pyc", "registry", "fixture_refs", "fixture_info", "nosub_pyc", "userns",
})


def _kind(path: Path) -> str | None:
    try:
        rel = path.resolve().relative_to(TESTS)
    except ValueError:
        return None
    return rel.parts[0] if len(rel.parts) > 1 and rel.parts[0] in KINDS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    errors: list[str] = []
    for item in items:
        kind = _kind(Path(str(item.fspath)))
        if kind is None:
            errors.append(f"{item.nodeid}: tests live in tests/unit or tests/integration")
            continue
        item.add_marker(getattr(pytest.mark, kind))
        if kind == "unit":
            bad = INTEGRATION_FIXTURES.intersection(getattr(item, "fixturenames", ()))
            if bad:
                errors.append(f"{item.nodeid}: a unit test requests integration fixture(s) "
                              f"{', '.join(sorted(bad))}; move it to tests/integration")
    if errors:
        raise pytest.UsageError("\n".join(errors))
