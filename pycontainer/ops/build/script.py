"""RUN scripts too long for one exec argument (Linux's MAX_ARG_STRLEN: 128 KiB each, and
ARG_MAX for all of them with the environment).

A shell-form RUN (`SHELL ... -c SCRIPT`, the default `/bin/sh -c`) whose script is longer is
delivered as a file instead: the script is written to the step's work dir, bind-mounted
read-only into the container, and the shell is told `-c '. FILE'`, which runs it in that
same shell (same options, `$0`, exit status) as `-c SCRIPT` would. The mount point is one of
the step's mount stubs, so it is not part of the layer. Anything else that is too long
(an exec-form argument) is refused with an error naming the limit.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from pycontainer.errors import BuildError

if TYPE_CHECKING:
    from pycontainer.oci.runtime import Mount

#: the kernel's per-argument limit (32 pages), less the terminating NUL
MAX_ARG_STRLEN = 32 * 4096 - 1
#: what a step's argv and environment together may take: a quarter of the usual 8 MiB
#: stack is 2 MiB; pyc keeps well below it (pointers and the auxiliary vector count too)
MAX_ARGV_TOTAL = 1 << 20
#: where the script appears inside the container
SCRIPT_PATH = "/.pyc-run-script"


def deliver(args: list[str], env: list[str], work: Path) -> tuple[list[str], list[Mount]]:
    """`args` as the step runs them, and the extra mounts (oci.runtime.Mount) that needs."""
    from pycontainer.oci.runtime import Mount

    if _fits(args, env):
        return list(args), []
    if _shell_form(args):
        script = work / "run-script"
        script.write_bytes(os.fsencode(args[-1]))
        os.chmod(script, 0o444)
        out = [*args[:-1], f". {SCRIPT_PATH}"]
        if _fits(out, env):
            return out, [Mount(SCRIPT_PATH, "bind", str(script), ["rbind", "ro"])]
    longest = max(len(os.fsencode(a)) for a in args)
    raise BuildError(f"RUN: the command line is too long for exec ({longest} bytes in one "
                     f"argument; Linux allows {MAX_ARG_STRLEN + 1} per argument and about "
                     "2 MiB in all): use the shell form, or a script file")


#: shells whose `-c '. FILE'` runs FILE as `-c` would run its text (POSIX `.`)
SHELLS = frozenset({"sh", "bash", "ash", "dash", "ksh", "mksh", "zsh", "busybox"})


def _shell_form(args: list[str]) -> bool:
    """`SHELL... -c SCRIPT` (or `-ec`, `-o pipefail -c`): a POSIX shell's script."""
    flag = args[-2] if len(args) >= 2 else ""
    return (os.path.basename(args[0]) in SHELLS and flag.startswith("-")
            and not flag.startswith("--") and flag.endswith("c"))


def _fits(args: list[str], env: list[str]) -> bool:
    sizes = [len(os.fsencode(a)) for a in args]
    total = sum(sizes) + sum(len(os.fsencode(e)) for e in env)
    return max(sizes, default=0) <= MAX_ARG_STRLEN and total <= MAX_ARGV_TOTAL
