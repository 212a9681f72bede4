"""The pure parts of run's volumes and networking: -v / --mount parsing, --add-host, mount
order in the runtime spec."""

from __future__ import annotations

import pytest

from pycontainer.errors import UsageError
from pycontainer.oci import convert
from pycontainer.ops import mounts, netsetup


@pytest.mark.parametrize(("text", "kind", "source", "dest", "ro", "copy"), [
    ("/h:/c", "bind", "/h", "/c", False, True),
    ("/h:/c:ro", "bind", "/h", "/c", True, True),
    ("/h:/c:rw,z", "bind", "/h", "/c", False, True),
    ("name:/c", "volume", "name", "/c", False, True),
    ("name:/c:ro,nocopy", "volume", "name", "/c", True, False),
    ("/c", "volume", "", "/c", False, True),
    ("/h/:/c/", "bind", "/h", "/c", False, True),
], ids=lambda v: str(v))
def test_parse_volume(text, kind, source, dest, ro, copy):
    got = mounts.parse_volume(text)
    assert (got["kind"], got["source"], got["destination"], got["readonly"], got["copy"]) == (
        kind, source, dest, ro, copy)


@pytest.mark.parametrize("text", ["relative", "/a:b", "/a:/b:bogus", "/a:/b:ro,rw",
                                  "a:/b:c:d", "name:/c:rshared", "/a:/b:U"])
def test_bad_volume_specs(text):
    with pytest.raises(UsageError):
        mounts.parse_volume(text)


def test_parse_mount_forms():
    b = mounts.parse_mount("type=bind,src=/x,dst=/y,readonly")
    assert (b["kind"], b["source"], b["destination"], b["readonly"]) == ("bind", "/x", "/y", True)
    v = mounts.parse_mount("target=/data,source=vol,volume-nocopy")
    assert (v["kind"], v["source"], v["copy"]) == ("volume", "vol", False)
    t = mounts.parse_mount("type=tmpfs,destination=/t,tmpfs-size=64m,tmpfs-mode=1770")
    assert t["tmpfs"] == ["size=64m", "mode=1770"]
    assert mounts.parse_mount("type=bind,source=/x,target=/y,readonly=false")["readonly"] is False


@pytest.mark.parametrize("text", ["type=bind,target=/x", "type=volume", "type=nfs,target=/x",
                                  "type=tmpfs,source=a,target=/x", "target=x",
                                  "type=bind,source=/a,target=/b,color=red"])
def test_bad_mount_specs(text):
    with pytest.raises(UsageError):
        mounts.parse_mount(text)


def test_duplicate_mount_points_are_refused():
    with pytest.raises(UsageError, match="Duplicate mount point"):
        mounts.validate(mounts.MountRequest(volumes=["/a:/x"], mounts=["type=tmpfs,dst=/x"]))


def test_add_host_and_request_validation():
    assert netsetup._add_hosts(["db:10.0.0.5", "h=1.2.3.4", "gw:host-gateway"]) == [
        ["db", "10.0.0.5"], ["h", "1.2.3.4"], ["gw", "10.0.2.2"]]
    for bad in (netsetup.NetworkRequest(add_hosts=["nocolon"]),
                netsetup.NetworkRequest(publish=["80/sctpx"]),
                netsetup.NetworkRequest(networks=["host", "n1"]),
                netsetup.NetworkRequest(expose=["x"])):
        with pytest.raises(UsageError):
            netsetup.validate(bad)


def test_inspect_mount_forms():
    ms = [{"destination": "/v", "type": "bind", "source": "/d/volumes/v/_data",
           "options": ["rbind"], "volume": "v"},
          {"destination": "/b", "type": "bind", "source": "/h", "options": ["rbind", "ro"]},
          {"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": []}]
    got = mounts.inspect_mounts(ms)
    assert [m["Type"] for m in got] == ["volume", "bind", "tmpfs"]
    assert got[1]["RW"] is False and got[0]["Name"] == "v"
    assert mounts.binds(ms) == ["v:/v", "/h:/b:ro"]


def test_spec_mounts_go_parents_first():
    spec = convert.ContainerSpec(image="x", command=["true"],
                                 mounts=[{"destination": "/etc", "type": "bind",
                                          "source": "/vol", "options": ["rbind"]}])
    inputs = convert.SpecInputs(container_id="c" * 64, user=convert.ResolvedUser(0, 0),
                                etc_files={"/etc/hosts": "/u/hosts"})
    dests = [m.destination for m in convert.default_mounts(spec, inputs)]
    assert dests.index("/etc") < dests.index("/etc/hosts")
    assert dests[:6] == ["/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys"]
