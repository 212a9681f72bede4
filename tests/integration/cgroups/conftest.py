"""cgroup test fixtures; they live in cgroup_support.py so tests can import its helpers."""

from cgroup_support import (  # noqa: F401 - fixtures, found by pytest here
    child,
    v1_cgroup,
    v1_info,
    v2_cgroup,
    v2_info,
)
