"""What testcontainers' Ryuk does, with a real HTTP client inside a container (perl's
IO::Socket::UNIX in the Debian fixture) over the API socket bind-mounted at
/var/run/docker.sock: Ryuk's own calls, in its order (the containers of a label filter,
`all` of them, removed with force and their volumes; then the networks, volumes and images
of the same filter pruned). And testcontainers with Ryuk enabled: its image cannot be
pulled here, which must fail clearly, naming the image, and leave nothing behind."""

from __future__ import annotations

import json
from urllib.parse import quote

import docker
import pytest

from .conftest import Service

REAPER = r"""
use IO::Socket::UNIX;
sub call {
    my ($method, $path) = @_;
    my $s = IO::Socket::UNIX->new(Peer => "/var/run/docker.sock") or die "connect: $!";
    print $s "$method $path HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
        . "Content-Length: 0\r\n\r\n";
    local $/; my $reply = <$s>; close $s; return $reply;
}
sub ok { my ($what, $r, $code) = @_; $r =~ m{^HTTP/1\.1 $code } or die "$what: $r"; $r }
my ($filters, $images) = @ARGV;
my $list = ok("list", call("GET", "/v1.41/containers/json?all=1&filters=$filters"), 200);
my @ids = $list =~ /"Id":"([0-9a-f]{64})"/g;
ok("delete $_", call("DELETE", "/v1.41/containers/$_?force=1&v=1"), 204) for @ids;
my $nets = ok("networks", call("POST", "/v1.41/networks/prune?filters=$filters"), 200);
my $vols = ok("volumes", call("POST", "/v1.41/volumes/prune?filters=$filters"), 200);
my $imgs = ok("images", call("POST", "/v1.41/images/prune?filters=$images"), 200);
my @n = $nets =~ /"NetworksDeleted":\[([^\]]*)\]/;
my @v = $vols =~ /"VolumesDeleted":\[([^\]]*)\]/;
my @i = $imgs =~ /"Deleted":"(sha256:[0-9a-f]+)"/g;
print scalar(@ids), " containers; networks $n[0]; volumes $v[0]; ", scalar(@i), " images\n";
"""


@pytest.fixture
def bb(api: Service, fixture_refs: dict[str, str]) -> str:
    ref = fixture_refs["busybox"]
    api.pyc.ok("pull", "-q", ref)
    return ref


def test_a_ryuk_like_reaper_inside_a_container_reaps_by_label(
        api: Service, bb: str, fixture_refs: dict[str, str]) -> None:
    client = docker.DockerClient(base_url=api.url)
    reap = {"org.testcontainers.session-id": "s1"}
    client.networks.create("reap-net", labels=reap)
    client.networks.create("keep-net")
    client.volumes.create("reap-vol", labels=reap)
    client.volumes.create("keep-vol")
    running = client.containers.run(bb, "sleep 600", detach=True, labels=reap,
                                    network="reap-net")
    stopped = client.containers.create(bb, "true", labels=reap)
    keep = client.containers.run(bb, "sleep 600", detach=True)
    # an image of the session (testcontainers labels what it builds), used by nobody
    api.pyc.ok("commit", "-c", "LABEL org.testcontainers.session-id=s1", stopped.id,
               "reap-img:1")
    api.pyc.ok("commit", keep.id, "keep-img:1")
    label = {"label": ["org.testcontainers.session-id=s1"]}
    out = client.containers.run(
        fixture_refs["debian"],
        ["perl", "-e", REAPER, quote(json.dumps(label)),
         quote(json.dumps({**label, "dangling": ["false"]}))],
        remove=True, volumes={str(api.sock): {"bind": "/var/run/docker.sock", "mode": "rw"}})
    assert out == b'2 containers; networks "reap-net"; volumes "reap-vol"; 1 images\n'
    ids = api.pyc.ok("ps", "-aq", "--no-trunc").out.split()
    assert running.id not in ids and stopped.id not in ids and keep.id in ids
    assert [n.name for n in client.networks.list(names=["reap-net", "keep-net"])] == \
        ["keep-net"]
    assert [v.name for v in client.volumes.list()] == ["keep-vol"]
    tags = [t for i in client.images.list() for t in i.tags]
    assert "reap-img:1" not in tags and "keep-img:1" in tags
    keep.remove(force=True)


def test_testcontainers_with_ryuk_enabled_and_no_ryuk_image_fails_clearly(
        api: Service, bb: str, monkeypatch: pytest.MonkeyPatch, registry: str) -> None:
    monkeypatch.setenv("DOCKER_HOST", api.url)
    monkeypatch.delenv("TESTCONTAINERS_RYUK_DISABLED", raising=False)
    from testcontainers.core.config import testcontainers_config
    from testcontainers.core.container import DockerContainer, Reaper

    missing = f"{registry}/testcontainers/ryuk:0.8.1"  # what a mirror would hold
    monkeypatch.setattr(testcontainers_config, "_ryuk_disabled", False)
    monkeypatch.setattr(testcontainers_config, "ryuk_image", missing)
    monkeypatch.setattr(testcontainers_config, "_ryuk_docker_socket", str(api.sock))
    Reaper.delete_instance()
    with pytest.raises(docker.errors.APIError) as failed:
        DockerContainer(bb).with_command("sleep 60").start()
    assert "testcontainers/ryuk" in str(failed.value)
    assert "Traceback" not in str(failed.value)
    assert api.pyc.ok("ps", "-aq").out.strip() == ""
