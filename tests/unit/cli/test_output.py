"""Docker's tables and JSON lines, compared with what docker / Go print (go-units texts:
tests/unit/formats)."""

from __future__ import annotations

from typing import Any

import pytest

from pycontainer.cli.output import (
    format_one,
    header_name,
    render_table,
    tabwrite,
)
from pycontainer.errors import UsageError

PS_DEFAULT = (
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"
)
PS_HEADERS = {"ID": "CONTAINER ID", "RunningFor": "CREATED"}
PS_ROWS: list[dict[str, Any]] = [
    {"ID": "ea09c3c82f6e", "Image": "registry:latest", "Command": '"/srv/run.sh"',
     "RunningFor": "2 weeks ago", "Status": "Exited (0) 2 weeks ago",
     "Ports": "127.0.0.1:5000->5000/tcp", "Names": "desperate_leakey", "Size": "0B"},
    {"ID": "b3e1c0ed5bfe", "Image": "ubuntu:latest", "Command": '"sleep 1000"',
     "RunningFor": "12 seconds ago", "Status": "Exited (137) 5 seconds ago", "Ports": "",
     "Names": "grave_kowalevski", "Size": "0B"},
]
IMAGES_DEFAULT = (
    "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t"
    "{{if .CreatedSince }}{{.CreatedSince}}{{else}}N/A{{end}}\t{{.Size}}"
)
IMAGES_HEADERS = {"ID": "IMAGE ID", "CreatedSince": "CREATED"}


def test_ps_default_table() -> None:
    assert render_table(PS_ROWS, None, PS_DEFAULT, PS_HEADERS) == (
        "CONTAINER ID   IMAGE             COMMAND         CREATED          "
        "STATUS                       PORTS                      NAMES\n"
        'ea09c3c82f6e   registry:latest   "/srv/run.sh"   2 weeks ago      '
        "Exited (0) 2 weeks ago       127.0.0.1:5000->5000/tcp   desperate_leakey\n"
        'b3e1c0ed5bfe   ubuntu:latest     "sleep 1000"    12 seconds ago   '
        "Exited (137) 5 seconds ago                              grave_kowalevski\n"
    )


def test_table_keyword_alone_is_the_default() -> None:
    assert render_table(PS_ROWS, "table", PS_DEFAULT, PS_HEADERS) == render_table(
        PS_ROWS, None, PS_DEFAULT, PS_HEADERS
    )
    assert render_table(PS_ROWS, "", PS_DEFAULT, PS_HEADERS) == render_table(
        PS_ROWS, None, PS_DEFAULT, PS_HEADERS
    )


def test_images_table_min_width_ten() -> None:
    # Docker's tabwriter has minwidth 10: "TAG" + 7 spaces, as `docker images` shows.
    rows = [{"Repository": "hello-world", "Tag": "latest", "ID": "d2c94e258dcb",
             "CreatedSince": "", "Size": "13.3kB"}]
    assert render_table(rows, None, IMAGES_DEFAULT, IMAGES_HEADERS) == (
        "REPOSITORY    TAG       IMAGE ID       CREATED   SIZE\n"
        "hello-world   latest    d2c94e258dcb   N/A       13.3kB\n"
    )


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [
        # literal backslash-t typed in a shell, as Docker's docs write it
        ("table {{.ID}}\\t{{.Names}}",
         "CONTAINER ID   NAMES\n"
         "ea09c3c82f6e   desperate_leakey\nb3e1c0ed5bfe   grave_kowalevski\n"),
        ("table {{.Names}}", "NAMES\ndesperate_leakey\ngrave_kowalevski\n"),
        ("table {{.Size}}\t{{.State}}",
         "SIZE      STATE\n0B        <no value>\n0B        <no value>\n"),
        ("{{.Names}}", "desperate_leakey\ngrave_kowalevski\n"),
        ("  {{.Names}}  ", "desperate_leakey\ngrave_kowalevski\n"),
        ("{{.ID}}: {{.Names}}", "ea09c3c82f6e: desperate_leakey\nb3e1c0ed5bfe: grave_kowalevski\n"),
        ("{{.ID}}\\t{{.Names}}",
         "ea09c3c82f6e\tdesperate_leakey\nb3e1c0ed5bfe\tgrave_kowalevski\n"),
        ("{{.ID}}\\n{{.Names}}",
         "ea09c3c82f6e\ndesperate_leakey\nb3e1c0ed5bfe\ngrave_kowalevski\n"),
        ("table {{.RunningFor}}\t{{upper .Names}}",
         "CREATED          NAMES\n"
         "2 weeks ago      DESPERATE_LEAKEY\n12 seconds ago   GRAVE_KOWALEVSKI\n"),
        ("table {{.ID}}\t{{.CreatedAt}}\t{{.LocalVolumes}}",
         "CONTAINER ID   CREATED AT   LOCAL VOLUMES\n"
         "ea09c3c82f6e   <no value>   <no value>\nb3e1c0ed5bfe   <no value>   <no value>\n"),
    ],
)
def test_custom_formats(fmt: str, expected: str) -> None:
    assert render_table(PS_ROWS, fmt, PS_DEFAULT, PS_HEADERS) == expected


