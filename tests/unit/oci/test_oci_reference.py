"""Docker's reference normalisation, table-driven."""

from __future__ import annotations

import pytest

from pycontainer.errors import InvalidReference
from pycontainer.oci import reference

D = "sha256:" + "a" * 64


@pytest.mark.parametrize(("text", "full", "familiar"), [
    ("busybox", "docker.io/library/busybox:latest", "busybox"),
    ("busybox:1.36", "docker.io/library/busybox:1.36", "busybox"),
    ("library/busybox", "docker.io/library/busybox:latest", "busybox"),
    ("user/app:1.0", "docker.io/user/app:1.0", "user/app"),
    ("docker.io/busybox", "docker.io/library/busybox:latest", "busybox"),
    ("index.docker.io/library/x:1", "docker.io/library/x:1", "x"),
    ("127.0.0.1:5000/fixtures/busybox", "127.0.0.1:5000/fixtures/busybox:latest",
     "127.0.0.1:5000/fixtures/busybox"),
    ("localhost/app", "localhost/app:latest", "localhost/app"),
    ("quay.io/a/b/c:t", "quay.io/a/b/c:t", "quay.io/a/b/c"),
    (f"app@{D}", f"docker.io/library/app@{D}", "app"),
    (f"host:5000/x/y:t@{D}", f"host:5000/x/y:t@{D}", "host:5000/x/y"),
    ("a-b__c/d.e", "docker.io/a-b__c/d.e:latest", "a-b__c/d.e"),
], ids=lambda v: v if isinstance(v, str) and len(v) < 40 else None)
def test_normalises_like_docker(text: str, full: str, familiar: str) -> None:
    ref = reference.parse(text)
    assert str(ref) == full
    assert ref.familiar_name == familiar


@pytest.mark.parametrize("text", [
    "", " busybox", "Busybox", "UPPER/case", "a//b", "a:", "a@sha256:abc", "-a", "a/-b",
    "host:port:bad/x", "x:" + "t" * 129, "a@md5:" + "0" * 32,
])
def test_invalid_references_are_refused(text: str) -> None:
    with pytest.raises(InvalidReference):
        reference.parse(text)


def test_uppercase_names_say_lowercase() -> None:
    with pytest.raises(InvalidReference, match="must be lowercase"):
        reference.parse("Busybox")


def test_digest_wins_over_tag_for_what_is_fetched() -> None:
    ref = reference.parse(f"app:1.0@{D}")
    assert ref.reference == D
    assert ref.tag == "1.0"
    assert reference.parse("app").reference == "latest"


@pytest.mark.parametrize(("text", "qualified"), [
    ("busybox", False), ("user/app", False), ("localhost/app", True),
    ("127.0.0.1:5000/x", True), ("quay.io/x/y", True),
])
def test_is_qualified(text: str, qualified: bool) -> None:
    assert reference.is_qualified(text) is qualified


def test_default_registry_for_search_lists() -> None:
    assert str(reference.parse("app", default_registry="quay.io")) == "quay.io/app:latest"


def test_a_first_component_with_a_dot_is_a_registry() -> None:
    assert reference.parse("my.host/app").registry == "my.host"
