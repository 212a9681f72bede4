"""The ops-level `--filter` matching: `ps`, `images`, `volume prune`, `network ls/prune`.

Docker's rules (docs: "Filter commands" and each command's reference): values of one key are
OR-ed, different keys AND-ed; `label=KEY` needs the key, `label=KEY=VALUE` that value too;
`ps` name= is a regular expression, exited= only matches exited containers, before=/since=
are relative to another container's creation; `images` dangling= means "has no name";
prune's until= keeps what was created at or after the time, label!= keeps what it matches.
"""

from __future__ import annotations

from typing import Any

import pytest

from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.errors import UsageError
from pycontainer.formats.timestamps import parse_rfc3339
from pycontainer.images.store import ImageRecord
from pycontainer.network.ipam import Network
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops import images, networks, ps, volumes

IMG = "sha256:" + "1" * 64
OTHER_IMG = "sha256:" + "2" * 64


def _container(cid: str, name: str, created: str = "2026-01-01T00:00:00Z",
               **spec: Any) -> Container:
    cfg = ContainerConfig(cid, name, created, "busybox", IMG, ContainerSpec.from_dict(spec), {})
    return Container(cfg, ContainerState(exit_code=3))


WEB = _container("ab" + "0" * 62, "web-1", labels={"app": "web", "tier": ""},
                 mounts=[{"volume": "data", "source": "/v/data", "destination": "/srv"}],
                 network="slirp4netns")


# --- ps ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("state", "filters", "expected"), [
    ("running", {}, True),
    ("running", {"status": ["running"]}, True),
    ("exited", {"status": ["running"]}, False),
    ("exited", {"status": ["running", "exited"]}, True),  # one key: OR
    ("running", {"name": ["^web"]}, True),  # a regular expression
    ("running", {"name": ["eb-"]}, True),  # ... searched, not anchored
    ("running", {"name": ["^eb"]}, False),
    ("running", {"id": ["ab00"]}, True),
    ("running", {"id": ["b000"]}, False),
    ("exited", {"exited": ["3"]}, True),
    ("exited", {"exited": ["0"]}, False),
    ("running", {"exited": ["3"]}, False),  # only exited containers have an exit code
    ("running", {"label": ["app"]}, True),
    ("running", {"label": ["app=web"]}, True),
    ("running", {"label": ["app=db"]}, False),
    ("running", {"label": ["tier="]}, True),  # an empty value is a value
    ("running", {"ancestor": ["busybox"]}, True),
    ("running", {"ancestor": [IMG]}, True),
    ("running", {"ancestor": ["1111"]}, True),  # an id prefix
    ("running", {"ancestor": ["alpine"]}, False),
    ("running", {"ancestor": ["alpine", "busybox"]}, True),
    ("running", {"volume": ["data"]}, True),
    ("running", {"volume": ["/srv"]}, True),
    ("running", {"volume": ["/v/data"]}, True),
    ("running", {"volume": ["other"]}, False),
    ("running", {"network": ["slirp4netns"]}, True),
    ("running", {"network": ["bridge"]}, False),
    ("running", {"status": ["running"], "name": ["db"]}, False),  # keys: AND
    ("running", {"status": ["running"], "name": ["web"], "label": ["app=web"]}, True),
])
def test_ps_matches(state: str, filters: dict[str, list[str]], expected: bool) -> None:
    assert ps._matches(WEB, state, filters, {}) is expected


#: Docker's MatchKVList: every label= must hold, unlike the other keys' OR (moby#40286,
#: docker/cli#6918)
def test_ps_label_needs_every_label() -> None:
    f = {"label": ["app=web", "tier"]}
    assert ps._matches(WEB, "running", f, {}) is True
    f = {"label": ["app=web", "zone"]}
    assert ps._matches(WEB, "running", f, {}) is False


def test_ps_ancestor_by_resolved_name() -> None:
    # ancestor=NAME also matches through the id NAME resolves to (a retagged image)
    assert ps._matches(WEB, "running", {"ancestor": ["mytag"]}, {"mytag": IMG}) is True
    assert ps._matches(WEB, "running", {"ancestor": ["mytag"]}, {"mytag": OTHER_IMG}) is False


