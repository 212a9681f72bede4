"""Issue 13's last acceptance point: docs/ has an API page saying how to start the service
(by hand, by systemd socket activation, over `DOCKER_HOST=ssh://`), what is served and
what differs from Docker."""

from __future__ import annotations

from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api.md"


def test_the_api_page_covers_starting_serving_and_differences() -> None:
    text = PAGE.read_text()
    for needed in ("pyc system service --time 0", "--install", "LISTEN_FDS",
                   "DOCKER_HOST=ssh://", "pyc system dial-stdio", "## What is served",
                   "## Differences from Docker", "TESTCONTAINERS_RYUK_DISABLED"):
        assert needed in text, needed
