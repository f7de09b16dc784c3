"""Turning an uploaded study file (PDF, Word .docx or plain text) into the text coders work on.

Excerpt offsets are code points into the returned text, so it is kept as extracted: newlines
are unified, NUL characters dropped and unstorable surrogates replaced, nothing else (no
Unicode normalisation). Every refusal is an `ExtractError` whose message names the file and
says what the researcher can do instead.
"""

import io
import logging
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Literal

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError, iterparse
from pypdf import PasswordType, PdfReader
from pypdf.errors import DependencyError, LimitReachedError

from screening.importers.decode import BOMS, detect_encoding

logger = logging.getLogger(__name__)

MB = 1024 * 1024
MAX_PDF_PAGES = 2_000
# Far more than any study report; a longer text is a broken or hostile file, and would make
# the coding page unusable anyway.
MAX_CHARS = 5_000_000
# word/document.xml of a long report with tracked changes is a few MB; a member that unpacks
# to more is a zip bomb, not a study.
DOCX_PART_MAX_BYTES = 50 * MB
# A page of article text holds thousands of characters; a scan holds none, or a stamped
# "Downloaded from ..." line. Below this average per page, the PDF is taken to be images.
SCANNED_CHARS_PER_PAGE = 50
# Acrobat accepts a PDF whose %%EOF marker is within the last 1,024 bytes; a download cut
# short has none there, even when pypdf could rebuild some of its pages.
PDF_EOF_WINDOW = 1024

ACCEPTED = "Accepted formats: PDF with a text layer, Word .docx, and plain text .txt."
NO_TEXT_LAYER = (
    "this PDF has no text layer (it looks like scanned images). "
    "Run it through OCR, or paste the text instead."
)
PDF_DAMAGED = (
    "this PDF is damaged and could not be read. Download it again, or paste the text instead."
)

# Formats people upload by mistake, recognised by their first bytes.
REFUSED_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image", "If it is a scan, run it through OCR first."),
    (b"\xff\xd8\xff", "a JPEG image", "If it is a scan, run it through OCR first."),
    (b"GIF87a", "a GIF image", ""),
    (b"GIF89a", "a GIF image", ""),
    (b"II*\x00", "a TIFF image", "If it is a scan, run it through OCR first."),
    (b"MM\x00*", "a TIFF image", "If it is a scan, run it through OCR first."),
    # Password-protected .docx files are stored in this same container, not as a ZIP.
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "an old-style Office file (.doc, .xls or .ppt) or a password-protected document",
        "Open it in Word and save it as .docx without a password.",
    ),
    (b"{\\rtf", "a Rich Text (.rtf) file", "Open it in Word and save it as .docx."),
]

WORD_NAMESPACES = (
    "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "http://purl.oclc.org/ooxml/wordprocessingml/main",  # "Strict Open XML" documents
)
MARKUP_COMPATIBILITY = "http://schemas.openxmlformats.org/markup-compatibility/2006"


def _word_tags(*names):
    return {f"{{{namespace}}}{name}" for namespace in WORD_NAMESPACES for name in names}


DOCX_BODY = "word/document.xml"
DOCX_PARAGRAPH = _word_tags("p")
DOCX_TEXT = _word_tags("t")
DOCX_TAB = _word_tags("tab", "ptab")
DOCX_BREAK = _word_tags("br", "cr")
DOCX_HYPHEN = _word_tags("noBreakHyphen")
# Everything inside these is left out: deleted and moved-away text (tracked changes),
# field codes (EndNote and Zotero keep whole citation records there), paragraph and run
# properties (their w:tab elements are tab stops, not tabs), and the fallback copy Word
# writes of every text box.
DOCX_SKIPPED = _word_tags("del", "delText", "moveFrom", "instrText", "delInstrText", "pPr", "rPr")
DOCX_SKIPPED.add(f"{{{MARKUP_COMPATIBILITY}}}Fallback")

SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_PAIR = re.compile("[\ud800-\udbff][\udc00-\udfff]")
HTML_START = re.compile(r"\s*<(?:!doctype\s+html|html[\s>])", re.IGNORECASE)
SPACE_RUN = re.compile(r"\s+")
BLANK_LINES = re.compile(r"\n{3,}")
# Byte values that plain text in any encoding we read never uses (NUL is allowed: it is
# stripped, and stray NULs are common in text exported by old tools).
NOT_CONTROL = bytes(range(32, 256)) + b"\x00\t\n\v\f\r\x1a\x1b"


