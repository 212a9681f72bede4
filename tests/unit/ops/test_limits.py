"""Run flags -> Limits -> OCI linux.resources and back; `pyc update` merging; the
`[engine]` settings of containers.conf; stats figures as Docker prints them."""

from __future__ import annotations

import pytest

from pycontainer import config
from pycontainer.cli.stats import bytes_size, stats_row
from pycontainer.errors import UsageError
from pycontainer.linux.cgroup_limits import Limits
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops import limits
from pycontainer.ops.stats import StatsEntry
from pycontainer.ops.update import merge

MIB = 1 << 20


@pytest.mark.parametrize(("flags", "resources"), [
    (limits.LimitFlags(), {}),
    (limits.LimitFlags(memory="32m"), {"memory": {"limit": 32 * MIB, "swap": 64 * MIB}}),
    (limits.LimitFlags(memory="32m", memory_swap="-1"),
     {"memory": {"limit": 32 * MIB, "swap": -1}}),
    (limits.LimitFlags(memory="1g", memory_swap="2g", memory_reservation="512m"),
     {"memory": {"limit": 1 << 30, "swap": 2 << 30, "reservation": 512 * MIB}}),
    (limits.LimitFlags(cpus="0.5", cpu_shares="512"),
     {"cpu": {"quota": 50_000, "period": 100_000, "shares": 512}}),
    (limits.LimitFlags(cpuset_cpus="0", cpuset_mems="0"), {"cpu": {"cpus": "0", "mems": "0"}}),
    (limits.LimitFlags(pids_limit="20"), {"pids": {"limit": 20}}),
    (limits.LimitFlags(pids_limit="0"), {"pids": {"limit": -1}}),
], ids=lambda v: repr(v) if isinstance(v, limits.LimitFlags) else "")
def test_flags_become_oci_resources_and_back(flags: limits.LimitFlags,
                                             resources: dict[str, object]) -> None:
    lim = limits.parse(flags)
    assert limits.to_resources(lim) == resources
    back = limits.from_resources(resources)
    assert limits.to_resources(back) == resources


@pytest.mark.parametrize(("flags", "resources", "shown"), [
    (limits.LimitFlags(cpu_period="50000", cpu_quota="25000"),
     {"cpu": {"quota": 25_000, "period": 50_000}},
     {"CpuPeriod": 50_000, "CpuQuota": 25_000, "NanoCpus": 0}),
    (limits.LimitFlags(cpu_quota="30000"), {"cpu": {"quota": 30_000}},
     {"CpuPeriod": 0, "CpuQuota": 30_000, "NanoCpus": 0}),
    (limits.LimitFlags(cpus="0.5"), {"cpu": {"quota": 50_000, "period": 100_000}},
     {"CpuPeriod": 0, "CpuQuota": 0, "NanoCpus": 500_000_000}),
], ids=["period-quota", "quota", "cpus"])
def test_cfs_flags_and_inspect_tell_cpus_from_a_quota(
        flags: limits.LimitFlags, resources: dict[str, object], shown: dict[str, int]) -> None:
    lim = limits.parse(flags)
    assert limits.to_resources(lim) == resources
    spec = {"resources": resources, "limits": limits.as_record(lim)}
    host = limits.host_config(ContainerSpec.from_dict(spec))
    assert {k: host[k] for k in shown} == shown


