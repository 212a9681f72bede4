"""`python -m pycontainer.supervisor CONFIG SYNC_FD [ROWS COLS]` (started by ops.lifecycle),
or `--resume CONFIG STATE` (a supervisor forked from the CLI, re-executed once the container
runs: supervisor.main.Supervisor._reexec)."""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--version":
        import pycontainer

        print(pycontainer.__version__)
        return 0
    from pycontainer.supervisor import main as sup
    from pycontainer.supervisor.protocol import SupervisorConfig

    if argv and argv[0] == "--resume":  # re-executed by a supervisor forked from the CLI
        return sup.resume(SupervisorConfig.load(argv[1]), argv[2])
    cfg = SupervisorConfig.load(argv[0])
    size = (int(argv[2]), int(argv[3])) if len(argv) >= 4 else None
    return sup.serve(cfg, int(argv[1]), size)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
