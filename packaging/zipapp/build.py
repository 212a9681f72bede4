#!/usr/bin/env python3
"""Build dist/pyc.pyz: pyc and its dependencies in one file that plain `python3` runs.

    python3 packaging/zipapp/build.py [--out dist/pyc.pyz] [--pythons 3.11,3.12,3.13,3.14]

The dependencies come from PyPI (`pip install --target`), as wheels only. typer needs pydantic,
whose pydantic_core is compiled: every distribution holding extension modules is put under
`_native/cp3XY/` once per supported CPython version (wheels for this machine's platform), and
the bootstrap (bootstrap.py, the archive's __main__) extracts the archive once per user and
merges the tree matching the running Python. So the archive is tied to this CPU architecture
and the listed Python versions, not to the building Python.

Runs with any Python >= 3.11 that has pip (the harness uses its venv).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipapp
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
DEFAULT_PYTHONS = "3.11,3.12,3.13,3.14"


def log(msg: str) -> None:
    sys.stderr.write(f"build.py: {msg}\n")


def dependencies() -> list[str]:
    with open(REPO / "pyproject.toml", "rb") as f:
        return list(tomllib.load(f)["project"]["dependencies"])


def pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stdout + res.stderr)
        raise SystemExit(f"build.py: pip failed: {' '.join(cmd)}")


def platform_tags() -> list[str]:
    machine = platform.machine()
    # manylinux2014 == manylinux_2_17; 2_28 covers newer wheels; this host's glibc runs both
    return [f"manylinux2014_{machine}", f"manylinux_2_17_{machine}",
            f"manylinux_2_28_{machine}", f"linux_{machine}"]


def native_distributions(target: Path) -> dict[str, tuple[str, list[str]]]:
    """{distribution: (version, [its top-level paths])} for those with extension modules."""
    found: dict[str, tuple[str, list[str]]] = {}
    for info in target.glob("*.dist-info"):
        record = info / "RECORD"
        if not record.is_file():
            continue
        files = [line.split(",", 1)[0] for line in record.read_text().splitlines() if line]
        if not any(f.endswith((".so", ".pyd")) for f in files):
            continue
        name, version = info.name[: -len(".dist-info")].rsplit("-", 1)
        tops = sorted({f.split("/", 1)[0] for f in files if not f.startswith("..")})
        found[name] = (version, tops)
    return found


def move_native(target: Path, native_root: Path, pythons: list[str]) -> list[str]:
    """Move compiled distributions out of the pure tree into _native/<tag>/ per Python."""
    natives = native_distributions(target)
    if not natives:
        return []
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    tags = []
    for version in pythons:
        tag = "cp" + version.replace(".", "")
        dest = native_root / tag
        dest.mkdir(parents=True)
        if version == here:
            for _, tops in natives.values():
                for top in tops:
                    src = target / top
                    if src.is_dir():
                        shutil.copytree(src, dest / top)
                    elif src.exists():
                        shutil.copy2(src, dest / top)
        else:
            specs = [f"{name}=={ver}" for name, (ver, _) in natives.items()]
            plat: list[str] = []
            for p in platform_tags():
                plat += ["--platform", p]
            try:
                pip("install", "--quiet", "--no-deps", "--no-compile", "--only-binary=:all:",
                    "--python-version", version, "--implementation", "cp", *plat,
                    "--target", str(dest), *specs)
            except SystemExit:
                log(f"no wheels of {', '.join(specs)} for Python {version}: leaving it out")
                shutil.rmtree(dest)
                continue
        shutil.rmtree(dest / "bin", ignore_errors=True)
        tags.append(tag)
    for _, tops in natives.values():
        for top in tops:
            path = target / top
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    return tags


def tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:32]


def build(out: Path, pythons: list[str]) -> Path:
    with tempfile.TemporaryDirectory(prefix="pyc-zipapp-") as tmp:
        app = Path(tmp) / "app"
        log("installing dependencies from PyPI")
        pip("install", "--quiet", "--no-compile", "--only-binary=:all:", "--target", str(app),
            *dependencies())
        shutil.rmtree(app / "bin", ignore_errors=True)
        tags = move_native(app, app / "_native", pythons)
        if tags:
            log(f"compiled dependencies for: {', '.join(tags)}")
        shutil.copytree(REPO / "pycontainer", app / "pycontainer",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for cache in app.rglob("__pycache__"):
            shutil.rmtree(cache, ignore_errors=True)
        bootstrap = (HERE / "bootstrap.py").read_text()
        build_id = hashlib.sha256((tree_hash(app) + bootstrap).encode()).hexdigest()[:32]
        main = bootstrap.replace("@BUILD_ID@", build_id)
        (app / "__main__.py").write_text(main)
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".tmp")
        zipapp.create_archive(app, partial, interpreter="/usr/bin/env python3",
                              compressed=True)
        os.chmod(partial, 0o755)
        os.replace(partial, out)
        log(f"wrote {out} ({out.stat().st_size // 1024} KiB, build {build_id[:12]})")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--out", type=Path, default=REPO / "dist" / "pyc.pyz")
    ap.add_argument("--pythons", default=DEFAULT_PYTHONS,
                    help="CPython versions to carry compiled dependencies for")
    args = ap.parse_args(argv)
    pythons = [v.strip() for v in args.pythons.split(",") if v.strip()]
    here = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if here not in pythons:
        pythons.append(here)
    print(build(args.out.absolute(), pythons))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