class ExtractError(Exception):
    """No text to code could be taken from the input; `message` names the file (if any) and
    the problem in words a researcher can act on."""

    def __init__(self, problem, *, filename=""):
        self.problem = problem
        self.filename = filename
        self.message = f"{filename}: {problem}" if filename else problem
        super().__init__(self.message)


@dataclass
class ExtractedText:
    text: str
    kind: Literal["pdf", "txt", "docx"]
    pages: int | None = None  # PDFs only
    warnings: list[str] = field(default_factory=list)


def extract_text(binary_file, filename, *, max_bytes):
    """The text of an uploaded file, recognised by its content rather than its name.

    `binary_file` is read from the start, at most `max_bytes` + 1 bytes. Raises
    `ExtractError` for anything that gives no usable text.
    """
    data = _read_capped(binary_file, filename, max_bytes)
    if data.find(b"%PDF-", 0, 1024) != -1:
        kind = "pdf"
        text, pages, warnings = _pdf_text(data, filename)
    elif data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        kind, pages = "docx", None
        text, warnings = _docx_text(data, filename), []
    else:
        for signature, what, advice in REFUSED_SIGNATURES:
            if data.startswith(signature):
                raise _refuse(what, filename, advice)
        kind, pages = "txt", None
        text, warnings = _txt_text(data, filename), []
    text, cleaning_warnings = _clean(text)
    if not text.strip():
        raise ExtractError("no text found in this file.", filename=filename)
    _check_length(len(text), filename)
    return ExtractedText(text=text, kind=kind, pages=pages, warnings=warnings + cleaning_warnings)


def clean_pasted_text(text):
    """Pasted text, made safe to store the same way as an extracted file's text."""
    text, _ = _clean(text)
    if not text.strip():
        raise ExtractError("The pasted text is empty.")
    _check_length(len(text), "")
    return text


def _read_capped(binary_file, filename, max_bytes):
    # Form validation may already have read the upload.
    if hasattr(binary_file, "seek"):
        binary_file.seek(0)
    data = binary_file.read(max_bytes + 1)
    if len(data) > max_bytes:
        # Django's uploads know their size; a plain stream was read only up to the limit.
        size = getattr(binary_file, "size", None)
        actual = f"{_megabytes(size)}, " if size else ""
        raise ExtractError(
            f"the file is {actual}over the {_megabytes(max_bytes)} limit for uploads.",
            filename=filename,
        )
    if not data:
        raise ExtractError("the file is empty.", filename=filename)
    return data


def _megabytes(size):
    value = size / MB
    return f"{value:.0f} MB" if value.is_integer() else f"{value:.1f} MB"


def _clean(text):
    warnings = []
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    if SURROGATE.search(text):
        # A pair that arrived as two code points is one real character (often an emoji).
        text = SURROGATE_PAIR.sub(_join_surrogates, text)
        text, broken = SURROGATE.subn("\ufffd", text)
        if broken:
            warnings.append(
                f"{broken:,} damaged character{'s' if broken > 1 else ''} (unpaired surrogate"
                f"{'s' if broken > 1 else ''}) replaced with \ufffd."
            )
    return text, warnings


def _join_surrogates(match):
    high, low = match.group()
    return chr(0x10000 + ((ord(high) - 0xD800) << 10) + (ord(low) - 0xDC00))


def _check_length(length, filename):
    if length > MAX_CHARS:
        raise ExtractError(
            f"the text is longer than {MAX_CHARS:,} characters, the limit for one document. "
            "Split it into parts.",
            filename=filename,
        )


def _refuse(what, filename, advice=""):
    advice = f" {advice}" if advice else ""
    return ExtractError(
        f"this is {what}, which cannot be read as text.{advice} {ACCEPTED}", filename=filename
    )


# PDF


