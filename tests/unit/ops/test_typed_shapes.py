"""The places where untyped JSON (records on disk, event lines, API bodies) becomes typed
values: what they keep, what they drop, and that they agree with the records they mirror."""

from __future__ import annotations

import dataclasses

import pytest

from pycontainer.formats.timestamps import rfc3339
from pycontainer.linux.cgroup_limits import Limits
from pycontainer.ops import events, health, limits
from pycontainer.ops.summaries import ports_list

MIB = 1 << 20


def test_limit_keys_are_the_limits_fields_but_the_process_attribute() -> None:
    names = [f.name for f in dataclasses.fields(Limits)]
    assert list(limits.LIMIT_KEYS) == [n for n in names if n != "oom_score_adj"]


def test_as_record_keeps_set_limits_in_field_order_and_reads_back() -> None:
    lim = Limits(memory=32 * MIB, cpus=0.5, cpuset_cpus="0", pids_limit=10, oom_score_adj=5)
    record = limits.as_record(lim)
    assert record == {"memory": 32 * MIB, "cpus": 0.5, "cpuset_cpus": "0", "pids_limit": 10}
    assert list(record) == ["memory", "cpus", "cpuset_cpus", "pids_limit"]
    assert Limits(**record, oom_score_adj=5) == lim
    assert limits.as_record(Limits()) == {}


def test_resources_read_back_into_the_same_limits() -> None:
    lim = Limits(memory=64 * MIB, memory_swap=128 * MIB, cpus=1.5, pids_limit=20)
    back = limits.from_resources(limits.to_resources(lim))
    assert (back.memory, back.memory_swap, back.cpus, back.pids_limit) == \
        (64 * MIB, 128 * MIB, 1.5, 20)
    assert limits.from_resources({}) == Limits()


def test_healthcheck_keeps_dockers_fields_with_their_go_types() -> None:
    body = {"Test": ["CMD", "true"], "Interval": 2_000_000_000, "Timeout": "5s",
            "Retries": True, "StartPeriod": 1.5, "Bogus": 1, "StartInterval": 0}
    assert health._known(body) == {"Test": ["CMD", "true"], "Interval": 2_000_000_000,
                                   "StartInterval": 0}
    assert health._known({"Test": "CMD true"}) == {}


@pytest.mark.parametrize(("line", "actor"), [
    ({"Actor": {"ID": "abc", "Attributes": {"name": "web", "exitCode": 0}}},
     ("abc", {"name": "web", "exitCode": "0"})),
    ({"Actor": {"ID": 7}}, ("7", {})),
    ({"Actor": "abc"}, ("", {})),
    ({"Actor": {"ID": "abc", "Attributes": ["name"]}}, ("abc", {})),
    ({}, ("", {})),
])
def test_actor_of_reads_what_a_line_has(line: dict[str, object],
                                        actor: tuple[str, dict[str, str]]) -> None:
    assert events.actor_of(line) == actor


def test_an_event_line_without_timenano_uses_its_seconds_and_matches_filters() -> None:
    line: dict[str, object] = {"Type": "container", "Action": "die", "time": 1,
                               "Actor": {"ID": "abc", "Attributes": {"name": "web"}}}
    when = rfc3339(1_000_000_000, fixed=True, local=True)
    assert events.pretty(line) == f"{when} container die abc (name=web)"
    assert events.matches(line, {"container": ["web"], "event": ["die"]})
    assert not events.matches(line, {"container": ["db"]})


def test_ports_list_takes_bindings_and_skips_what_is_none() -> None:
    ports: dict[str, object] = {
        "80/tcp": [{"HostIp": "", "HostPort": "8080"}, "junk"],
        "53/udp": None,
        "443/tcp": "junk",
    }
    assert ports_list(ports) == [
        {"IP": "0.0.0.0", "PrivatePort": 80, "PublicPort": 8080, "Type": "tcp"},
        {"PrivatePort": 53, "Type": "udp"},
        {"PrivatePort": 443, "Type": "tcp"},
    ]
