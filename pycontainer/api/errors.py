"""pyc's errors as Docker's error responses: `{"message": ...}` with Docker's status codes.

The one place the API turns exceptions into statuses (as `cli/exits.py` is for exit codes).
docker-py tells "no such image" from other 404s by the message, so NotFound messages keep
Docker's wording.
"""

from __future__ import annotations

from pycontainer import errors as e
from pycontainer.api.wire import JSON, ApiError

#: most specific first
STATUS: tuple[tuple[type[BaseException], int], ...] = (
    (ApiError, 0),
    (e.NotFound, 404),
    (e.RegistryNotFound, 404),
    (e.InvalidTransition, 409),
    (e.Conflict, 409),
    (e.InvalidReference, 400),
    (e.UsageError, 400),
    (e.AuthError, 401),
    (e.UnsafeArchive, 400),
    (e.RegistryError, 500),
    (e.PycError, 500),
)


def status_of(exc: BaseException) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def message_of(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(message)


def response_for(exc: BaseException) -> JSON:
    return JSON({"message": message_of(exc)}, status_of(exc))
