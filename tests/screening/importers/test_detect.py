import json

import pytest

from screening.importers.base import ImportFileError
from screening.importers.decode import detect_encoding
from screening.importers.detect import FORMATS, detect_format

# MANIFEST.json's "format" -> the name detect_format returns.
EXPECTED = {
    "ris": "ris",
    "nbib": "pubmed",
    "wos-plain": "wos",
    "wos-tab": "wos-tab",
    "endnote-xml": "endnote-xml",
    "bibtex": "bibtex",
    "csv": "csv",
    "scopus-csv": "csv",
    "tsv": "tsv",
    "xlsx": "xlsx",
}
# MANIFEST files generic_tab.csv under "csv" by its extension, but its content is
# tab-separated, and the content decides: "csv" means comma- or semicolon-separated.
OVERRIDES = {"csv-tsv-xlsx/asreview/generic_tab.csv": "tsv"}


def detect_file(path):
    """As the importer does: the first 8 bytes, and the first 64 KB decoded (not for zip)."""
    with open(path, "rb") as binary:
        first_bytes = binary.read(8)
        binary.seek(0)
        if first_bytes.startswith(b"PK\x03\x04"):
            return detect_format("", path.name, first_bytes)
        encoding = detect_encoding(binary)
        binary.seek(0)
        head = binary.read(65536).decode(encoding, errors="replace")
    return detect_format(head, path.name, first_bytes)


def manifest(shared_data):
    return json.loads((shared_data / "import-samples" / "MANIFEST.json").read_text())


def test_every_sample_is_recognised(shared_data):
    wrong = {}
    entries = manifest(shared_data)
    assert entries
    for m in entries:
        relative = m["file"].removeprefix("import-samples/")
        expected = OVERRIDES.get(relative, EXPECTED[m["format"]])
        found = detect_file(shared_data / m["file"])
        if found != expected:
            wrong[relative] = (expected, found)
    assert wrong == {}


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("wos/rispy/example_wos.ris", "wos"),  # WoS plain text with a .ris extension
        ("ris/asreview/web_of_science.txt", "ris"),  # RIS from WoS with a .txt extension
        ("ris/asreview/pubmed_endnote.txt", "ris"),
        ("ris/colrev/psycinfo_ris.ris", "ris"),  # has a 'PMID  - ' line, is still RIS
        ("csv-tsv-xlsx/synthesisr/eviatlas.csv", "csv"),  # RIS tag names as column names
        ("csv-tsv-xlsx/synthesisr/eviatlas.tsv", "tsv"),  # ... tab-separated: not wos-tab
        ("csv-tsv-xlsx/asreview/generic_tab.csv", "tsv"),
        ("csv-tsv-xlsx/asreview/generic_semicolon.csv", "csv"),
        ("wos/wosfile/wos_tab_delimited_win_utf8.txt", "wos-tab"),
        ("pubmed-nbib/synthesisr/PubMed_example.txt", "pubmed"),
        ("endnote-xml/asysd/mendeley_export.xml", "endnote-xml"),  # one long line
        ("bibtex/bibtexparser/multiline_comments.bib", "bibtex"),  # only @comment entries
        ("csv-tsv-xlsx/asreview/ACEInhibitors_debug_record_id.xlsx", "xlsx"),
    ],
)
def test_content_over_extension(sample, relative, expected):
    assert detect_file(sample(relative)) == expected


RIS = "TY  - JOUR\nTI  - T\nER  - \n"
WOS = "FN Clarivate Analytics Web of Science\nVR 1.0\nPT J\nAU Doe, J\nTI T\nER\n\nEF\n"


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline):
    assert detect_format(RIS.replace("\n", newline), "x.txt", b"TY  - JO") == "ris"
    assert detect_format(WOS.replace("\n", newline), "x.txt", b"FN Clari") == "wos"
    assert detect_format("PMID- 1\nTI  - T\n".replace("\n", newline), "x", b"PMID- 1") == ("pubmed")


def test_bom_and_leading_blank_lines():
    assert detect_format("\ufeff\n\n" + RIS, "x.ris", b"\xef\xbb\xbf\n\nTY ") == "ris"


def test_wos_record_without_header():
    assert detect_format("PT J\nAU Doe, J\nTI T\nER\n", "x.txt", b"PT J\nAU ") == "wos"


def test_extension_breaks_a_tie():
    # A single column has no delimiter to go by.
    assert detect_format("title\nA\nB\n", "list.csv", b"title\nA\n") == "csv"
    assert detect_format("title\nA\nB\n", "list.tab", b"title\nA\n") == "tsv"
    with pytest.raises(ImportFileError, match="is not a format we recognise"):
        detect_format("title\nA\nB\n", "list.txt", b"title\nA\n")


@pytest.mark.parametrize(
    "head",
    [
        "Dear reviewer, here are the results, as promised.\nBest wishes, and thanks.\n"
        "P.S. One more, two more, three more commas, here.\n",
        '<?xml version="1.0"?><PubmedArticleSet></PubmedArticleSet>',
        "%PDF-1.7 binary junk",
    ],
)
def test_unrecognised(head):
    with pytest.raises(ImportFileError) as caught:
        detect_format(head, "notes.txt", head[:8].encode())
    assert str(caught.value) == (
        "notes.txt: this is not a format we recognise: expected RIS, PubMed/MEDLINE, Web of "
        "Science, EndNote XML, BibTeX, CSV/TSV or XLSX"
    )


def test_binary_and_empty_files():
    assert detect_format("", "book.xlsx", b"PK\x03\x04\x14\x00\x06\x00") == "xlsx"
    with pytest.raises(ImportFileError, match=r"old Excel \(.xls\) workbook"):
        detect_format("", "book.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")
    with pytest.raises(ImportFileError, match="the file is empty"):
        detect_format(" \n\n", "empty.ris", b" \n\n")


def test_labels():
    assert set(FORMATS) == set(EXPECTED.values())
    assert FORMATS["pubmed"] == "PubMed/MEDLINE"
