"""pyc.pyz's __main__: extract once into a per-user cache, then run pyc from there.

Why extract (like shiv) rather than run from the zip: imports from a directory are faster
than zipimport on every start, the per-container supervisor re-executes pyc's modules with
`python -S` from a directory on sys.path (pycontainer.selfexec), and typer needs pydantic,
whose pydantic_core is a compiled extension that cannot be imported from a zip.

The cache dir is ~/.cache/pycontainer/zipapp/<build id>-<python tag> ($XDG_CACHE_HOME is
honoured), then /tmp/pycontainer-zipapp-<uid>/... when the home cache is not writable.
The build id is a hash of everything in the archive, so a new build never reuses an old tree.
Extraction goes to a temp dir that is renamed into place, so concurrent first runs are safe.

This file is copied into the archive by build.py with BUILD_ID filled in; it imports only
the standard library and runs under `python3 -S` too.
"""

from __future__ import annotations

import os
import stat
import sys

# zipfile, shutil and tempfile are imported only when extracting: they cost ~40 ms at every
# start otherwise, and after the first run the tree is already there.

BUILD_ID = "@BUILD_ID@"
MIN_PYTHON = (3, 11)
NATIVE = "_native"  # _native/cp3XY/: compiled dependencies, one tree per CPython version
COMPLETE = ".complete"


class Unsupported(Exception):
    pass


def _fail(message: str) -> None:
    sys.stderr.write(f"Error: {message}\n")
    sys.exit(125)


def _python_tag() -> str:
    return f"cp{sys.version_info[0]}{sys.version_info[1]}"


def _cache_bases() -> list[str]:
    bases = []
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    home = os.path.expanduser("~")
    if xdg and os.path.isabs(xdg):
        bases.append(os.path.join(xdg, "pycontainer", "zipapp"))
    elif os.path.isabs(home):
        bases.append(os.path.join(home, ".cache", "pycontainer", "zipapp"))
    tmp = os.environ.get("TMPDIR", "")
    tmp = tmp if os.path.isabs(tmp) and os.path.isdir(tmp) else "/tmp"
    bases.append(os.path.join(tmp, f"pycontainer-zipapp-{os.getuid()}"))
    return bases


def _private_dir(path: str) -> None:
    """Create `path` 0700; refuse a symlink or someone else's directory (shared /tmp)."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode) or not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid():
        raise PermissionError(f"{path} is not a directory owned by this user")


def _compile(tree: str) -> None:
    """Byte-compile the tree once (about a second), so no start pays for it again.

    Unchecked-hash .pyc files stay valid although extraction gave the sources new mtimes,
    and they do not depend on PYTHONDONTWRITEBYTECODE or on the tree staying writable.
    """
    import compileall
    import py_compile

    compileall.compile_dir(tree, quiet=2, workers=1,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)


def _extract(archive: str, base: str) -> str:
    target = os.path.join(base, f"{BUILD_ID}-{_python_tag()}")
    if os.path.isfile(os.path.join(target, COMPLETE)):
        return target
    import shutil
    import tempfile
    import zipfile

    _private_dir(base)
    tmp = tempfile.mkdtemp(prefix=".extract-", dir=base)
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp)
        # Put this Python's compiled dependencies next to the pure ones, so that the package
        # root alone (what selfexec puts on sys.path) is enough to import everything.
        native = os.path.join(tmp, NATIVE)
        mine = os.path.join(native, _python_tag())
        if os.path.isdir(native) and not os.path.isdir(mine):
            raise Unsupported(f"this pyc.pyz has no compiled dependencies for Python "
                              f"{sys.version.split()[0]} (it has: "
                              f"{', '.join(sorted(os.listdir(native)))})")
        if os.path.isdir(mine):
            for name in os.listdir(mine):
                os.replace(os.path.join(mine, name), os.path.join(tmp, name))
        shutil.rmtree(native, ignore_errors=True)
        _compile(tmp)
        with open(os.path.join(tmp, COMPLETE), "w"):
            pass
        try:
            os.rename(tmp, target)
        except OSError:
            if not os.path.isfile(os.path.join(target, COMPLETE)):
                raise
            shutil.rmtree(tmp, ignore_errors=True)  # another first run won the race
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def main() -> None:
    if sys.version_info < MIN_PYTHON:
        _fail(f"pyc needs Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer, not "
              f"{sys.version.split()[0]}")
    archive = os.path.dirname(os.path.abspath(__file__))
    root = None
    tried = []
    for base in _cache_bases():
        try:
            root = _extract(archive, base)
            break
        except OSError as exc:
            tried.append(f"{base}: {exc}")
        except Unsupported as exc:
            _fail(str(exc))
    # Never import pyc from the archive when an extracted tree exists: one copy only.
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != archive]
    sys.path.insert(0, root or archive)
    if root is None:
        # Running from the zip works only if no compiled dependency is needed (they sit in
        # _native/, unimportable from a zip): find out now, not halfway through a command.
        try:
            import pydantic_core  # noqa: F401
        except ImportError as exc:
            _fail(f"pyc.pyz could not extract itself ({'; '.join(tried)}) and cannot run "
                  f"from the zip ({exc}); set XDG_CACHE_HOME to a writable directory")
    from pycontainer.__main__ import main as pyc_main

    pyc_main()


if __name__ == "__main__":
    main()
