"""Reading an uploaded file of addresses (CSV or one per line), streamed.

The file is read in chunks and parsed line by line: never whole into memory, and never
past `BLOCKLIST_UPLOAD_MAX_BYTES` bytes or `MAX_UPLOAD_LINES` addresses.
"""

from __future__ import annotations

import csv
import io
from typing import IO, NamedTuple

from django.conf import settings

from .errors import BlocklistError

MAX_UPLOAD_LINES = 100_000
CHUNK_BYTES = 64 * 1024
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


def max_upload_bytes() -> int:
    return settings.BLOCKLIST_UPLOAD_MAX_BYTES


def too_large() -> BlocklistError:
    limit = max_upload_bytes()
    size = f"{limit / (1024 * 1024):g} MB" if limit >= 1024 * 1024 else f"{limit:,} bytes"
    return BlocklistError(
        "file_too_large", f"The file is larger than {size}; split it.", status=413
    )


# What a multipart body adds around the file: boundaries, part headers, the other fields.
_MULTIPART_SLACK = 64 * 1024


def refuse_oversized_body(content_length: str | None) -> None:
    """Refuse, before it is read, a request body far larger than any allowed file."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return
    if length > max_upload_bytes() + _MULTIPART_SLACK:
        raise too_large()


class _CappedReader(io.RawIOBase):
    """A binary stream over `file` that refuses to go past `limit` bytes."""

    def __init__(self, file: IO[bytes], limit: int):
        self._file = file
        self._limit = limit
        self.read_bytes = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._file.read(min(len(buffer), CHUNK_BYTES))
        self.read_bytes += len(data)
        if self.read_bytes > self._limit:
            raise too_large()
        buffer[: len(data)] = data
        return len(data)


def read_upload(source: bytes | IO[bytes]) -> list[Line]:
    """The addresses of an uploaded CSV (first column) or one-per-line text file.

    `source` is a binary file (e.g. Django's UploadedFile) or bytes, read in chunks and
    never past the size limit. UTF-8 with or without a BOM. Each address keeps its file line
    number, counting the header and blank lines, so a report names the line an editor shows.
    Blank lines are skipped, and so is a header row whose first cell is 'email', 'address',
    … ; further columns (an export's block times, reasons, notes) are ignored.
    """
    file = io.BytesIO(source) if isinstance(source, bytes | bytearray) else source
    size = getattr(file, "size", None)
    if size is not None and size > max_upload_bytes():
        raise too_large()
    text = io.TextIOWrapper(
        io.BufferedReader(_CappedReader(file, max_upload_bytes()), CHUNK_BYTES),
        encoding="utf-8-sig",
        newline="",
    )
    lines: list[Line] = []
    try:
        reader = csv.reader(text)
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
    except UnicodeDecodeError:
        raise BlocklistError(
            "bad_encoding", "The file must be UTF-8 text (CSV or one per line)."
        ) from None
    except csv.Error as exc:
        raise BlocklistError("bad_file", f"The file is not CSV or text: {exc}.") from None
    finally:
        text.detach()  # leave the uploaded file open for its owner
    if not lines:
        raise BlocklistError("empty_file", "The file has no addresses.")
    return lines
