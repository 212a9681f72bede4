"""Network facts more than one module needs, importable without slirp4netns's machinery
(`network ls` shows the default network's subnet on every call)."""

from __future__ import annotations

#: slirp4netns's default network (its `--cidr`), shown as the `slirp4netns` network's subnet
DEFAULT_CIDR = "10.0.2.0/24"
