"""Which format an uploaded file is in, judged from its content.

Exports are named carelessly ('savedrecs.txt' may be RIS, WoS or PubMed; a WoS file can end
in .ris, a tab-separated file in .csv), so the content decides and the extension only breaks
a tie the content leaves open.
"""

import csv
import io
import re

from .base import ImportFileError

FORMATS = {
    "ris": "RIS",
    "pubmed": "PubMed/MEDLINE",
    "wos": "Web of Science (plain text)",
    "wos-tab": "Web of Science (tab-delimited)",
    "endnote-xml": "EndNote XML",
    "bibtex": "BibTeX",
    "csv": "CSV",
    "tsv": "TSV (tab-separated)",
    "xlsx": "Excel workbook (XLSX)",
}
UNRECOGNISED = (
    "this is not a format we recognise: expected RIS, PubMed/MEDLINE, Web of Science, "
    "EndNote XML, BibTeX, CSV/TSV or XLSX"
)

XLSX_MAGIC = b"PK\x03\x04"  # a zip archive: the container of .xlsx
XLS_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary Office format
RIS_RE = re.compile(r"^TY {1,3}- ?\S", re.MULTILINE)
PUBMED_RE = re.compile(r"^PMID- ?\d", re.MULTILINE)
WOS_HEADER_RE = re.compile(r"\AFN [^\n]*\n(?:VR [^\n]*\n)?\s*PT [A-Z]\s*$", re.MULTILINE)
WOS_RECORD_RE = re.compile(r"^PT [A-Z]\n(?:[A-Z][A-Z0-9] .*\n|   .*\n)+?ER\s*$", re.MULTILINE)
TWO_LETTER_TAG_RE = re.compile(r"[A-Z][A-Z0-9]\Z")
BIBTEX_RE = re.compile(r"^\s*@\s*[A-Za-z]+\s*[{(]", re.MULTILINE)
DELIMITERS = {",": "csv", ";": "csv", "\t": "tsv"}
EXTENSIONS = {"csv": "csv", "tsv": "tsv", "tab": "tsv"}


def _extension(filename):
    return filename.rsplit(".", 1)[-1].lower() if "." in filename else ""


def _is_wos_tab(first_line):
    names = [name.strip() for name in first_line.split("\t")]
    names = [name for name in names if name]
    tags = [name for name in names if TWO_LETTER_TAG_RE.match(name)]
    return (
        len(names) >= 5
        and names[0] == "PT"
        and {"AU", "TI"} <= set(names)
        and len(tags) >= 0.9 * len(names)
    )


def _delimited(head, filename):
    """'csv' or 'tsv' when the start of `head` reads as a table with a header row."""
    lines = head.split("\n", 50)
    header = lines[0]
    # Delimiters inside quoted column names do not count.
    bare = re.sub(r'"[^"]*"', "", header)
    counts = {delimiter: bare.count(delimiter) for delimiter in DELIMITERS}
    delimiter = max(counts, key=counts.get)
    if counts[delimiter] == 0:
        # One column: only the extension can say it is a table.
        return EXTENSIONS.get(_extension(filename)) if header.strip() else None
    reader = csv.reader(io.StringIO("\n".join(lines[:50])), delimiter=delimiter)
    rows = [row for row in reader if row]
    width = len(rows[0])
    # The head is cut at 64 KB, so the last row may be partial: leave it out.
    body = rows[1:-1] if len(rows) > 2 else rows[1:]
    # Every row of a table has the header's width, give or take an empty last cell (a
    # trailing delimiter on the rows or the header); prose with commas does not.
    fits = sum(
        len(row) == width
        or (len(row) == width + 1 and not row[-1])
        or (len(row) == width - 1 and not rows[0][-1])
        for row in body
    )
    if fits < 0.8 * len(body):
        return None
    return DELIMITERS[delimiter]


def detect_format(head, filename, first_bytes):
    """One of FORMATS' keys for a file starting with `first_bytes` (raw) and `head` (text)."""
    if first_bytes.startswith(XLSX_MAGIC):
        return "xlsx"
    if first_bytes.startswith(XLS_MAGIC):
        raise ImportFileError(
            "this is an old Excel (.xls) workbook: save it as .xlsx or CSV and upload that",
            filename=filename,
        )
    # The head may be cut from raw bytes, so CRLF and CR line ends are still in it.
    text = head.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    start = text.lstrip()
    if not start:
        raise ImportFileError("the file is empty", filename=filename)
    if start.startswith("<"):
        if re.search(r"<records?>", start[:5000]):
            return "endnote-xml"
        raise ImportFileError(UNRECOGNISED, filename=filename)
    if WOS_HEADER_RE.search(start) or WOS_RECORD_RE.search(start):
        return "wos"
    first_line = start.split("\n", 1)[0]
    if "\t" in first_line and _is_wos_tab(first_line):
        return "wos-tab"
    if PUBMED_RE.search(text):
        return "pubmed"
    if RIS_RE.search(text):
        return "ris"
    if BIBTEX_RE.search(text):
        return "bibtex"
    table = _delimited(start, filename)
    if table:
        return table
    raise ImportFileError(UNRECOGNISED, filename=filename)
