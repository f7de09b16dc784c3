"""Turning an uploaded file's bytes into text: BOMs, UTF-16, UTF-8, then a best guess.

The file is checked in chunks, never read whole, so a 200 MB upload costs little memory.
"""

import codecs
import io

from charset_normalizer import from_bytes

from .base import ImportFileError

CHUNK = 1 << 20
BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


def _is_utf8(binary):
    decoder = codecs.getincrementaldecoder("utf-8")()
    binary.seek(0)
    try:
        while chunk := binary.read(CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        binary.seek(0)
    return True


def detect_encoding(binary):
    """The encoding to read `binary` (a seekable binary file) with."""
    binary.seek(0)
    head = binary.read(4)
    binary.seek(0)
    for bom, encoding in BOMS:
        if head.startswith(bom):
            return encoding
    if _is_utf8(binary):
        return "utf-8"
    sample = binary.read(CHUNK)
    binary.seek(0)
    matches = from_bytes(
        sample,
        cp_isolation=[
            "cp1252",
            "gb18030",
            "latin_1",
            "shift_jis",
            "euc_kr",
            "big5",
            "cp1250",
            "koi8_r",
        ],
    )
    best = matches.best()
    if best is not None and best.encoding not in ("ascii", "utf_8"):
        # On short CJK samples several codecs decode "cleanly"; Chinese exports (GB18030)
        # are far more common in bibliographic data than Korean ones, so near-ties go to it.
        for match in matches:
            if match.encoding == "gb18030" and match.chaos - best.chaos <= 0.1:
                return "gb18030"
        # Western European text (é, ï, ñ) often scores the same in cp1250 and cp1252;
        # exports from Windows in English-, French-, Spanish- and German-speaking settings are
        # cp1252, so a tie goes to it (cp1250 would turn "naïve" into "naďve").
        if best.encoding == "cp1250":
            for match in matches:
                if match.encoding == "cp1252" and match.chaos - best.chaos <= 0.01:
                    return "cp1252"
        return best.encoding
    # cp1252 accepts almost any byte sequence, which makes it the right last resort for the
    # Windows exports that are not UTF-8.
    return "cp1252"


def open_text(binary, *, filename=""):
    """A text stream over `binary` with universal newlines (CRLF and CR become LF)."""
    encoding = detect_encoding(binary)
    binary.seek(0)
    try:
        return io.TextIOWrapper(binary, encoding=encoding, newline=None, errors="strict"), encoding
    except LookupError as exc:  # pragma: no cover - detect_encoding only names real codecs
        raise ImportFileError(f"unknown text encoding {encoding}", filename=filename) from exc
