"""The one error type services raise for bad input or a refused action.

Views and viewsets do not translate it: the API's exception handler turns it into
`{"code", "message", "details"}` with its HTTP status, and console views show `message`.
"""

from __future__ import annotations


class ServiceError(ValueError):
    """A refused request with a stable `code`, e.g. `ServiceError("invalid_range", "...")`."""

    status = 400

    def __init__(
        self, code: str, message: str, status: int | None = None, details: dict | None = None
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.details = details or {}