def _pdf_text(data, filename):
    """(text, page count, warnings). Pages are joined with a blank line; within a page, runs
    of spaces become one and blank lines collapse to one.

    Hyphenated line ends are left alone: "COVID-19" and "self-report" break across lines
    exactly like "inter-vention", and a wrong guess would change the words being coded.
    """
    if b"%%EOF" not in data[-PDF_EOF_WINDOW:]:
        raise ExtractError(
            "this PDF is incomplete (its end is missing, as when a download is cut short). "
            "Download it again, or paste the text instead.",
            filename=filename,
        )
    try:
        reader = PdfReader(io.BytesIO(data))
        # Most publisher PDFs are encrypted with an empty password that only restricts
        # printing or copying; those read fine.
        locked = reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED
        page_count = 0 if locked else len(reader.pages)
    except DependencyError as exc:
        raise ExtractError(
            "this PDF is encrypted in a way the server cannot read. "
            "Save an unprotected copy, or paste the text instead.",
            filename=filename,
        ) from exc
    except Exception as exc:
        # pypdf raises many kinds of errors on malformed files; all mean the same here.
        logger.info("unreadable PDF %r", filename, exc_info=True)
        raise ExtractError(PDF_DAMAGED, filename=filename) from exc
    if locked:
        raise ExtractError(
            "this PDF is protected by a password, so its text cannot be read. "
            "Save a copy without the password, or paste the text instead.",
            filename=filename,
        )
    if page_count > MAX_PDF_PAGES:
        raise ExtractError(
            f"this PDF has {page_count:,} pages; the limit is {MAX_PDF_PAGES:,}. "
            "Upload only the pages you need.",
            filename=filename,
        )
    if page_count == 0:
        raise ExtractError(
            "this PDF has no pages (it may be damaged). Download it again, "
            "or paste the text instead.",
            filename=filename,
        )

    texts, empty, unreadable, length = [], [], [], 0
    for number in range(1, page_count + 1):
        try:
            page_text = _tidy_pdf_page(reader.pages[number - 1].extract_text())
        except LimitReachedError as exc:
            # pypdf's guards against decompression bombs and reference loops: the whole
            # file is suspect, not just this page.
            raise ExtractError(
                f"page {number} of this PDF goes past the safety limits for reading PDFs "
                "(it is damaged, or built to overload a reader), so the file was not read. "
                "Paste the text instead.",
                filename=filename,
            ) from exc
        except Exception:
            logger.info("unreadable page %d of PDF %r", number, filename, exc_info=True)
            unreadable.append(number)
            continue
        if not page_text:
            empty.append(number)
            continue
        texts.append(page_text)
        # Checked as pages come, so a hostile PDF is stopped before it fills the memory.
        length += len(page_text) + 2
        _check_length(length, filename)

    if len(unreadable) == page_count:
        raise ExtractError(PDF_DAMAGED, filename=filename)
    visible = sum(len("".join(text.split())) for text in texts)
    if visible < SCANNED_CHARS_PER_PAGE * (page_count - len(unreadable)):
        raise ExtractError(NO_TEXT_LAYER, filename=filename)
    warnings = []
    if unreadable:
        warnings.append(f"Left out {_pages(unreadable)}, which could not be read.")
    if empty:
        warnings.append(f"No text was found on {_pages(empty)} (scanned, or only figures).")
    return "\n\n".join(texts), page_count, warnings


def _tidy_pdf_page(text):
    lines = (SPACE_RUN.sub(" ", line).strip() for line in text.splitlines())
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip("\n")


def _pages(numbers, shown=10):
    listed = ", ".join(str(n) for n in numbers[:shown])
    if len(numbers) > shown:
        listed += f" and {len(numbers) - shown:,} more"
    return f"page {listed}" if len(numbers) == 1 else f"pages {listed}"


# Word .docx