def test_json_lines_sorted_keys() -> None:
    out = render_table(PS_ROWS[:1], "json", PS_DEFAULT, PS_HEADERS)
    assert out == (
        '{"Command":"\\"/srv/run.sh\\"","ID":"ea09c3c82f6e","Image":"registry:latest",'
        '"Names":"desperate_leakey","Ports":"127.0.0.1:5000->5000/tcp",'
        '"RunningFor":"2 weeks ago","Size":"0B","Status":"Exited (0) 2 weeks ago"}\n'
    )
    assert render_table([{"Label": lambda k: k, "A": "<b>"}], "json", "", {}) == '{"A":"<b>"}\n'


def test_no_rows() -> None:
    assert render_table([], None, PS_DEFAULT, PS_HEADERS) == (
        "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n"
    )
    assert render_table([], "{{.ID}}", PS_DEFAULT, PS_HEADERS) == ""
    assert render_table([], "json", PS_DEFAULT, PS_HEADERS) == ""


def test_methods_in_rows_and_headers() -> None:
    rows = [{"ID": "a", "Label": lambda k: {"x": "1"}.get(k, "")}]
    out = render_table(rows, 'table {{.ID}}\t{{.Label "x"}}', "", {})
    assert out == "ID        LABEL\na         1\n"


def test_strict_rows_and_bad_templates() -> None:
    with pytest.raises(UsageError, match='map has no entry for key "Nope"'):
        render_table(PS_ROWS, "{{.Nope}}", PS_DEFAULT, PS_HEADERS, strict=True)
    with pytest.raises(UsageError, match="template parsing error"):
        render_table(PS_ROWS, "{{.ID", PS_DEFAULT, PS_HEADERS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a\tb\n", "a         b\n"),
        ("abcdefghij\tb\n", "abcdefghij   b\n"),
        ("a\tb\tc\nlonger cell\tb\tc\n", "a             b         c\nlonger cell   b         c\n"),
        # a line without tabs ends a column block
        ("a\tb\nx\nlong-long-cell\tc\n", "a         b\nx\nlong-long-cell   c\n"),
        # a trailing tab makes the last text a cell, padded too
        ("a\t\n", "a         \n"),
        # lines with fewer cells still share the leading columns
        ("a\tb\tc\nd\te\n", "a         b         c\nd         e\n"),
        ("", ""),
        ("no tabs", "no tabs"),
    ],
)
def test_tabwrite(text: str, expected: str) -> None:
    assert tabwrite(text) == expected


def test_tabwrite_parameters() -> None:
    assert tabwrite("a\tb\nccc\td\n", minwidth=0, padding=1) == "a   b\nccc d\n"


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        ("ID", "CONTAINER ID"),
        ("RunningFor", "CREATED"),
        ("Names", "NAMES"),
        ("CreatedAt", "CREATED AT"),
        ("LocalVolumes", "LOCAL VOLUMES"),
        ("HealthStatus", "HEALTH STATUS"),
        ("IPAddress", "IP ADDRESS"),
        ("Size", "SIZE"),
    ],
)
def test_header_name(field: str, expected: str) -> None:
    assert header_name(field, PS_HEADERS) == expected


def test_format_one() -> None:
    assert format_one({"b": 1, "a": "<x>"}, "json") == '{"b":1,"a":"<x>"}'
    assert format_one({"Name": "/web"}, "{{.Name}}") == "/web"
