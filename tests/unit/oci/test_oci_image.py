from __future__ import annotations

import json

import pytest

from pycontainer.errors import IntegrityError, UsageError
from pycontainer.oci import digest, image
from pycontainer.oci import mediatypes as mt

CFG = {"mediaType": mt.OCI_CONFIG, "digest": "sha256:" + "1" * 64, "size": 10}
LAYER = {"mediaType": mt.OCI_LAYER_GZIP, "digest": "sha256:" + "2" * 64, "size": 20}


def _manifest_raw() -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_MANIFEST, "config": CFG,
                       "layers": [LAYER]}).encode()


def _index_raw() -> bytes:
    def entry(arch: str, variant: str = "") -> dict[str, object]:
        plat = {"os": "linux", "architecture": arch, **({"variant": variant} if variant else {})}
        return {"mediaType": mt.OCI_MANIFEST, "digest": "sha256:" + arch[0] * 64,
                "size": 1, "platform": plat}
    return json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": [
        entry("amd64"), entry("arm64", "v8"), entry("arm", "v7")]}).encode()


def test_manifest_keeps_raw_bytes_and_digest() -> None:
    raw = _manifest_raw()
    m = image.parse(raw)
    assert isinstance(m, image.Manifest)
    assert m.raw == raw and m.digest == digest.of_bytes(raw)
    assert m.config.digest == CFG["digest"] and m.layers[0].size == 20


def test_parse_checks_the_expected_digest() -> None:
    with pytest.raises(IntegrityError):
        image.parse(_manifest_raw(), "sha256:" + "0" * 64)


@pytest.mark.parametrize("want", ["linux/amd64", "linux/arm64", "linux/arm/v7"])
def test_index_selects_platform(want: str) -> None:
    idx = image.parse(_index_raw())
    assert isinstance(idx, image.Index)
    d = idx.select(image.Platform.parse(want))
    assert d.platform is not None
    assert d.platform["architecture"] == image.Platform.parse(want).architecture


def test_index_without_the_platform_lists_what_it_has() -> None:
    idx = image.parse(_index_raw())
    assert isinstance(idx, image.Index)
    with pytest.raises(UsageError, match="linux/arm64/v8"):
        idx.select(image.Platform.parse("linux/s390x"))


def test_platform_parsing() -> None:
    assert str(image.Platform.parse("linux/arm64")) == "linux/arm64"
    assert image.Platform.parse("linux/aarch64").architecture == "arm64"
    with pytest.raises(UsageError):
        image.Platform.parse("a/b/c/d")


def test_schema1_is_refused_clearly() -> None:
    raw = json.dumps({"schemaVersion": 1, "name": "x", "fsLayers": []}).encode()
    with pytest.raises(UsageError, match="schema 1"):
        image.parse(raw)


def test_docker_list_media_type_from_header() -> None:
    raw = json.dumps({"schemaVersion": 2, "manifests": []}).encode()
    assert image.media_type_of(raw, mt.DOCKER_LIST) == mt.DOCKER_LIST
    assert image.media_type_of(raw) == mt.OCI_INDEX