def test_ps_before_and_since_are_relative_to_a_container() -> None:
    created = {"old": parse_rfc3339("2025-06-01T00:00:00Z"),
               "new": parse_rfc3339("2026-06-01T00:00:00Z")}
    assert ps._matches(WEB, "running", {"before": ["new"]}, {}, created) is True
    assert ps._matches(WEB, "running", {"before": ["old"]}, {}, created) is False
    assert ps._matches(WEB, "running", {"since": ["old"]}, {}, created) is True
    assert ps._matches(WEB, "running", {"since": ["new"]}, {}, created) is False
    same = {"web": parse_rfc3339("2026-01-01T00:00:00Z")}
    assert ps._matches(WEB, "running", {"since": ["web"]}, {}, same) is False  # not itself
    assert ps._matches(WEB, "running", {"before": ["web"]}, {}, same) is False


@pytest.mark.parametrize(("items", "expected"), [
    (["status=running", "status=exited", "label=a=b"],
     {"status": ["running", "exited"], "label": ["a=b"]}),
    (["health=healthy", "health=none"], {"health": ["healthy", "none"]}),
    (["Name=web"], {"name": ["web"]}),  # keys are lower-cased
    ([], {}),
])
def test_ps_parse_filters(items: list[str], expected: dict[str, list[str]]) -> None:
    assert ps.parse_filters(items) == expected


