"""Reading an uploaded file of addresses (CSV or one per line)."""

from __future__ import annotations

import csv
import io

from .errors import BlocklistError

MAX_UPLOAD_LINES = 100_000


def read_upload(data: bytes) -> list[str]:
    """The lines of an uploaded CSV (first column) or one-per-line text file.

    UTF-8 with or without a BOM; blank lines are skipped, and so is a header row whose
    first cell is 'email', 'address' or 'email address'.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BlocklistError(
            "bad_encoding", "The file must be UTF-8 text (CSV or one per line)."
        ) from None
    lines: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(cell.strip() for cell in row):
            continue
        lines.append(row[0].strip())
        if len(lines) > MAX_UPLOAD_LINES + 1:
            break
    if lines and lines[0].strip().lower() in ("email", "address", "email address", "e-mail"):
        lines = lines[1:]
    if len(lines) > MAX_UPLOAD_LINES:
        raise BlocklistError(
            "too_many_lines", f"A file holds at most {MAX_UPLOAD_LINES:,} addresses; split it."
        )
    if not lines:
        raise BlocklistError("empty_file", "The file has no addresses.")
    return lines