def _docx_text(data, filename):
    """One line per paragraph (table cells and text boxes included), as Word shows the
    document with all tracked changes accepted. Headers, footers, footnotes and comments
    live in other parts and are left out."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            xml = _read_part(archive, DOCX_BODY, filename) if DOCX_BODY in names else None
    except (
        zipfile.BadZipFile,
        ValueError,
        RuntimeError,
        NotImplementedError,
        OSError,
        EOFError,
        zlib.error,
    ) as exc:
        # Besides BadZipFile, zipfile raises ValueError on offsets that point outside the
        # file, RuntimeError when a member needs a password, NotImplementedError for an
        # unknown compression method.
        raise ExtractError(
            "this Word (or ZIP) file is damaged and could not be opened. "
            "Open it in Word and save it again as .docx.",
            filename=filename,
        ) from exc
    if xml is None:
        what, advice = _zip_kind(names)
        raise _refuse(what, filename, advice)
    try:
        return "\n".join(_docx_paragraphs(xml)).strip()
    except DefusedXmlException as exc:
        raise ExtractError(
            "this Word file contains XML declarations (a DTD or entities) that Word never "
            "writes, so it was not opened. Open it in Word and save it again as .docx.",
            filename=filename,
        ) from exc
    except (ParseError, LookupError, ValueError) as exc:
        # LookupError and ValueError come from an XML declaration naming an unknown or
        # wrong encoding.
        raise ExtractError(
            f"this Word file is damaged: its text ({DOCX_BODY}) is not well-formed XML. "
            "Open it in Word and save it again as .docx.",
            filename=filename,
        ) from exc


def _read_part(archive, name, filename):
    info = archive.getinfo(name)
    too_big = ExtractError(
        f"this Word file's text would unpack to more than {_megabytes(DOCX_PART_MAX_BYTES)}, "
        "far beyond any real document (it is damaged, or built to overload the server), "
        "so it was not opened.",
        filename=filename,
    )
    if info.file_size > DOCX_PART_MAX_BYTES:
        raise too_big
    # The sizes in a ZIP's directory can lie, so the unpacked bytes are counted too.
    with archive.open(info) as part:
        content = part.read(DOCX_PART_MAX_BYTES + 1)
    if len(content) > DOCX_PART_MAX_BYTES:
        raise too_big
    return content


def _zip_kind(names):
    """(what, advice) for a ZIP archive that is not a Word document."""
    if any(name.startswith("xl/") for name in names):
        return "an Excel workbook (.xlsx)", "Copy the text into a .docx or .txt file."
    if any(name.startswith("ppt/") for name in names):
        return "a PowerPoint presentation (.pptx)", "Save it as PDF first."
    if "content.xml" in names:
        return "an OpenDocument file (.odt or similar)", "Save it as .docx first."
    return "a ZIP archive, not a Word document", "Unpack it and upload the document itself."


def _docx_paragraphs(xml):
    # Streamed, clearing each element once read, so a large document costs little memory.
    # A text box's paragraphs sit inside another paragraph, hence the stack.
    open_paragraphs, skipping = [], 0
    for event, element in iterparse(io.BytesIO(xml), events=("start", "end"), forbid_dtd=True):
        tag = element.tag
        if event == "start":
            if tag in DOCX_SKIPPED:
                skipping += 1
            elif not skipping and tag in DOCX_PARAGRAPH:
                open_paragraphs.append([])
            continue
        if tag in DOCX_SKIPPED:
            skipping -= 1
        elif skipping or not open_paragraphs:
            pass
        elif tag in DOCX_PARAGRAPH:
            yield "".join(open_paragraphs.pop())
        elif tag in DOCX_TEXT:
            open_paragraphs[-1].append(element.text or "")
        elif tag in DOCX_TAB:
            open_paragraphs[-1].append("\t")
        elif tag in DOCX_BREAK:
            open_paragraphs[-1].append("\n")
        elif tag in DOCX_HYPHEN:
            open_paragraphs[-1].append("-")
        element.clear()


# Plain text


def _txt_text(data, filename):
    has_bom = data.startswith(tuple(bom for bom, _ in BOMS))
    encoding = None if has_bom else _utf16_without_bom(data)
    if not has_bom and encoding is None and _looks_binary(data):
        raise _refuse("a file in a format that is not text", filename)
    encoding = encoding or detect_encoding(io.BytesIO(data))
    # Unpaired surrogates in UTF-16 (or UTF-8 with a BOM) come through, to be replaced with
    # a warning, instead of refusing a whole file for one broken character.
    errors = "surrogatepass" if encoding.lower().startswith("utf") else "strict"
    try:
        text = data.decode(encoding, errors)
    except UnicodeDecodeError as exc:
        raise ExtractError(
            f"the text encoding could not be recognised (read as {encoding}, byte "
            f"{exc.start + 1:,} does not fit). Save the file as UTF-8 text and upload it again.",
            filename=filename,
        ) from exc
    if HTML_START.match(text):
        if filename.lower().endswith(".pdf"):
            # Publishers answer a PDF link with a sign-in or cookie page when access fails.
            problem = "this is a web page (HTML), not a PDF. Download the article again"
        else:
            problem = "this is a web page (HTML), not a document. Save the article as PDF"
        raise ExtractError(f"{problem}, or paste its text instead.", filename=filename)
    return text


def _looks_binary(data):
    sample = data[:65536]
    controls = len(sample.translate(None, NOT_CONTROL))
    return controls > len(sample) / 100 or sample.count(0) > len(sample) * 0.3


def _utf16_without_bom(data):
    """UTF-16 without a byte order mark, told apart by the zero byte that every ASCII
    character carries on one side; `detect_encoding` would take it for UTF-8 with NULs."""
    sample = data[:65536]
    pairs = len(sample) // 2
    if pairs < 2:
        return None
    even_zeros, odd_zeros = sample[0::2].count(0), sample[1::2].count(0)
    if odd_zeros > pairs * 0.3 and even_zeros < pairs * 0.05:
        return "utf-16-le"
    if even_zeros > pairs * 0.3 and odd_zeros < pairs * 0.05:
        return "utf-16-be"
    return None
