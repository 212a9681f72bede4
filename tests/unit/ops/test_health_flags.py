"""ops.health: the --health-* flags (Go durations, pflag's wording, Docker's checks) and how
they combine with the image's HEALTHCHECK (flags win; 0 means "the default"; NONE disables).
"""

from __future__ import annotations

from typing import Any

import pytest

from pycontainer.containers.model import Container, ContainerConfig, ContainerState
from pycontainer.errors import UsageError
from pycontainer.oci.convert import ContainerSpec
from pycontainer.ops import health

S = 1_000_000_000
MS = 1_000_000


@pytest.mark.parametrize(("text", "ns"), [
    ("1s", S), ("1m30s", 90 * S), ("500ms", 500 * MS), ("1h", 3600 * S), ("1.5s", 1500 * MS),
    ("0", 0), ("0s", 0), (" 2s ", 2 * S), ("1ms", MS), ("100us", 100_000), ("1µs", 1000),
])
def test_parse_duration(text: str, ns: int) -> None:
    assert health.parse_duration(text, "--health-interval") == ns


@pytest.mark.parametrize(("text", "detail"), [
    ("10", 'time: missing unit in duration "10"'),
    ("1d", 'time: unknown unit "d" in duration "1d"'),
    ("soon", 'time: invalid duration "soon"'),
    ("", 'time: invalid duration ""'),
])
def test_parse_duration_refuses_in_pflags_words(text: str, detail: str) -> None:
    with pytest.raises(UsageError) as info:
        health.parse_duration(text, "--health-timeout")
    assert str(info.value) == f'invalid argument "{text}" for "--health-timeout" flag: {detail}'


def _flags(cmd: str | None = None, interval: str | None = None, timeout: str | None = None,
           retries: int | None = None, start_period: str | None = None,
           disabled: bool = False) -> dict[str, Any]:
    return health.flags_config(cmd, interval, timeout, retries, start_period, disabled)


@pytest.mark.parametrize(("kwargs", "expected"), [
    ({}, {}),
    ({"cmd": "curl -f http://localhost/"}, {"Test": ["CMD-SHELL", "curl -f http://localhost/"]}),
    ({"cmd": "true", "interval": "5s", "timeout": "2s", "retries": 4, "start_period": "1m"},
     {"Test": ["CMD-SHELL", "true"], "Interval": 5 * S, "Timeout": 2 * S, "Retries": 4,
      "StartPeriod": 60 * S}),
    # without --health-cmd the image's test stays: only the timings change
    ({"interval": "10s"}, {"Interval": 10 * S}),
    ({"retries": 0}, {"Retries": 0}),
    ({"interval": "0s"}, {"Interval": 0}),  # 0: the default
    ({"disabled": True}, {"Test": ["NONE"]}),
])
def test_flags_config(kwargs: dict[str, Any], expected: dict[str, Any]) -> None:
    assert _flags(**kwargs) == expected


@pytest.mark.parametrize(("kwargs", "flag"), [
    ({"interval": "-1s"}, "--health-interval"),
    ({"timeout": "-5s"}, "--health-timeout"),
    ({"start_period": "-1m"}, "--health-start-period"),
    ({"interval": "500us"}, "--health-interval"),  # Docker: not less than 1ms
    ({"timeout": "1ns"}, "--health-timeout"),
    ({"retries": -1}, "--health-retries"),
])
def test_flags_config_refuses(kwargs: dict[str, Any], flag: str) -> None:
    with pytest.raises(UsageError) as info:
        _flags(cmd="true", **kwargs)
    assert str(info.value).startswith(f"{flag} cannot be ")


@pytest.mark.parametrize("kwargs", [
    {"cmd": "true"},
    {"interval": "5s"},
    {"retries": 2},
])
def test_no_healthcheck_conflicts_with_every_health_flag(kwargs: dict[str, Any]) -> None:
    # docker/cli: any --health-* setting together with --no-healthcheck is an error
    with pytest.raises(UsageError, match=r"^--no-healthcheck conflicts with --health-\* options$"):
        _flags(disabled=True, **kwargs)


def _container(image: dict[str, Any] | None, flags: dict[str, Any] | None) -> Container:
    spec = {"healthcheck": flags} if flags is not None else {}
    image_config = {"Healthcheck": image} if image is not None else {}
    cfg = ContainerConfig("a" * 64, "web", "2026-01-01T00:00:00Z", "img", "sha256:x",
                          ContainerSpec.from_dict(spec), {},
                          image_config=image_config)
    return Container(cfg, ContainerState())


IMAGE = {"Test": ["CMD", "/check"], "Interval": 5 * S, "Retries": 2}


@pytest.mark.parametrize(("image", "flags", "expected"), [
    (None, None, {}),
    (IMAGE, None, IMAGE),
    (IMAGE, {"Interval": 7 * S}, {**IMAGE, "Interval": 7 * S}),  # a flag over the image
    (IMAGE, {"Interval": 0}, IMAGE),  # 0 keeps the image's
    (IMAGE, {"Test": ["CMD-SHELL", "true"]}, {**IMAGE, "Test": ["CMD-SHELL", "true"]}),
    (IMAGE, {"Test": ["NONE"]}, {}),  # --no-healthcheck
    ({"Test": ["NONE"]}, None, {}),  # HEALTHCHECK NONE
    (None, {"Interval": 7 * S}, {}),  # timings without a test: no healthcheck
    (None, {"Test": ["CMD-SHELL", "true"]}, {"Test": ["CMD-SHELL", "true"]}),
])
def test_config_of(image: dict[str, Any] | None, flags: dict[str, Any] | None,
                   expected: dict[str, Any]) -> None:
    assert health.config_of(_container(image, flags)) == expected


def test_effective_fills_dockers_defaults() -> None:
    # Docker: interval 30s, timeout 30s, start period 0s, start interval 5s, retries 3 (0: default)
    got = health.effective(_container(None, {"Test": ["CMD-SHELL", "true"], "Retries": 0}))
    assert got == {"Test": ["CMD-SHELL", "true"], "Interval": 30 * S, "Timeout": 30 * S,
                   "StartPeriod": 0, "StartInterval": 5 * S, "Retries": 3}
    got = health.effective(_container(IMAGE, {"Timeout": 3 * S}))
    assert (got["Interval"], got["Timeout"], got["Retries"]) == (5 * S, 3 * S, 2)
    assert health.effective(_container(None, None)) == {}
