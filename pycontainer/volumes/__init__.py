"""Named volumes (`pyc volume ...`, `-v NAME:/path`): the store of volume records and content.

A component: it may use the base modules and `linux`; the ops layer tells it which volumes
containers use.
"""

from pycontainer.volumes.store import PruneReport, Volume, VolumeStore, inspect_json

__all__ = ["PruneReport", "Volume", "VolumeStore", "inspect_json"]
