"""`pyc network create|ls|inspect|rm|prune|exists` as the unprivileged user: Docker's output
and exit codes, the pre-defined networks, and the in-use rule (endpoints and container
configs). Every test leaves the rootless network namespace holder stopped."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator

import pytest

from pycontainer import paths as pyc_paths
from pycontainer.containers.netrecord import NetworkPlan
from pycontainer.network import bridge, rootlessns
from pycontainer.network.ipam import NetworkStore
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops.networks import networks_of

HEX64 = re.compile(r"^[0-9a-f]{64}$")
BUILTIN_TABLE = [
    "NETWORK ID     NAME      DRIVER    SCOPE",
    "04d9a8b4a301   bridge    bridge    local",
    "e1578673c3a3   host      host      local",
    "ff30b5b241e0   none      null      local",
]


@pytest.fixture
def npyc(pyc) -> Iterator:
    """`pyc`, and afterwards: user networks pruned, the namespace holder released."""
    yield pyc
    pyc("network", "prune", "-f")
    state = pyc_paths.resolve(str(pyc.root), str(pyc.runroot))
    bridge.release(state)
    assert rootlessns.find(state.runtime) is None, "the rootless network namespace was left"


@pytest.fixture
def bb(pyc, fixture_refs) -> str:
    pyc.ok("pull", "-q", fixture_refs["busybox"])
    return fixture_refs["busybox"]


# --- ls and the pre-defined networks -------------------------------------------------------


def test_ls_shows_the_predefined_networks(npyc):
    assert npyc.ok("network", "ls").lines == BUILTIN_TABLE
    assert npyc.ok("network", "ls", "-q").lines == [line.split()[0] for line in BUILTIN_TABLE[1:]]
    full = npyc.ok("network", "ls", "-q", "--no-trunc").lines
    assert all(HEX64.match(i) for i in full) and len(full) == 3
    bridge_net = json.loads(npyc.ok("network", "inspect", "bridge").out)[0]
    assert bridge_net["Driver"] == "bridge" and bridge_net["Id"] == full[0]
    assert bridge_net["IPAM"]["Config"] == [{"Subnet": "10.0.2.0/24", "Gateway": "10.0.2.2"}]
    fmt = "{{range .IPAM.Config}}{{.Gateway}}{{end}}"
    assert npyc.ok("network", "inspect", "-f", fmt, "bridge").out == "10.0.2.2\n"
    assert npyc.ok("network", "inspect", "-f", "{{.Driver}}", "none", "host").lines == [
        "null", "host"]
    for name in ("bridge", "host", "none"):
        assert npyc("network", "exists", name).rc == 0
        err = npyc.fail("network", "rm", name).err
        assert err == f"Error: {name} is a pre-defined network and cannot be removed\n"
        err = npyc.fail("network", "create", name).err
        assert err == f"Error: network with name {name} already exists\n"


def test_create_prints_the_id_and_ls_lists_it(npyc):
    nid = npyc.ok("network", "create", "n1").out.strip()
    assert HEX64.match(nid)
    lines = npyc.ok("network", "ls").lines
    assert f"{nid[:12]}   n1        bridge    local" in lines
    assert lines[0] == BUILTIN_TABLE[0] and len(lines) == 5
    assert npyc.ok("network", "ls", "--no-trunc", "-q", "-f", "name=n1").lines == [nid]
    assert "already exists" in npyc.fail("network", "create", "n1").err


def test_ls_formats_and_filters(npyc):
    npyc.ok("network", "create", "--label", "app=web", "--label", "tier", "front")
    npyc.ok("network", "create", "--internal", "back")
    npyc.ok("network", "create", "back2")
    rows = [json.loads(x) for x in npyc.ok("network", "ls", "--format", "json").lines]
    assert [r["Name"] for r in rows] == ["back", "back2", "bridge", "front", "host", "none"]
    assert sorted(rows[0]) == ["CreatedAt", "Driver", "ID", "IPv4", "IPv6", "Internal",
                               "Labels", "Name", "Scope"]
    assert rows[0]["Internal"] == "true" and rows[3]["Labels"] in ("app=web,tier=",
                                                                    "tier=,app=web")
    assert re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$", rows[0]["CreatedAt"])

    def names(*filters: str) -> list[str]:
        args = [x for f in filters for x in ("--filter", f)]
        return npyc.ok("network", "ls", *args, "--format", "{{.Name}}").lines

    assert names("name=^back$") == ["back"]  # Docker's name filter is a regular expression
    assert names("name=back") == ["back", "back2"]
    assert names("type=custom") == ["back", "back2", "front"]
    assert names("type=builtin") == ["bridge", "host", "none"]
    assert names("driver=null") == ["none"]
    assert names("label=app=web") == ["front"] and names("label=tier") == ["front"]
    assert names("label=app=db") == []
    assert names("dangling=true") == ["back", "back2", "front"]
    assert names("dangling=false") == ["bridge", "host", "none"]
    assert names("type=custom", "name=front", "name=back2") == ["back2", "front"]
    assert names("scope=local")[:2] == ["back", "back2"]
    fmt = '{{.Name}}:{{.Label "app"}}:{{.Internal}}'
    assert npyc.ok("network", "ls", "-f", "name=front", "--format", fmt).out == "front:web:false\n"
    table = npyc.ok("network", "ls", "-f", "name=front", "--format", "table {{.Name}}\t{{.IPv4}}")
    assert table.lines == ["NAME      IPV4", "front     true"]
    assert "invalid filter 'colour'" in npyc.fail("network", "ls", "-f", "colour=red").err
    assert "invalid filter: 'type'='x'" in npyc.fail("network", "ls", "-f", "type=x").err


# --- create options / inspect --------------------------------------------------------------


def test_inspect_shows_dockers_network_object(npyc):
    nid = npyc.ok("network", "create", "--subnet", "10.123.4.0/24", "--gateway",
                  "10.123.4.254", "--internal", "--label", "k=v", "custom").out.strip()
    obj = json.loads(npyc.ok("network", "inspect", "custom").out)[0]
    assert list(obj) == ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv4", "EnableIPv6",
                         "IPAM", "Internal", "Attachable", "Ingress", "ConfigFrom", "ConfigOnly",
                         "Containers", "Options", "Labels"]
    assert obj["Name"] == "custom" and obj["Id"] == nid and obj["Driver"] == "bridge"
    assert obj["IPAM"]["Config"] == [{"Subnet": "10.123.4.0/24", "Gateway": "10.123.4.254"}]
    assert obj["Internal"] is True and obj["Labels"] == {"k": "v"}
    assert obj["Containers"] == {} and obj["Scope"] == "local"
    # by id and by unique id prefix, as Docker resolves network references
    assert json.loads(npyc.ok("network", "inspect", nid[:10]).out)[0]["Name"] == "custom"
    assert npyc.ok("network", "inspect", "--format", "json", "custom").out.startswith(
        '[{"Name":"custom"')
    auto = npyc.ok("network", "create", "auto").out.strip()
    fmt = "{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{.Id}}"
    subnet, gateway, got = npyc.ok("network", "inspect", "-f", fmt, "auto").out.split()
    assert re.match(r"^10\.89\.\d+\.0/24$", subnet) and gateway.endswith(".1") and got == auto


def test_inspect_of_a_missing_network(npyc):
    npyc.ok("network", "create", "real")
    res = npyc.fail("network", "inspect", "real", "ghost")
    assert [o["Name"] for o in json.loads(res.out)] == ["real"]
    assert res.err == "Error: No such network: ghost\n"
    assert npyc.fail("network", "inspect", "ghost").out == "[]\n"
    assert "--verbose" in npyc.fail("network", "inspect", "-v", "real").err


@pytest.mark.parametrize(("args", "message"), [
    (["-d", "macvlan"], 'network driver "macvlan" is not supported'),
    (["--ipv6"], "--ipv6 is not supported"),
    (["-o", "com.docker.network.driver.mtu=1400"], "--opt is not supported"),
    (["--ip-range", "10.9.0.0/25", "--subnet", "10.9.0.0/24"], "--ip-range is not supported"),
    (["--attachable"], "--attachable is not supported"),
    (["--gateway", "10.9.0.1"], "every ip-range or gateway must have a corresponding subnet"),
    (["--subnet", "10.9.0.0/24", "--gateway", "10.8.0.1"], "no matching subnet for gateway"),
    (["--subnet", "nonsense"], "invalid subnet"),
    (["--frobnicate"], "--frobnicate"),
])
def test_create_errors_are_125_and_create_nothing(npyc, args, message):
    assert message in npyc.fail("network", "create", *args, "bad").err
    assert npyc.ok("network", "ls", "-q", "-f", "type=custom").out == ""


def test_create_rejects_overlapping_subnets_and_bad_names(npyc):
    npyc.ok("network", "create", "--subnet", "10.50.0.0/16", "wide")
    assert "overlaps network wide" in npyc.fail("network", "create", "--subnet",
                                                 "10.50.3.0/24", "narrow").err
    assert "invalid network name" in npyc.fail("network", "create", "bad/name").err


# --- rm / exists ---------------------------------------------------------------------------


def test_rm_prints_each_name_and_reports_missing_ones(npyc):
    npyc.ok("network", "create", "a1")
    nid = npyc.ok("network", "create", "a2").out.strip()
    res = npyc.fail("network", "rm", "a1", "ghost", nid[:12])
    assert res.lines == ["a1", nid[:12]]
    assert res.err == "Error: No such network: ghost\n"
    assert npyc.ok("network", "rm", "-f", "ghost").out == ""
    assert npyc("network", "exists", "a1").rc == 1
    assert npyc.ok("network", "ls").lines == BUILTIN_TABLE


def test_rm_is_refused_while_a_container_is_connected(npyc):
    npyc.ok("network", "create", "live")
    cid = "c" * 64
    store = NetworkStore(npyc.root / "networks")
    store.attach("live", cid, "web", ["www"])  # what `bridge.connect` records
    obj = json.loads(npyc.ok("network", "inspect", "live").out)[0]
    assert obj["Containers"][cid]["Name"] == "web"
    assert obj["Containers"][cid]["IPv4Address"].endswith("/24")
    err = npyc.fail("network", "rm", "live").err
    assert "error while removing network: network live id" in err
    assert "has active endpoints" in err
    assert npyc.ok("network", "ls", "-q", "-f", "dangling=true").out == ""
    assert npyc.ok("network", "prune", "-f").out == ""
    store.detach("live", cid)
    assert npyc.ok("network", "rm", "live").out == "live\n"


def test_rm_is_refused_while_a_container_config_names_the_network(npyc, bb):
    npyc.ok("network", "create", "planned")
    cid = npyc.ok("create", bb, "true").out.strip()
    config_path = npyc.root / "containers" / cid / "config.json"
    config = json.loads(config_path.read_text())
    config["network"] = {"networks": ["planned"]}  # what `run --network planned` records
    config_path.write_text(json.dumps(config))
    err = npyc.fail("network", "rm", "planned").err
    assert f"has active endpoints ({cid[:12]})" in err
    assert "planned" not in npyc.ok("network", "prune", "-f").out
    npyc.ok("rm", cid)
    assert npyc.ok("network", "rm", "planned").out == "planned\n"


# --- prune ---------------------------------------------------------------------------------


def test_prune_asks_then_lists_what_it_removed(npyc):
    npyc.ok("network", "create", "p1")
    npyc.ok("network", "create", "p2")
    res = npyc.ok("network", "prune")  # empty stdin: no
    assert res.out == ("WARNING! This will remove all custom networks not used by at least one "
                       "container.\nAre you sure you want to continue? [y/N] ")
    assert npyc.ok("network", "prune", input="no\n").out.endswith("[y/N] ")
    assert npyc("network", "exists", "p1").rc == 0
    res = npyc.ok("network", "prune", input="y\n")
    assert res.out.endswith("[y/N] Deleted Networks:\np1\np2\n\n")
    assert npyc.ok("network", "prune", "-f").out == ""
    assert npyc.ok("network", "ls").lines == BUILTIN_TABLE


def test_prune_filters(npyc):
    npyc.ok("network", "create", "--label", "keep=yes", "kept")
    npyc.ok("network", "create", "--label", "keep=no", "gone")
    assert npyc.ok("network", "prune", "-f", "--filter", "label!=keep=yes").lines == [
        "Deleted Networks:", "gone", ""]
    assert npyc.ok("network", "prune", "-f", "--filter", "until=1h").out == ""
    assert npyc.ok("network", "prune", "-f", "--filter", "label=other").out == ""
    assert npyc.ok("network", "prune", "-f", "--filter", f"until={int(time.time()) + 60}",
                   "--filter", "label=keep").lines == ["Deleted Networks:", "kept", ""]
    assert "invalid filter 'name'" in npyc.fail("network", "prune", "-f", "--filter",
                                               "name=x").err
    res = npyc.fail("network", "prune", "--filter", "until=soon")
    assert "until=soon" in res.err and res.out == ""  # checked before the prompt


# --- the in-use rule and `until`, as functions ----------------------------------------------


def _spec(d):
    return ContainerSpec.from_dict(d)


def test_networks_of_a_container_config():
    assert networks_of(_spec({"network": "private"}), None) == []
    assert networks_of(_spec({"network": "host"}), None) == []
    assert networks_of(_spec({"network": "slirp4netns:mtu=1500"}), None) == []
    assert networks_of(_spec({"network": "container:abc"}), None) == []
    assert networks_of(_spec({"network": "n1"}), None) == ["n1"]
    plan = NetworkPlan.from_dict
    assert networks_of(_spec({"network": "n1"}), plan({"networks": ["n1", "n2"]})) == ["n1", "n2"]
    assert networks_of(_spec({}), plan({"networks": {"n3": {"ip": "10.89.0.2"}}})) == ["n3"]
