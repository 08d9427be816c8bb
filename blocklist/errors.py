"""The error a refused blocklist change raises: a stable code and a message."""

from __future__ import annotations


class BlocklistError(ValueError):
    """A refused change, with a stable code for the API and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message