@pytest.mark.parametrize(("items", "message"), [
    (["status=bogus"], "invalid filter 'status=bogus'"),
    (["status=Running"], "invalid filter 'status=Running'"),
    (["health=sick"], "Unrecognised filter value for health: sick"),
    (["colour=red"], "invalid filter 'colour'"),
    (["reference=x"], "invalid filter 'reference'"),  # an images key, not a ps one
    (["status"], "bad format of filter (expected name=value): status"),
])
def test_ps_parse_filters_refuses(items: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        ps.parse_filters(items)
    assert str(info.value) == message


def test_ps_accepts_every_docker_status() -> None:
    docker = ["created", "restarting", "running", "removing", "paused", "exited", "dead"]
    assert ps.parse_filters([f"status={s}" for s in docker]) == {"status": docker}


# --- images --------------------------------------------------------------------------------

def _image(names: list[str], labels: dict[str, str] | None = None) -> ImageRecord:
    config = {"config": {"Labels": labels}} if labels is not None else {}
    return ImageRecord(IMG, names, "", config, "2026-01-01T00:00:00Z", 1)


TAGGED = _image(["docker.io/library/busybox:latest"], {"maintainer": "me", "v": "1"})
DANGLING = _image([])


@pytest.mark.parametrize(("key", "value", "image", "expected"), [
    ("dangling", "true", DANGLING, True),
    ("dangling", "true", TAGGED, False),
    ("dangling", "false", TAGGED, True),
    ("dangling", "1", DANGLING, True),
    ("dangling", "0", DANGLING, False),
    ("label", "maintainer", TAGGED, True),
    ("label", "v=1", TAGGED, True),
    ("label", "v=2", TAGGED, False),
    ("label", "maintainer", DANGLING, False),  # no labels at all
])
def test_images_filter(key: str, value: str, image: ImageRecord, expected: bool,
                       tmp_path: Any) -> None:
    assert images._filter(key, value, tmp_path)(image) is expected


def test_images_dangling_value_is_checked() -> None:
    with pytest.raises(UsageError, match=r"^invalid filter 'dangling=maybe'$"):
        images._filter("dangling", "maybe", None)  # type: ignore[arg-type]


@pytest.mark.parametrize(("pattern", "name", "expected"), [
    ("busybox", "docker.io/library/busybox:latest", True),
    ("busybox:latest", "docker.io/library/busybox:latest", True),
    ("busybox:1.36", "docker.io/library/busybox:latest", False),
    ("busy*", "docker.io/library/busybox:latest", True),
    ("*:latest", "docker.io/library/busybox:latest", True),
    ("docker.io/library/busybox", "docker.io/library/busybox:latest", True),
    ("alpine", "docker.io/library/busybox:latest", False),
    ("localhost:5000/app", "localhost:5000/app:v1", True),
    ("localhost:5000/app:v1", "localhost:5000/app:v1", True),
    ("app", "localhost:5000/app:v1", False),  # the familiar name keeps its registry
])
def test_images_reference_filter(pattern: str, name: str, expected: bool) -> None:
    assert images._name_filter(pattern)(name) is expected


@pytest.mark.parametrize(("pattern", "repo", "tag", "expected"), [
    ("busybox", "docker.io/library/busybox", "latest", True),
    ("busybox", "docker.io/library/busybox", "1.36", True),  # no tag: every tag
    ("busybox:1.36", "docker.io/library/busybox", "1.36", True),
    ("busybox:1.36", "docker.io/library/busybox", "latest", False),
    ("library/busybox", "docker.io/library/busybox", "latest", True),
    ("busy", "docker.io/library/busybox", "latest", False),  # whole names, not prefixes
    ("localhost:5000/app", "localhost:5000/app", "v1", True),
])
def test_images_repository_argument(pattern: str, repo: str, tag: str, expected: bool) -> None:
    assert images._repo_matches(pattern, repo, tag) is expected


# --- volume prune ----------------------------------------------------------------------------

@pytest.mark.parametrize(("all_flag", "items", "expected"), [
    (False, [], (False, {})),
    (True, [], (True, {})),
    (False, ["all=1"], (True, {})),
    (False, ["all=true"], (True, {})),
    (False, ["all=0"], (False, {})),
    (False, ["label=a", "label!=b=c"], (False, {"label": ["a"], "label!": ["b=c"]})),
])
def test_volume_prune_filters(all_flag: bool, items: list[str],
                              expected: tuple[bool, dict[str, list[str]]]) -> None:
    assert volumes.check_prune_filters(all_flag, items) == expected


@pytest.mark.parametrize(("all_flag", "items", "message"), [
    (True, ["all=1"], "conflicting options: cannot specify both --all and --filter all=1"),
    (False, ["until=1h"], "invalid filter 'until'"),  # Docker: volumes have no until
    (False, ["dangling=true"], "invalid filter 'dangling'"),
    (False, ["all=perhaps"], "invalid filter 'all=perhaps'"),
])
def test_volume_prune_filters_refuse(all_flag: bool, items: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        volumes.check_prune_filters(all_flag, items)
    assert str(info.value) == message


# --- networks ------------------------------------------------------------------------------

def _inspect(name: str, builtin: bool) -> dict[str, Any]:
    if builtin:
        return networks._builtin(name)
    return {"Name": name, "Id": networks.builtin_id("custom-" + name), "Driver": "bridge",
            "Scope": "local", "Labels": {"env": "prod"}}


BRIDGE = _inspect("bridge", True)
HOST = _inspect("host", True)
APPNET = _inspect("appnet", False)


@pytest.mark.parametrize(("obj", "builtin", "used", "key", "value", "expected"), [
    (APPNET, False, False, "name", "appnet", True),
    (APPNET, False, False, "name", "app", True),  # a regular expression, searched
    (APPNET, False, False, "name", "^net", False),
    (BRIDGE, True, False, "name", "bri.ge", True),
    (APPNET, False, False, "id", APPNET["Id"][:6], True),
    (APPNET, False, False, "driver", "bridge", True),
    (HOST, True, False, "driver", "host", True),
    (HOST, True, False, "driver", "bridge", False),
    (networks._builtin("none"), True, False, "driver", "null", True),
    (APPNET, False, False, "scope", "local", True),
    (APPNET, False, False, "scope", "swarm", False),
    (APPNET, False, False, "label", "env", True),
    (APPNET, False, False, "label", "env=dev", False),
    (BRIDGE, True, False, "label", "env", False),
    (BRIDGE, True, False, "type", "builtin", True),
    (BRIDGE, True, False, "type", "custom", False),
    (APPNET, False, False, "type", "custom", True),
    (APPNET, False, False, "dangling", "true", True),  # unused custom network
    (APPNET, False, True, "dangling", "true", False),
    (APPNET, False, True, "dangling", "false", True),
    (BRIDGE, True, False, "dangling", "true", False),  # pre-defined: never dangling
    (BRIDGE, True, False, "dangling", "0", True),
])
def test_network_matches(obj: dict[str, Any], builtin: bool, used: bool, key: str,
                         value: str, expected: bool) -> None:
    assert networks._matches(obj, key, value, builtin, used) is expected


@pytest.mark.parametrize(("items", "message"), [
    (["type=other"], "invalid filter: 'type'='other'"),
    (["dangling=maybe"], "invalid filter 'dangling=maybe'"),
    (["colour=red"], "invalid filter 'colour'"),
    (["until=1h"], "invalid filter 'until'"),  # a prune filter, not an ls one
])
def test_network_list_filters_refuse(items: list[str], message: str) -> None:
    from pycontainer.formats import filters

    with pytest.raises(UsageError) as info:
        networks._check_list_filters(filters.parse(items))
    assert str(info.value) == message


@pytest.mark.parametrize(("parsed", "expected"), [
    ({}, True),
    ({"name": ["db", "app"]}, True),  # one key: OR
    ({"name": ["db", "cache"]}, False),
    ({"name": ["app"], "driver": ["bridge"]}, True),  # keys: AND
    ({"name": ["app"], "driver": ["host"]}, False),
    ({"name": ["app"], "type": ["builtin"]}, False),
])
def test_network_ls_combines_keys_and_values(parsed: dict[str, list[str]],
                                             expected: bool) -> None:
    assert networks._selected(APPNET, parsed, False, False) is expected


def test_network_label_needs_every_label() -> None:
    assert networks._selected(APPNET, {"label": ["env=prod"]}, False, False) is True
    assert networks._selected(APPNET, {"label": ["env=prod", "zone"]}, False, False) is False


def test_network_list_filter_bad_regex_is_a_usage_error() -> None:
    from pycontainer.formats import filters

    with pytest.raises(UsageError, match=r"^invalid filter value '\[a': "):
        networks._check_list_filters(filters.parse(["name=[a"]))


def _net(created: str, labels: dict[str, str] | None = None) -> Network:
    return Network("n", "1" * 64, "10.89.0.0/24", "10.89.0.1", "pyc0", created,
                   labels=labels or {})


UNTIL = parse_rfc3339("2026-01-01T00:00:00Z")


@pytest.mark.parametrize(("created", "labels", "parsed", "until", "expected"), [
    ("2025-12-31T23:59:59Z", None, {}, UNTIL, True),  # created before until=: pruned
    ("2026-01-01T00:00:00Z", None, {}, UNTIL, False),  # at until=: kept
    ("2026-01-02T00:00:00Z", None, {}, UNTIL, False),
    ("2026-01-02T00:00:00Z", None, {}, None, True),  # no until=
    ("2025-01-01T00:00:00Z", {"keep": "1"}, {"label!": ["keep"]}, UNTIL, False),
    ("2025-01-01T00:00:00Z", {"keep": "1"}, {"label": ["keep=1"]}, UNTIL, True),
    ("2025-01-01T00:00:00Z", {}, {"label": ["keep"]}, UNTIL, False),
    ("2025-01-01T00:00:00Z", {"a": "x"}, {"label": ["a"], "label!": ["a=y"]}, None, True),
])
def test_network_prunable(created: str, labels: dict[str, str] | None,
                          parsed: dict[str, list[str]], until: float | None,
                          expected: bool) -> None:
    assert networks._prunable(_net(created, labels), parsed, until) is expected


@pytest.mark.parametrize(("items", "message"), [
    (["until=soon"], "invalid filter 'until=soon': "),
    (["name=x"], "invalid filter 'name'"),
    (["dangling=true"], "invalid filter 'dangling'"),
])
def test_network_prune_filters_refuse(items: list[str], message: str) -> None:
    with pytest.raises(UsageError) as info:
        networks.check_prune_filters(items)
    assert str(info.value).startswith(message)


def test_network_prune_filters_accept_dockers_keys() -> None:
    got = networks.check_prune_filters(["until=24h", "label=a", "label!=b"])
    assert got == {"until": ["24h"], "label": ["a"], "label!": ["b"]}
