"""Compose's merge rules, the validator's messages, the dependency graph."""

from __future__ import annotations

from typing import Any

import pytest

from pycontainer.compose import graph
from pycontainer.compose.loader import normalize_name
from pycontainer.compose.merge import merge
from pycontainer.compose.validate import validate
from pycontainer.errors import ComposeError


def test_merge_follows_composes_rules() -> None:
    base = {"image": "a", "environment": ["A=1", "B=2"], "command": ["x", "y"],
            "ports": ["80"], "volumes": ["./a:/data", "v:/v"], "labels": {"k": "1"},
            "depends_on": ["db"]}
    over = {"environment": {"B": "3", "C": "4"}, "command": ["z"], "ports": ["80", "90"],
            "volumes": ["./b:/data"], "labels": ["j=2"],
            "depends_on": {"cache": {"condition": "service_started"}}}
    assert merge(base, over) == {
        "image": "a", "environment": {"A": "1", "B": "3", "C": "4"}, "command": ["z"],
        "ports": ["80", "90"], "volumes": ["./b:/data", "v:/v"],
        "labels": {"k": "1", "j": "2"},
        "depends_on": {"db": None, "cache": {"condition": "service_started"}},
    }


def _tree(service: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"services": {"web": service}, **top}


@pytest.mark.parametrize(("tree", "message"), [
    (_tree({"image": "a", "imagee": "b"}),
     "validating f.yaml: services.web additional property imagee is not allowed"),
    (_tree({"image": "a", "ports": "80:80"}), "services.web.ports must be a list"),
    (_tree({"image": 3}), "services.web.image must be a string"),
    (_tree({"image": "a", "tty": "yes"}), "services.web.tty must be a boolean"),
    (_tree({"image": "a", "healthcheck": {"test": "x", "intervall": "1s"}}),
     "services.web.healthcheck additional property intervall is not allowed"),
    (_tree({"image": "a", "ports": [{"target": 80, "publish": 8080}]}),
     "services.web.ports additional property publish is not allowed"),
    (_tree({"image": "a", "devices": ["/dev/x"]}),
     "services.web: 'devices' is not supported by pyc"),
    (_tree({"image": "a"}, volumes={"v": {"drive": "local"}}),
     "volumes.v additional property drive is not allowed"),
    (_tree({"image": "a"}, servics={}), "(root) additional property servics is not allowed"),
    ({"services": []}, "services must be a mapping"),
])
def test_validation_names_file_path_and_key(tree: dict[str, Any], message: str) -> None:
    with pytest.raises(ComposeError) as info:
        validate(tree, "f.yaml")
    assert message in info.value.message
    assert info.value.message.startswith("validating f.yaml: ")


def test_valid_everyday_file_passes() -> None:
    validate({"x-a": {"anything": 1}, "name": "p", "services": {"web": {
        "image": "a", "x-meta": [1], "ports": ["80", 81, {"target": 82, "published": "8082"}],
        "environment": {"A": 1, "B": None, "C": True}, "depends_on": ["db"],
        "volumes": ["v:/v", {"type": "bind", "source": ".", "target": "/s", "read_only": True}],
        "healthcheck": {"test": ["CMD", "true"], "interval": "5s", "retries": 3},
        "networks": {"front": {"aliases": ["w"]}}, "ulimits": {"nofile": {"soft": 1,
                                                                          "hard": 2}},
        "deploy": {"replicas": 2, "resources": {"limits": {"memory": "1g"}}},
    }}, "networks": {"front": None}, "volumes": {"v": {"external": True}}}, "f.yaml")


def test_a_cycle_is_refused() -> None:
    services = {"a": {"depends_on": ["b"]}, "b": {"depends_on": {"c": {}}},
                "c": {"depends_on": ["a"]}}
    with pytest.raises(ComposeError, match="dependency cycle detected: a -> b -> c -> a"):
        graph.check(services)


def test_dependency_order_and_undefined_services() -> None:
    assert graph.order({"web": {"depends_on": ["db"]}, "db": {}}) == ["db", "web"]
    with pytest.raises(ComposeError, match="depends on undefined service 'db'"):
        graph.check({"web": {"depends_on": ["db"]}})


@pytest.mark.parametrize(("name", "want"), [("My App", "myapp"), ("_x.Y-1", "xy-1"),
                                            ("demo", "demo")])
def test_project_name_normalised_as_compose(name: str, want: str) -> None:
    assert normalize_name(name) == want
