"""The error a refused blocklist change raises: a stable code and a message."""

from __future__ import annotations

from sesconsole.lib.errors import ServiceError


class BlocklistError(ServiceError):
    """A refused change; the API answers it as `{"code", "message"}`, pages show `message`."""
