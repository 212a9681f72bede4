"""Resource limits (issue 7): run flags -> OCI `linux.resources` -> the container's cgroup.

The flags are parsed into `linux.cgroup_limits.Limits` (Docker's validation), stored in the
container's spec as runtime-spec `linux.resources` (so `config.json` carries them, for pyc's
runtime and for runc), and turned back into `Limits` when the container starts. The cgroup
itself follows the call order written in `linux.cgroups`:

    create    plan(paths, flags)       validate; fail (or warn) before any record exists
    start     setup(paths, c)          a fresh cgroup; its record goes into the state and
                                       the launch config (the launcher adds the init pid)
    kill/stop thaw(c)                  a paused container must run to receive the signal
    rm        release_all(paths, c)    kill what is left, remove the directories (and runc's)
    exit      containers.store.sync    OOMKilled: exit 137 and the cgroup's oom_kill count
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, TypeVar

from pycontainer import config
from pycontainer.containers.model import Container
from pycontainer.errors import PycError, UsageError
from pycontainer.linux import cgroups
from pycontainer.linux.cgroup_limits import CFS_PERIOD_US, UNLIMITED, Limits, cfs, memsw
from pycontainer.oci.runtime import no_resources
from pycontainer.paths import Paths

LimitKey = Literal["memory", "memory_swap", "memory_reservation", "cpus", "cpu_period",
                   "cpu_quota", "cpu_shares", "cpuset_cpus", "cpuset_mems", "pids_limit"]

if TYPE_CHECKING:
    from pycontainer.jsontypes import JSON
    from pycontainer.linux.cgroup_record import CgroupRecord
    from pycontainer.oci.convert import ContainerSpec
    from pycontainer.oci.specjson import CpuJSON, LimitsJSON, MemoryJSON, ResourcesJSON


@dataclass
class LimitFlags:
    """The flags as typed (Docker's names); None when not given."""

    memory: str | None = None
    memory_swap: str | None = None
    memory_reservation: str | None = None
    cpus: str | None = None
    cpu_period: str | None = None
    cpu_quota: str | None = None
    cpu_shares: str | None = None
    cpuset_cpus: str | None = None
    cpuset_mems: str | None = None
    pids_limit: str | None = None
    oom_score_adj: str | None = None


def _no_limits() -> LimitsJSON:
    return {}


#: Limits' fields that ContainerSpec.limits records (oom_score_adj is the spec's own)
LIMIT_KEYS: tuple[LimitKey, ...] = (
    "memory", "memory_swap", "memory_reservation", "cpus", "cpu_period", "cpu_quota",
    "cpu_shares", "cpuset_cpus", "cpuset_mems", "pids_limit")


@dataclass
class LimitsPlan:
    """What `pyc create`/`run` stores: `resources` goes to ContainerSpec.resources."""

    resources: ResourcesJSON = field(default_factory=no_resources)
    oom_score_adj: int | None = None
    #: the limits as given (ContainerSpec.limits): resources cannot tell --cpus 0.5 from
    #: --cpu-quota 50000, inspect must
    limits: LimitsJSON = field(default_factory=_no_limits)
    #: limits dropped under `[engine] cgroup_limits = "warn"`, for the CLI to print
    warnings: list[str] = field(default_factory=list)


# -- flags -> Limits -> resources ---------------------------------------------------------------

def parse(flags: LimitFlags) -> Limits:
    """The flags as `Limits` (UsageError for a malformed value; validate() checks ranges)."""
    return Limits(
        memory=_size(flags.memory, "--memory"),
        memory_swap=_size(flags.memory_swap, "--memory-swap"),
        memory_reservation=_size(flags.memory_reservation, "--memory-reservation"),
        cpus=_number(flags.cpus, "--cpus", float),
        cpu_period=_number(flags.cpu_period, "--cpu-period", int),
        cpu_quota=_number(flags.cpu_quota, "--cpu-quota", int),
        cpu_shares=_number(flags.cpu_shares, "--cpu-shares", int),
        cpuset_cpus=flags.cpuset_cpus or None,
        cpuset_mems=flags.cpuset_mems or None,
        pids_limit=_number(flags.pids_limit, "--pids-limit", int),
        oom_score_adj=_number(flags.oom_score_adj, "--oom-score-adj", int),
    )


def _size(text: str | None, flag: str) -> int | None:
    from pycontainer.formats.units import ram_in_bytes

    if text is None or text == "":
        return None
    if text.strip() == "-1":
        return UNLIMITED  # --memory-swap -1: unlimited swap
    try:
        return ram_in_bytes(text)
    except UsageError:
        raise UsageError(f"invalid argument {text!r} for \"{flag}\" flag: invalid size: "
                         f"{text!r}") from None


_N = TypeVar("_N", int, float)


def _number(text: str | None, flag: str, kind: type[_N]) -> _N | None:
    if text is None or text == "":
        return None
    try:
        return kind(text)
    except ValueError:
        raise UsageError(f"invalid argument {text!r} for \"{flag}\" flag") from None


def to_resources(lim: Limits) -> ResourcesJSON:
    """runtime-spec `linux.resources`; memory.swap is memory + swap as in runc and Docker
    (which stores twice --memory when --memory-swap is not given)."""
    res: ResourcesJSON = {}
    memory: MemoryJSON = {}
    if lim.memory is not None:
        memory["limit"] = lim.memory if lim.memory > 0 else UNLIMITED
        swap = memsw(lim)
        if swap is not None:
            memory["swap"] = swap
    if lim.memory_reservation is not None:
        memory["reservation"] = lim.memory_reservation
    cpu: CpuJSON = {}
    quota, period = cfs(lim)
    if quota is not None:
        cpu["quota"] = quota
    if period is not None:
        cpu["period"] = period
    if lim.cpu_shares is not None:
        cpu["shares"] = lim.cpu_shares
    if lim.cpuset_cpus is not None:
        cpu["cpus"] = lim.cpuset_cpus
    if lim.cpuset_mems is not None:
        cpu["mems"] = lim.cpuset_mems
    if memory:
        res["memory"] = memory
    if cpu:
        res["cpu"] = cpu
    if lim.pids_limit is not None:
        res["pids"] = {"limit": lim.pids_limit if lim.pids_limit > 0 else UNLIMITED}
    return res


def from_resources(res: ResourcesJSON, oom_score_adj: int | None = None) -> Limits:
    memory: MemoryJSON = res.get("memory") or {}
    cpu: CpuJSON = res.get("cpu") or {}
    pids = res.get("pids")
    quota, period = cpu.get("quota"), cpu.get("period") or CFS_PERIOD_US
    return Limits(
        memory=memory.get("limit"), memory_swap=memory.get("swap"),
        memory_reservation=memory.get("reservation"),
        cpus=quota / period if quota and quota > 0 else None,
        cpu_shares=cpu.get("shares"), cpuset_cpus=cpu.get("cpus"), cpuset_mems=cpu.get("mems"),
        pids_limit=pids["limit"] if pids else None, oom_score_adj=oom_score_adj,
    )


def plan(paths: Paths, flags: LimitFlags, cgroup_parent: str = "") -> LimitsPlan:
    """Validate the flags and check now that this user can enforce them: `pyc run` fails
    (exit 125, pointing to `pyc system check`) before anything is created."""
    lim = unset_zeros(parse(flags))
    lim.validate()
    warnings: list[str] = []
    if lim.requested() or cgroup_parent:
        engine = config.load_engine(paths.config)
        info = _detect(engine, cgroup_parent)
        warnings = cgroups.check(info, lim, engine.cgroup_limits)
    return LimitsPlan(to_resources(lim), lim.oom_score_adj, as_record(lim), warnings)


def unset_zeros(lim: Limits) -> Limits:
    """Docker's "0 is no limit" at create (`--memory=0`, `--cpus=0`, `--pids-limit=0|-1`,
    ...): such a flag is as if not given, so it needs no delegated cgroup. (`update` keeps
    them: there they remove a limit.)"""
    import dataclasses

    zero = {"memory": (0,), "memory_swap": (0,), "memory_reservation": (0,), "cpus": (0.0,),
            "cpu_period": (0,), "cpu_quota": (0, -1), "cpu_shares": (0,)}
    unset = {k: None for k, values in zero.items() if getattr(lim, k) in values}
    if lim.pids_limit is not None and lim.pids_limit <= 0:
        unset["pids_limit"] = None
    if lim.memory_swap is not None and lim.memory_swap < 0 and lim.memory is None:
        unset["memory_swap"] = None  # unlimited swap of unlimited memory: nothing to set
    return dataclasses.replace(lim, **unset) if unset else lim


def as_record(lim: Limits) -> LimitsJSON:
    """The limits that are set, for ContainerSpec.limits."""
    out: LimitsJSON = {}
    for key in LIMIT_KEYS:
        value = getattr(lim, key)
        if value is not None:
            out[key] = value
    return out


def host_config(spec: ContainerSpec) -> JSON:
    """The limits as Docker's inspect shows them in HostConfig (0 / "" / null when unset)."""
    lim = _limits_of_spec(spec)
    return {
        "Memory": lim.memory if lim.memory and lim.memory > 0 else 0,
        "MemorySwap": memsw(lim) or 0,  # Docker shows the default: twice --memory
        "MemoryReservation": lim.memory_reservation or 0,
        "NanoCpus": round(lim.cpus * 1e9) if lim.cpus else 0,
        "CpuPeriod": lim.cpu_period or 0,
        "CpuQuota": lim.cpu_quota or 0,
        "CpuShares": lim.cpu_shares or 0,
        "CpusetCpus": lim.cpuset_cpus or "",
        "CpusetMems": lim.cpuset_mems or "",
        "PidsLimit": lim.pids_limit if lim.pids_limit and lim.pids_limit > 0 else None,
        "OomScoreAdj": lim.oom_score_adj or 0,
    }


# -- the container's cgroup ---------------------------------------------------------------------

def limits_of(c: Container) -> Limits:
    return _limits_of_spec(c.config.spec)


def _limits_of_spec(spec: ContainerSpec) -> Limits:
    if spec.limits is not None:  # as given; older records have resources only
        return Limits(**spec.limits, oom_score_adj=spec.oom_score_adj)
    return from_resources(spec.resources, spec.oom_score_adj)


def setup(paths: Paths, c: Container) -> CgroupRecord | None:
    """Create the cgroup for this start (a restart replaces the last one) and write the
    limits; returns its record (None when the host delegates nothing and none was asked).
    A HostError here means nothing was started."""
    release(c.state.cgroup)
    engine = config.load_engine(paths.config)
    info = _detect(engine, c.config.spec.cgroup_parent or "")
    lim = limits_of(c)
    # oom_score_adj is a process attribute: the runtime writes it, not the cgroup
    cg = cgroups.create(info, c.id, replace(lim, oom_score_adj=None), engine.cgroup_limits)
    return cg.record() if cg.enabled else None


def _detect(engine: config.EngineConfig, cgroup_parent: str) -> cgroups.CgroupInfo:
    """`--cgroup-parent` replaces `[engine] cgroup_parent` (a relative path is taken from
    the hierarchy's root, as Docker's cgroupfs driver does); it must be delegated to us."""
    if not cgroup_parent:
        return cgroups.detect(engine.cgroup_parent)
    parent = "/" + cgroup_parent.strip("/")
    v2, _ = cgroups.mounts()
    if v2:  # Docker creates a missing parent: fine inside a subtree delegated to us
        import os

        with contextlib.suppress(OSError):
            os.makedirs(os.path.join(v2, parent.lstrip("/")), exist_ok=True)
    info = cgroups.detect(parent)
    if not info.parent and not info.delegated:
        from pycontainer.errors import HostError

        raise HostError(f"--cgroup-parent {cgroup_parent}: {info.reason}")
    return info


def cgroup_of(record: CgroupRecord | None) -> cgroups.ContainerCgroup | None:
    cg = cgroups.ContainerCgroup.from_record(record)
    return cg if cg.enabled else None


def release(record: CgroupRecord | None) -> None:
    """Remove the container's cgroup (idempotent), killing whatever still runs in it."""
    cg = cgroup_of(record)
    if cg is not None:
        if cg.frozen():
            with contextlib.suppress(PycError, OSError):
                cg.thaw()  # frozen tasks cannot die
        cg.remove()


def release_all(paths: Paths, c: Container) -> None:
    """`rm`: the container's cgroup, and an external runtime's own. runc (rootless, v1)
    makes a cgroup under its own even though pyc moves the container out of it into pyc's:
    given pyc's path instead it fails on the hierarchies nobody delegates (devices), so
    `runc delete` is what removes it."""
    release(c.state.cgroup)
    if c.config.runtime not in ("", "builtin", "pyc"):
        _runtime_delete(paths, c)


def _runtime_delete(paths: Paths, c: Container) -> None:
    import os
    import subprocess

    root = os.path.join(str(paths.runtime), "oci-" + os.path.basename(c.config.runtime))
    from pycontainer import binaries

    exe = binaries.find(c.config.runtime)
    if exe and os.path.isdir(os.path.join(root, c.id)):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run([exe, "--root", root, "delete", "--force", c.id],
                           capture_output=True, timeout=30, check=False)


def kill_all(record: CgroupRecord | None) -> None:
    """`rm -f`: every process of the container, also those that left its init's tree."""
    cg = cgroup_of(record)
    if cg is not None:
        with contextlib.suppress(PycError, OSError):
            cg.kill_all()


def thaw(c: Container) -> bool:
    """Thaw a paused container before signalling it (Docker does the same); True if it was."""
    from pycontainer.containers.lifecycle import Status

    if c.state.status != Status.PAUSED:
        return False
    cg = cgroup_of(c.state.cgroup)
    if cg is not None:
        cg.thaw()
    c.state.status = Status.RUNNING
    return True

