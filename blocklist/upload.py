"""Reading an uploaded file of addresses (CSV or one per line)."""

from __future__ import annotations

import csv
import io
from typing import NamedTuple

from .errors import BlocklistError

MAX_UPLOAD_LINES = 100_000

# First cells that mark a header row (ours: "address", as the exports write it).
HEADER_CELLS = frozenset({"email", "address", "email address", "e-mail", "recipient"})


def undefuse(cell: str) -> str:
    """A cell as it was before a CSV export neutralised it against formulas.

    Exports (sesconsole.lib.csv_export) prefix a cell starting with = + - @ | % with an
    apostrophe and escape its pipes; an address may legitimately start so.
    """
    if len(cell) > 1 and cell[0] == "'" and cell[1] in "=+-@|%":
        return cell[1:].replace("\\|", "|")
    return cell


class Line(NamedTuple):
    """An address as read from a file, with the file line it started on (1-based)."""

    number: int
    value: str


def read_upload(data: bytes) -> list[Line]:
    """The addresses of an uploaded CSV (first column) or one-per-line text file.

    UTF-8 with or without a BOM. Each address keeps its file line number, counting the
    header and blank lines, so a report names the line an editor shows. Blank lines are
    skipped, and so is a header row whose first cell is 'email', 'address', … ; further
    columns (an export's block times, reasons, notes) are ignored.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BlocklistError(
            "bad_encoding", "The file must be UTF-8 text (CSV or one per line)."
        ) from None
    lines: list[Line] = []
    reader = csv.reader(io.StringIO(text, newline=""))
    start = 1
    header_possible = True
    for row in reader:
        number, start = start, reader.line_num + 1
        if not row or not any(cell.strip() for cell in row):
            continue
        value = undefuse(row[0].strip())
        if header_possible and value.lower() in HEADER_CELLS:
            header_possible = False
            continue
        header_possible = False
        lines.append(Line(number, value))
        if len(lines) > MAX_UPLOAD_LINES:
            raise BlocklistError(
                "too_many_lines",
                f"A file holds at most {MAX_UPLOAD_LINES:,} addresses; split it.",
            )
    if not lines:
        raise BlocklistError("empty_file", "The file has no addresses.")
    return lines
