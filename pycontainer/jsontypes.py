"""The type of a JSON object whose values the holder passes on without looking into them
(records written as they came, Docker's JSON shapes handed to the CLI or the API).

Imported for annotations only (`if TYPE_CHECKING:`), so it costs no command anything."""

from __future__ import annotations

JSON = dict[str, object]
