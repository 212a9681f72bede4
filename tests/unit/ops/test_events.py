"""ops.events and eventlog: Docker's message shape, filter matching, the CLI line, the time
window, and a follower across rotations."""

from __future__ import annotations

import json
import os
import threading
import time
from pathlib import Path

import pytest

from pycontainer import eventlog
from pycontainer.errors import UsageError
from pycontainer.ops import events


def msg(type_: str, action: str, actor: str, ns: int = 1_700_000_000_123_456_789,
        **attrs: str) -> dict:
    return eventlog.message(type_, action, actor, attrs, now_ns=ns)


def write(path: str, *messages: dict, limit: int | None = None) -> None:
    for m in messages:
        eventlog.append(path, (json.dumps(m) + "\n").encode(), limit)


def test_message_has_dockers_shape() -> None:
    m = msg("container", "start", "abc", image="busybox", name="web")
    assert list(m) == ["status", "id", "from", "Type", "Action", "Actor", "scope", "time",
                       "timeNano"]
    assert (m["status"], m["id"], m["from"], m["time"]) == ("start", "abc", "busybox",
                                                            1_700_000_000)
    net = msg("network", "create", "n1", name="front", type="bridge")
    assert "status" not in net and "from" not in net and net["scope"] == "local"


START = msg("container", "start", "c0ffee", image="127.0.0.1:5000/busybox:1", name="web",
            app="x")
HEALTH = msg("container", "health_status: healthy", "c0ffee", image="busybox", name="web")
PULL = msg("image", "pull", "busybox:latest", name="busybox")
VOL = msg("volume", "create", "data", driver="local")


@pytest.mark.parametrize(("filters", "expected"), [
    ({}, [START, HEALTH, PULL, VOL]),
    ({"type": ["container"]}, [START, HEALTH]),
    ({"type": ["image", "volume"]}, [PULL, VOL]),  # one key: ORed
    ({"type": ["container"], "event": ["start"]}, [START]),  # two keys: ANDed
    ({"event": ["health_status"]}, [HEALTH]),  # Docker's prefix match for these
    ({"event": ["health"]}, []),
    ({"container": ["we"]}, [START, HEALTH]),  # by name prefix
    ({"container": ["c0f"]}, [START, HEALTH]),  # by id prefix
    ({"volume": ["data"]}, [VOL]),
    ({"image": ["busybox"]}, [HEALTH, PULL]),  # name, and the tag stripped
    ({"image": ["127.0.0.1:5000/busybox"]}, [START]),
    ({"label": ["app=x"]}, [START]),
    ({"label": ["app=y"]}, []),
])
def test_matches_follows_dockers_filter(filters: dict, expected: list) -> None:
    assert [e for e in (START, HEALTH, PULL, VOL) if events.matches(e, filters)] == expected


def test_validate_names_an_unknown_filter() -> None:
    events.validate({"type": ["container"], "label": ["a"]})
    with pytest.raises(UsageError, match="invalid filter 'status'"):
        events.validate({"status": ["running"]})


def test_pretty_is_the_docker_cli_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        assert events.pretty(START) == (
            "2023-11-14T22:13:20.123456789Z container start c0ffee "
            "(app=x, image=127.0.0.1:5000/busybox:1, name=web)")
        bare = eventlog.message("image", "delete", "sha256:ab", {}, now_ns=1_700_000_000 * 10**9)
        assert events.pretty(bare) == "2023-11-14T22:13:20.000000000Z image delete sha256:ab"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_read_keeps_the_window_and_the_rotated_file(tmp_path: Path) -> None:
    path = eventlog.path_in(tmp_path)
    os.mkdir(tmp_path / "events")
    ns = 1_700_000_000 * 10**9
    write(path, *(msg("volume", "create", f"v{i}", ns + i * 10**9) for i in range(6)),
          limit=600)
    assert os.path.exists(path + ".1")  # rotated at least once
    ids = [e["Actor"]["ID"] for e in events.read(path, since=1_700_000_002,
                                                 until=1_700_000_004)]
    assert ids == ["v2", "v3", "v4"]


def test_a_torn_line_is_skipped(tmp_path: Path) -> None:
    path = str(tmp_path / "events.log")
    Path(path).write_bytes(b'{"Type":"volume"\n' + json.dumps(VOL).encode() + b"\n{\"Ty")
    assert [e["Actor"]["ID"] for e in events.read(path)] == ["data"]


def test_a_follower_sees_new_events_across_rotations(tmp_path: Path) -> None:
    path = eventlog.path_in(tmp_path)
    os.mkdir(tmp_path / "events")
    write(path, msg("volume", "create", "old"))
    seen: list[str] = []
    until = time.time() + 4  # room for a loaded host: the reader must not stop early
    reader = threading.Thread(target=lambda: seen.extend(
        e["Actor"]["ID"] for e in events.read(path, until=until, follow=True)))
    reader.start()
    names = [f"v{i}" for i in range(40)]
    for name in names:
        write(path, msg("volume", "create", name, time.time_ns()), limit=700)
        time.sleep(0.02)  # a follower is one rotation behind at most, even on a busy host
    deadline = time.monotonic() + 3
    while len(seen) < len(names) + 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert seen == ["old", *names]  # until given: the history, then every new one in order
    assert os.path.getsize(path) < 700 + 300
    reader.join(5)
    assert not reader.is_alive()  # following ends once `until` has passed
