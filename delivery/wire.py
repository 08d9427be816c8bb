"""Reading a batch of wire-format events from a request body.

A batch is a JSON array of events, or an object `{"events": [...]}`. The whole body is
decoded in one call; only when that fails because one item is nested too deeply for the
decoder (a hostile or broken client) is the array split into its items by a scanner that
needs no recursion, so that item alone is refused and the others are stored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass


class BatchError(ValueError):
    """The body cannot be read as a batch at all (answered 400 with `code`)."""

    def __init__(self, message: str, code: str = "invalid_batch"):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Unreadable:
    """An item of the batch that is not valid JSON; ingestion reports it by index."""

    code: str
    message: str


def read_batch(body: bytes) -> list:
    """The items of a batch: decoded JSON values, or `Unreadable` for items that are not."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BatchError("The body is not UTF-8.", "parse_error") from None
    try:
        data = json.loads(text)
    except RecursionError:
        return _read_items_one_by_one(text)
    except ValueError as exc:
        raise BatchError(f"The body is not valid JSON: {exc}", "parse_error") from None
    if isinstance(data, dict) and "events" in data:
        data = data["events"]
    if not isinstance(data, list):
        raise BatchError('Send a JSON array of events, or an object {"events": [...]}.')
    return data


# Characters that change the scanner's state; everything else is skipped in one step.
_STRUCTURE = re.compile(r'["\\\[\]{}:,]')


def _read_items_one_by_one(text: str) -> list:
    start = _events_array_start(text)
    items: list = []
    for piece in _split_array(text, start):
        try:
            items.append(json.loads(piece))
        except RecursionError:
            items.append(Unreadable("too_deep", "This event is nested too deeply."))
        except ValueError:
            items.append(Unreadable("invalid_json", "This event is not valid JSON."))
    return items


def _tokens(text: str, pos: int):
    """(index, token) from `pos`: structural characters outside strings, and each
    string's start and end as '"start' / '"end'."""
    in_string = False
    escaped_until = -1
    for match in _STRUCTURE.finditer(text, pos):
        i, ch = match.start(), match.group()
        if i <= escaped_until:
            continue
        if ch == "\\":
            escaped_until = i + 1
        elif ch == '"':
            in_string = not in_string
            yield i, '"start' if in_string else '"end'
        elif not in_string:
            yield i, ch


def _events_array_start(text: str) -> int:
    """Index of the `[` that opens the batch: the body itself, or `events` of an object."""
    head = text.lstrip()
    offset = len(text) - len(head)
    if head.startswith("["):
        return offset
    if head.startswith("{"):
        depth, string_start, last_string, key = 0, 0, None, None
        for i, token in _tokens(text, offset):
            if token == '"start':
                string_start = i
            elif token == '"end':
                last_string = text[string_start + 1 : i]
            elif token == ":" and depth == 1:
                key = last_string
            elif token == "," and depth == 1:
                key = None
            elif token in "[{":
                if token == "[" and depth == 1 and key == "events":
                    return i
                depth += 1
            elif token in "]}":
                depth -= 1
    raise BatchError('Send a JSON array of events, or an object {"events": [...]}.')


def _split_array(text: str, start: int) -> list[str]:
    """The source text of each item of the array opening at `start`."""
    pieces: list[str] = []
    depth = 0
    item_start = start + 1
    for i, ch in _tokens(text, start):
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                last = text[item_start:i].strip()
                if last:
                    pieces.append(last)
                return pieces
        elif ch == "," and depth == 1:
            pieces.append(text[item_start:i].strip())
            item_start = i + 1
    raise BatchError("The body is not valid JSON: the array is not closed.", "parse_error")