@pytest.mark.parametrize(("flags", "needle"), [
    (limits.LimitFlags(cpu_quota="lots"), "--cpu-quota"),
    (limits.LimitFlags(memory="lots"), "--memory"),
    (limits.LimitFlags(cpus="half"), "--cpus"),
    (limits.LimitFlags(pids_limit="1.5"), "--pids-limit"),
    (limits.LimitFlags(oom_score_adj="x"), "--oom-score-adj"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_malformed_flags_are_usage_errors(flags: limits.LimitFlags, needle: str) -> None:
    with pytest.raises(UsageError, match=needle):
        limits.parse(flags)


def test_a_plan_without_limits_needs_no_cgroup(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from pycontainer import paths

    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    plan = limits.plan(paths.resolve(str(tmp_path / "root"), str(tmp_path / "run")),
                       limits.LimitFlags(oom_score_adj="100"))
    assert plan.resources == {} and plan.oom_score_adj == 100 and plan.warnings == []


@pytest.mark.parametrize(("old", "update", "expected"), [
    # Docker's default swap (as much as memory) follows a new memory limit
    (Limits(memory=64 * MIB, memory_swap=128 * MIB), Limits(memory=128 * MIB),
     Limits(memory=128 * MIB, memory_swap=256 * MIB)),
    # a swap limit the user chose stays
    (Limits(memory=64 * MIB, memory_swap=100 * MIB), Limits(memory=80 * MIB),
     Limits(memory=80 * MIB, memory_swap=100 * MIB)),
    (Limits(memory=64 * MIB, pids_limit=10), Limits(pids_limit=50),
     Limits(memory=64 * MIB, pids_limit=50)),
    # one way of limiting the CPU replaces the other
    (Limits(cpu_period=50_000, cpu_quota=25_000), Limits(cpus=1.0), Limits(cpus=1.0)),
    (Limits(cpus=1.0, memory=64 * MIB), Limits(cpu_quota=20_000),
     Limits(cpu_quota=20_000, memory=64 * MIB)),
], ids=["default-swap", "chosen-swap", "other-field", "cpus-replaces-cfs", "cfs-replaces-cpus"])
def test_update_merges_like_docker(old: Limits, update: Limits, expected: Limits) -> None:
    assert merge(old, update) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("", config.EngineConfig()),
    ('[engine]\ncgroup_limits = "warn"\n', config.EngineConfig(cgroup_limits="warn")),
    ('[engine]\ncgroup_parent = "/pyc-alice"\n', config.EngineConfig("/pyc-alice")),
])
def test_engine_config(text: str, expected: config.EngineConfig) -> None:
    assert config.parse_engine(text, "") == expected


@pytest.mark.parametrize("text", ['[engine]\ncgroup_limits = "maybe"\n',
                                  '[engine]\ncgroup_parent = "relative"\n', "[engine"])
def test_engine_config_refuses_bad_values(text: str) -> None:
    with pytest.raises(UsageError):
        config.parse_engine(text, "containers.conf")


@pytest.mark.parametrize(("n", "text"), [
    (0, "0B"), (1023, "1023B"), (392 * 1024, "392KiB"), (int(1.5 * MIB), "1.5MiB"),
    (int(23.54 * (1 << 30)), "23.54GiB"),
])
def test_bytes_size_is_go_units_bytes_size(n: int, text: str) -> None:
    assert bytes_size(n) == text


def test_stats_row_uses_dockers_formats() -> None:
    e = StatsEntry("a" * 64, "web", "web", running=True, cpu_percent=49.876,
                   mem_usage=2 * MIB, mem_limit=64 * MIB, mem_percent=3.125, net_rx=1500,
                   net_tx=0, block_read=4096, block_write=0, pids=3)
    assert stats_row(e) == {
        "ID": "a" * 12, "Name": "web", "Container": "web", "CPUPerc": "49.88%",
        "MemUsage": "2MiB / 64MiB", "MemPerc": "3.12%", "NetIO": "1.5kB / 0B",
        "BlockIO": "4.1kB / 0B", "PIDs": "3"}
    stopped = stats_row(StatsEntry("b" * 64, "old", "old"))
    assert stopped["CPUPerc"] == "0.00%" and stopped["MemUsage"] == "0B / 0B"


def test_zero_means_no_limit_at_create() -> None:
    unset_zeros = limits.unset_zeros
    zeros = Limits(memory=0, memory_swap=0, memory_reservation=0, cpus=0.0, cpu_shares=0,
                   cpu_quota=-1, pids_limit=-1)
    assert unset_zeros(zeros).requested() == {}  # nothing for a cgroup to enforce
    assert unset_zeros(Limits(pids_limit=0)).requested() == {}
    assert unset_zeros(Limits(memory_swap=-1)).requested() == {}  # unlimited of unlimited
    real = Limits(memory=64 << 20, memory_swap=-1, pids_limit=10, cpus=0.5)
    assert unset_zeros(real) == real
