"""`pyc system df` and `pyc system prune` with real containers, images, volumes, networks and
build cache: Docker's table, verbose sections, --format, warning text, sections and totals."""

from __future__ import annotations

import json
from pathlib import Path

from helpers.runner import Pyc

DOCKERFILE = """\
FROM {busybox} AS stage1
RUN echo one > /one
FROM {busybox}
COPY --from=stage1 /one /one
CMD ["cat", "/one"]
"""


def summary(pyc: Pyc) -> dict[str, dict[str, str]]:
    out = pyc.ok("system", "df", "--format", "json").out
    rows = [json.loads(line) for line in out.splitlines()]
    return {r["Type"]: r for r in rows}


def test_df_table_counts_and_sizes(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    empty = pyc.ok("system", "df").out.splitlines()
    assert empty[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert [ln.split("   ")[0].strip() for ln in empty[1:]] == [
        "Images", "Containers", "Local Volumes", "Build Cache"]
    assert empty[1].split()[1:] == ["0", "0", "0B", "0B"]

    pyc.ok("pull", bb)
    pyc.ok("run", "--name", "stopped", bb, "sh", "-c",
           "dd if=/dev/zero of=/big bs=1k count=200 2>/dev/null")
    pyc.ok("run", "-d", "--name", "up", "-v", "used:/data", bb, "sleep", "60")
    pyc.ok("volume", "create", "idle")
    pyc.ok("run", "--rm", "-v", "idle:/d", bb, "sh", "-c",
           "dd if=/dev/zero of=/d/f bs=1k count=100 2>/dev/null")

    s = summary(pyc)
    assert set(s["Images"]) == {"Type", "TotalCount", "Active", "Size", "Reclaimable"}
    assert (s["Images"]["TotalCount"], s["Images"]["Active"]) == ("1", "1")
    assert s["Images"]["Reclaimable"] == "0B (0%)"
    assert (s["Containers"]["TotalCount"], s["Containers"]["Active"]) == ("2", "1")
    # the stopped container's 200 KiB file is its writable layer, all reclaimable
    assert s["Containers"]["Size"] == "204.8kB"
    assert s["Containers"]["Reclaimable"] == "204.8kB (100%)"
    assert (s["Local Volumes"]["TotalCount"], s["Local Volumes"]["Active"]) == ("2", "1")
    assert s["Local Volumes"]["Reclaimable"].endswith("(100%)")
    assert s["Local Volumes"]["Size"].endswith("kB")
    assert s["Build Cache"]["TotalCount"] == "0"

    out = pyc.ok("system", "df", "--format", "{{.Type}}: {{.TotalCount}}").out
    assert out == "Images: 1\nContainers: 2\nLocal Volumes: 2\nBuild Cache: 0\n"
    out = pyc.ok("system", "df", "--format", "table {{.Type}}\\t{{.Active}}").out
    assert out.splitlines()[0].split() == ["TYPE", "ACTIVE"]
    assert out.splitlines()[2].split() == ["Containers", "1"]


def test_df_verbose_sections(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    pyc.ok("pull", bb)
    pyc.ok("create", "--name", "one", "-v", "vol1:/v", bb, "true")
    out = pyc.ok("system", "df", "-v").out
    lines = out.splitlines()
    for title in ("Images space usage:", "Containers space usage:",
                  "Local Volumes space usage:", "Build cache usage: 0B"):
        assert title in lines
    img_header = lines[lines.index("Images space usage:") + 2]
    assert img_header.split("   ")[0] == "REPOSITORY"
    for col in ("IMAGE ID", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"):
        assert col in img_header
    img_row = lines[lines.index("Images space usage:") + 3].split()
    assert img_row[0] == bb.rsplit(":", 1)[0] and img_row[1] == "latest"
    assert img_row[-1] == "1"
    c_header = lines[lines.index("Containers space usage:") + 2]
    for col in ("CONTAINER ID", "LOCAL VOLUMES", "SIZE", "STATUS", "NAMES"):
        assert col in c_header
    c_row = lines[lines.index("Containers space usage:") + 3]
    assert c_row.endswith("one") and "Created" in c_row
    v_header = lines[lines.index("Local Volumes space usage:") + 2]
    assert v_header.split() == ["VOLUME", "NAME", "LINKS", "SIZE"]
    assert lines[lines.index("Local Volumes space usage:") + 3].split()[:2] == ["vol1", "1"]
    assert "CACHE ID" in lines[lines.index("Build cache usage: 0B") + 2]

    obj = json.loads(pyc.ok("system", "df", "-v", "--format", "json").out)
    assert set(obj) == {"Images", "Containers", "Volumes", "BuildCache"}
    assert obj["Volumes"][0]["Name"] == "vol1"
    assert obj["Containers"][0]["Names"] == "one"


def test_prune_prompt_and_cancel(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    pyc.ok("pull", bb)
    pyc.ok("create", "--name", "keep", bb, "true")
    res = pyc.ok("system", "prune", input="n\n")
    assert res.out == ("WARNING! This will remove:\n"
                       "  - all stopped containers\n"
                       "  - all networks not used by at least one container\n"
                       "  - all dangling images\n"
                       "  - unused build cache\n\n"
                       "Are you sure you want to continue? [y/N] ")
    assert "keep" in pyc.ok("ps", "-a", "--format", "{{.Names}}").out
    res = pyc.ok("system", "prune", "-a", "--volumes", "--filter", "label=a=b", input="")
    assert res.out == ("WARNING! This will remove:\n"
                       "  - all stopped containers\n"
                       "  - all networks not used by at least one container\n"
                       "  - all anonymous volumes not used by at least one container\n"
                       "  - all images without at least one container associated to them\n"
                       "  - all build cache\n\n"
                       "  Items to be pruned will be filtered with:\n"
                       "  - label=a=b\n\n"
                       "Are you sure you want to continue? [y/N] ")
    assert "keep" in pyc.ok("ps", "-a", "--format", "{{.Names}}").out


def test_prune_removes_what_is_unused(pyc: Pyc, fixture_refs: dict[str, str],
                                      tmp_path: Path) -> None:
    bb = fixture_refs["busybox"]
    pyc.ok("pull", bb)
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text(DOCKERFILE.format(busybox=bb))
    pyc.ok("build", "-t", "built", str(ctx))
    assert int(summary(pyc)["Build Cache"]["TotalCount"]) > 0
    stopped = pyc.ok("create", "--name", "stopped", "-v", "/anon", bb, "true").out.strip()
    pyc.ok("run", "-d", "--name", "up", bb, "sleep", "60")
    pyc.ok("network", "create", "spare")
    pyc.ok("volume", "create", "named")

    res = pyc.ok("system", "prune", "-f")
    out = res.out
    assert "WARNING" not in out
    assert f"Deleted Containers:\n{stopped}\n\n" in out
    assert "Deleted Networks:\nspare\n\n" in out
    assert "Deleted Volumes:" not in out
    assert out.splitlines()[-1].startswith("Total reclaimed space: ")
    names = pyc.ok("ps", "-a", "--format", "{{.Names}}").out.split()
    assert names == ["up"]
    assert "spare" not in pyc.ok("network", "ls", "--format", "{{.Name}}").out
    # the anonymous volume is unused now, but only --volumes prunes it
    vols = pyc.ok("volume", "ls", "-q").out.split()
    assert "named" in vols and len(vols) == 2

    res = pyc.ok("system", "prune", "-a", "-f", "--volumes")
    out = res.out
    assert "Deleted Volumes:\n" in out
    assert "Deleted Images:\nuntagged: built:latest\ndeleted: sha256:" in out
    assert "Deleted build cache objects:\n" in out
    vols = pyc.ok("volume", "ls", "-q").out.split()
    assert vols == ["named"]  # named volumes stay, as with Docker >= 23
    images = pyc.ok("images", "--format", "{{.Repository}}").out.split()
    assert images == [bb.rsplit(":", 1)[0]]  # the running container's image stays
    s = summary(pyc)
    assert s["Build Cache"]["TotalCount"] == "0"
    assert (s["Images"]["TotalCount"], s["Containers"]["TotalCount"]) == ("1", "1")

    pyc.ok("rm", "-f", "up")
    out = pyc.ok("system", "prune", "-af").out
    assert "Deleted Containers:" not in out
    assert "Deleted Images:\nuntagged: " in out
    reclaimed = out.splitlines()[-1]
    assert reclaimed.startswith("Total reclaimed space: ") and reclaimed.endswith("MB")
    assert pyc.ok("images", "-q").out == ""


def test_prune_filters(pyc: Pyc, fixture_refs: dict[str, str]) -> None:
    bb = fixture_refs["busybox"]
    pyc.ok("pull", bb)
    a = pyc.ok("create", "--label", "tier=a", bb, "true").out.strip()
    b = pyc.ok("create", "--label", "tier=b", bb, "true").out.strip()
    pyc.ok("network", "create", "--label", "tier=a", "na")
    pyc.ok("network", "create", "nb")
    out = pyc.ok("system", "prune", "-f", "--filter", "label=tier=a").out
    assert f"Deleted Containers:\n{a}\n\n" in out and b not in out
    assert "Deleted Networks:\nna\n\n" in out
    left = pyc.ok("ps", "-aq", "--no-trunc").out.split()
    assert left == [b]
    # until: nothing was created 1h ago
    out = pyc.ok("system", "prune", "-af", "--filter", "until=1h").out
    assert out == "Total reclaimed space: 0B\n"
    out = pyc.ok("system", "prune", "-f", "--filter", "label!=tier=b").out
    assert b not in out and "Deleted Networks:\nnb\n" in out
    pyc.fail("system", "prune", "-f", "--volumes", "--filter", "until=1h")
    pyc.fail("system", "prune", "-f", "--filter", "bogus=1")
    assert pyc.ok("ps", "-aq", "--no-trunc").out.split() == [b]
