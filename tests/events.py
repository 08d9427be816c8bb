"""Wire-format events for tests."""

from __future__ import annotations

import itertools

_ids = itertools.count(1)


def make_event(type: str = "request", message_id: str = "msg-1", **fields) -> dict:
    event = {
        "id": fields.pop("id", f"evt-{next(_ids)}"),
        "type": type,
        "timestamp": fields.pop("timestamp", "2026-11-28T10:00:00Z"),
        "message_id": message_id,
    }
    if type in ("request", "rejected"):
        event["from"] = "news@mail.example.com"
        event["to"] = "alice@gmail.com"
    event.update(fields)
    return event
