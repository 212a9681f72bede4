import pytest

from pycontainer.kube.quantity import cpu_cores, memory_bytes


@pytest.mark.parametrize(("text", "n"), [("64Mi", 64 << 20), ("1G", 10**9), ("1e3", 1000),
                                         ("1.5Gi", 3 << 29), ("512", 512)])
def test_memory(text: str, n: int) -> None:
    assert memory_bytes(text) == n


def test_cpu() -> None:
    assert cpu_cores("500m") == 0.5
    assert cpu_cores("2") == 2


@pytest.mark.parametrize("text", ["", "12x", "-1", "1e3Mi", "0"])
def test_bad(text: str) -> None:
    with pytest.raises(ValueError):
        memory_bytes(text)
