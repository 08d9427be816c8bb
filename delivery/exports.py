"""What the message and event CSV exports hold (see sesconsole.lib.csv_export)."""

from __future__ import annotations

from sesconsole.lib.csv_export import (
    CODE,
    HAPPENED,
    IP,
    NUMBER,
    TEXT,
    YES_NO,
    Column,
    instant,
)

MESSAGE_COLUMNS: list[Column] = [
    Column("message_id", "message_id", TEXT),
    Column("from", "from_address", TEXT),
    Column("to", "recipient", TEXT),
    Column("subject", "subject", TEXT),
    *instant("requested_at", "requested_at"),
    Column("status", "status", CODE),
    Column("bounce_class", "bounce_class", CODE),
    Column("response_text", "response_text", TEXT),
    Column("opened", "first_opened_at", HAPPENED),
    Column("clicked", "first_clicked_at", HAPPENED),
    Column("unsubscribed", "unsubscribed_at", HAPPENED),
    Column("complained", "complained_at", HAPPENED),
    Column("open_count", "open_count", NUMBER),
    Column("click_count", "click_count", NUMBER),
    # "no": the message's request has not arrived; `requested_at` is its earliest event's time.
    Column("request_received", "request_received", YES_NO),
]

EVENT_COLUMNS: list[Column] = [
    Column("event_id", "event_id", TEXT),
    Column("type", "type", CODE),
    *instant("timestamp", "timestamp"),
    Column("message_id", "message__message_id", TEXT),
    Column("from", "message__from_address", TEXT),
    Column("to", "message__recipient", TEXT),
    Column("subject", "message__subject", TEXT),
    # The sending time: none while the message's request has not arrived (`with_message`).
    *instant("requested_at", "message_sent_at"),
    Column("bounce_class", "bounce_class", CODE),
    Column("smtp_code", "smtp_code", NUMBER),
    Column("smtp_enhanced", "smtp_enhanced", TEXT),
    Column("response_text", "response_text", TEXT),
    Column("reason", "reason", TEXT),
    Column("url", "url", CODE),
    Column("user_agent", "user_agent", TEXT),
    Column("ip", "ip", IP),
]
