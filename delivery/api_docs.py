"""OpenAPI descriptions of the bodies that no serializer reads: the event batch
(docs/events.md) and the raw returned report."""

from __future__ import annotations

from .models import BounceClass, EventType

_TEXT = {"type": "string"}

EVENT = {
    "type": "object",
    "description": "One delivery event (docs/events.md).",
    "properties": {
        "id": {**_TEXT, "maxLength": 128, "description": "Idempotency key within the account."},
        "type": {"type": "string", "enum": list(EventType.values)},
        "timestamp": {
            "oneOf": [
                {"type": "string", "format": "date-time"},
                {"type": "integer", "description": "Epoch milliseconds."},
            ],
            "description": "ISO-8601 with an offset, or epoch milliseconds; not before 2000.",
        },
        "message_id": {**_TEXT, "maxLength": 128},
        "from": {**_TEXT, "description": "On `request` and `rejected`."},
        "to": {**_TEXT, "description": "On `request` and `rejected`."},
        "subject": {**_TEXT, "maxLength": 998},
        "smtp": {
            "type": "object",
            "properties": {
                "code": {"type": "integer", "minimum": 200, "maximum": 599},
                "enhanced": {**_TEXT, "description": "RFC 3463 status, e.g. `5.1.1`."},
                "text": _TEXT,
            },
        },
        "bounce_class": {"type": "string", "enum": list(BounceClass.values)},
        "bounce_evidence": {"type": "string", "enum": ["dsn_5_1_x", "text_5_1_x", "wording"]},
        "reason": {**_TEXT, "maxLength": 64},
        "url": {**_TEXT, "format": "uri"},
        "user_agent": _TEXT,
        "ip": _TEXT,
        "machine": {"type": "boolean", "default": False},
    },
    "required": ["id", "type", "timestamp", "message_id"],
}

# A refused item never stops the others: any JSON value is taken and, when it is not a
# valid event, reported in `errors` of a 200 answer. The schema says so with `anyOf`.
_ITEM = {
    "anyOf": [EVENT, {"description": "Any other value: refused by item in `errors`."}],
}
_ITEMS = {"type": "array", "items": _ITEM, "maxItems": 1000}

EVENT_BATCH = {
    "description": 'A JSON array of at most 1,000 events, or an object `{"events": [...]}`.',
    "oneOf": [
        _ITEMS,
        {"type": "object", "properties": {"events": _ITEMS}, "required": ["events"]},
    ],
}

RAW_REPORT = {
    "type": "string",
    "format": "binary",
    "minLength": 1,
    "description": "The returned report as received (RFC 5322): a DSN or an ARF report.",
}
