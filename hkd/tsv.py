"""The one reader of corpus TSV files, behind ``hkd.corpus`` (local copies, archives) and ``hkd.extract``.

A corpus file is TSV with a header: fields split on TAB only (quotes are never interpreted), every
line decoded strictly as UTF-8. Accepted as written by editors and spreadsheet exports: a UTF-8
byte-order mark before the header, and CRLF line ends. Refused, with an error (``TsvError``) that
names the file and the line:

- bytes that are not UTF-8: the line, the byte of the line and of the file, the bytes themselves (a
  UTF-16 file, recognised by its byte-order mark, is named as such);
- CR-only line ends (classic Mac OS), which would make the whole file one line;
- a row whose field count differs from the header's.

Nothing here is run by hand; ``python -m hkd.extract`` and ``python -m hkd.corpus local`` read
through it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

UTF8_BOM = b"\xef\xbb\xbf"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
HEADER_LIMIT = 1 << 20  # bytes: a header line longer than this (without a line end) is not a header


class TsvError(ValueError):
    """A corpus file that cannot be read; the message names the file and the line."""


def _decode(raw: bytes, where: str, lineno: int, offset: int) -> str:
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        bad = raw[e.start : e.start + 4].hex(" ")
        raise TsvError(
            f"{where}:{lineno}: invalid UTF-8 at byte {e.start} of the line (byte {offset + e.start} of the "
            f"file; bytes {bad}): {e.reason}; the corpus must be UTF-8"
        ) from None


def _header_line(f: BinaryIO, where: str) -> tuple[bytes, int]:
    """Line 1 without a UTF-8 byte-order mark, and the mark's length (0 or 3)."""
    raw = f.readline(HEADER_LIMIT)
    if raw.startswith(UTF16_BOMS):
        raise TsvError(f"{where}:1: the file is UTF-16 (byte-order mark {raw[:2].hex(' ')}); save it as UTF-8")
    bom = len(UTF8_BOM) if raw.startswith(UTF8_BOM) else 0
    body = raw[bom:].removesuffix(b"\n").removesuffix(b"\r")
    cr = body.find(b"\r")
    if cr >= 0:
        raise TsvError(
            f"{where}: its line ends are CR only (\\r, classic Mac OS: a CR in line 1 at byte {bom + cr}, "
            "no LF); save it with LF (or CRLF) line ends"
        )
    if len(raw) == HEADER_LIMIT and not raw.endswith(b"\n"):
        raise TsvError(f"{where}:1: no line end in the first {HEADER_LIMIT} bytes: not a corpus header")
    return raw[bom:], bom


def iter_rows(path: Path | str, stream: BinaryIO | None = None, label: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) for every line, the header included (line 1).

    Reads ``path``, or ``stream`` (an open binary file, e.g. an archive member) named ``label``.
    """
    where = label or str(path)
    width = None
    with open(path, "rb") if stream is None else contextlib.nullcontext(stream) as f:
        raw, offset = _header_line(f, where)
        lineno = 1
        while raw:
            line = _decode(raw, where, lineno, offset).removesuffix("\n").removesuffix("\r")
            cells = line.split("\t")
            if width is None:
                width = len(cells)
            elif len(cells) != width:
                hint = " (the line holds CR characters: CR-only line ends?)" if "\r" in line else ""
                raise TsvError(f"{where}:{lineno}: ragged row: {len(cells)} fields, the header has {width}{hint}")
            yield lineno, cells
            offset += len(raw)
            raw = f.readline()
            lineno += 1
