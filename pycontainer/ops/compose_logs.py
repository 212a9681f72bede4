"""The logs of several containers multiplexed, each line prefixed with its container's name
(`web-1  | line`, coloured on a terminal) as `compose logs` and an attached `compose up`
print them; one reader thread per container."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from pycontainer.errors import PycError
from pycontainer.ops.compose_lookup import Member
from pycontainer.ops.logs import LogLine, LogsOptions
from pycontainer.paths import Paths

#: Compose's palette (cyan, yellow, green, magenta, blue, then the bright ones)
_COLOURS = ("36", "33", "32", "35", "34", "96", "93", "92", "95", "94")


def short_name(m: Member, project: str) -> str:
    """Compose's prefix: the container name without `<project>-` (container_name as is)."""
    name = m.entry.name
    return name[len(project) + 1:] if name.startswith(project + "-") else name


@dataclass
class Prefixer:
    """Formats one line: the name padded to the widest, `|`, the text."""

    names: list[str]
    colour: bool
    prefix: bool = True
    timestamps: bool = False

    def line(self, name: str, line: LogLine) -> str:
        text = line.text if line.text.endswith("\n") else line.text + "\n"
        if self.timestamps:
            text = f"{line.time} {text}"
        if not self.prefix:
            return text
        width = max((len(n) for n in self.names), default=0) + 1
        head = f"{name:<{width}} |"
        if self.colour:
            index = self.names.index(name) if name in self.names else 0
            head = f"\x1b[{_COLOURS[index % len(_COLOURS)]}m{head}\x1b[0m"
        return f"{head} {text}"


def follow(paths: Paths, targets: list[tuple[str, str]], opts: LogsOptions,
           write: Callable[[str, LogLine], None],
           ended: queue.Queue[str] | None = None,
           stop: threading.Event | None = None) -> list[threading.Thread]:
    """A reader thread per (name, container id): each line to `write(name, line)` (under a
    lock: lines never interleave); `name` into `ended` when its container's log ends."""
    lock = threading.Lock()

    def one(name: str, cid: str) -> None:
        from pycontainer.ops import logs

        try:
            for line in logs.read(paths, cid, opts,
                                  stop=None if stop is None else stop.is_set):
                with lock:
                    write(name, line)
                if stop is not None and stop.is_set():
                    break
        except PycError:
            pass  # removed meanwhile: its log is over
        finally:
            if ended is not None:
                ended.put(name)

    threads = [threading.Thread(target=one, args=t, daemon=True) for t in targets]
    for t in threads:
        t.start()
    return threads
