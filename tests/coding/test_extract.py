"""Uploaded PDFs, Word files and text files become the text coders work on, or a message that
names the file and says what to do. Every fixture is built here; none is committed."""

import codecs
import io
import zipfile
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from pypdf import PdfReader, PdfWriter

from coding import extract as extract_module
from coding.extract import ExtractError, clean_pasted_text, extract_text

MB = 1024 * 1024
SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
ACCEPTED = "Accepted formats: PDF with a text layer, Word .docx, and plain text .txt."


def extracted(data, filename="study.bin", max_bytes=MB):
    return extract_text(io.BytesIO(data), filename, max_bytes=max_bytes)


def refusal(data, filename="study.bin", max_bytes=MB):
    with pytest.raises(ExtractError) as caught:
        extracted(data, filename, max_bytes)
    return caught.value.message


# PDF fixtures, written by hand: pypdf cannot lay out text.


def pdf_string(text):
    """A PDF string literal in WinAnsi (cp1252), the encoding of the Helvetica font below."""
    escaped = b"".join(
        bytes([c]) if 32 <= c < 127 and c not in b"()\\" else b"\\%03o" % c
        for c in text.encode("cp1252")
    )
    return b"(" + escaped + b")"


def text_page(*lines):
    shown = b"\n".join(pdf_string(line) + b" Tj T*" for line in lines)
    return b"BT /F1 12 Tf 72 720 Td 14 TL\n" + shown + b"\nET"


def make_pdf(contents):
    """A PDF with one page per content stream, its xref offsets counted as it is written."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        None,  # the page tree, once the pages' numbers are known
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    kids = []
    for content in contents:
        objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content))
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % len(objects)
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(kids))
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1))
    out.write(b"startxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


PAGE_ONE = (
    "Participants described the café as a safe place to talk.",
    "   Staff   turnover    was high in both sites.  ",
)
PAGE_TWO = (
    "Interviews at twelve months asked about self-",
    "reported wellbeing and workload.",
    "Most described the ward as calmer than before.",
)
TWO_PAGES = make_pdf([text_page(*PAGE_ONE), text_page(*PAGE_TWO)])
TWO_PAGES_TEXT = (
    "Participants described the café as a safe place to talk.\n"
    "Staff turnover was high in both sites.\n"
    "\n"
    "Interviews at twelve months asked about self-\n"
    "reported wellbeing and workload.\n"
    "Most described the ward as calmer than before."
)


def test_pdf_text_page_by_page():
    result = extracted(TWO_PAGES, "smith2020.pdf")

    assert result.kind == "pdf"
    assert result.pages == 2
    assert result.text == TWO_PAGES_TEXT
    assert result.warnings == []


def test_pdf_recognised_by_content_not_name():
    assert extracted(TWO_PAGES, "smith2020.txt").kind == "pdf"


def test_pdf_without_text_layer():
    image_only = b"q 10 0 0 10 72 700 cm BI /W 1 /H 1 /CS /G /BPC 8 ID \xff EI Q"
    data = make_pdf([image_only, b""])

    assert refusal(data, "scan.pdf") == (
        "scan.pdf: this PDF has no text layer (it looks like scanned images). "
        "Run it through OCR, or paste the text instead."
    )


def test_scanned_pdf_with_a_download_stamp_counts_as_no_text_layer():
    stamp = text_page("Downloaded from example.org")

    assert "has no text layer" in refusal(make_pdf([stamp, stamp]), "scan.pdf")


def test_pdf_page_without_text_is_left_out_with_a_warning():
    data = make_pdf([text_page(*PAGE_ONE), b"", text_page(*PAGE_TWO)])

    result = extracted(data, "mixed.pdf")

    assert result.text == TWO_PAGES_TEXT
    assert result.pages == 3
    assert result.warnings == ["No text was found on page 2 (scanned, or only figures)."]


@pytest.mark.parametrize("cut", [len(TWO_PAGES) // 2, len(TWO_PAGES) - 10])
def test_truncated_pdf(cut):
    assert refusal(TWO_PAGES[:cut], "cut.pdf") == (
        "cut.pdf: this PDF is incomplete (its end is missing, as when a download is cut "
        "short). Download it again, or paste the text instead."
    )


def test_damaged_pdf():
    data = b"%PDF-1.4\n" + b"not a pdf body " * 40 + b"\n%%EOF\n"

    assert refusal(data, "bad.pdf") == (
        "bad.pdf: this PDF is damaged and could not be read. "
        "Download it again, or paste the text instead."
    )


def encrypted(data, **passwords):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(**passwords)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_password_protected_pdf():
    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt("pw")
    out = io.BytesIO()
    writer.write(out)

    assert refusal(out.getvalue(), "locked.pdf") == (
        "locked.pdf: this PDF is protected by a password, so its text cannot be read. "
        "Save a copy without the password, or paste the text instead."
    )


def test_pdf_restricted_only_by_an_owner_password_is_read():
    # Publishers often forbid copying this way; the text is still there to read.
    data = encrypted(TWO_PAGES, user_password="", owner_password="publisher")

    assert extracted(data, "restricted.pdf").text == TWO_PAGES_TEXT


def test_pdf_over_the_page_limit(monkeypatch):
    monkeypatch.setattr(extract_module, "MAX_PDF_PAGES", 1)

    assert refusal(TWO_PAGES, "long.pdf") == (
        "long.pdf: this PDF has 2 pages; the limit is 1. Upload only the pages you need."
    )


@pytest.mark.parametrize(
    ("data", "filename"),
    [(TWO_PAGES, "long.pdf"), (b"word " * 30, "long.txt")],
)
def test_text_over_the_length_limit(monkeypatch, data, filename):
    monkeypatch.setattr(extract_module, "MAX_CHARS", 50)

    assert refusal(data, filename) == (
        f"{filename}: the text is longer than 50 characters, the limit for one document. "
        "Split it into parts."
    )


# Word fixtures


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
MC = "http://schemas.openxmlformats.org/markup-compatibility/2006"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" ContentType="application/'
    'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)


def make_zip(members):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def make_docx(body, prolog=""):
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{prolog}'
        f'<w:document xmlns:w="{W}" xmlns:mc="{MC}"><w:body>{body}<w:sectPr/></w:body>'
        "</w:document>"
    )
    return make_zip({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": document})


def run(text):
    return f'<w:r><w:t xml:space="preserve">{text}</w:t></w:r>'


def paragraph(*parts):
    return f"<w:p>{''.join(parts)}</w:p>"


DOCX_BODY = "".join(
    [
        paragraph(
            # A tab stop in the paragraph's properties is not a tab in its text.
            '<w:pPr><w:tabs><w:tab w:val="left" w:pos="720"/></w:tabs></w:pPr>',
            "<w:r><w:rPr><w:b/></w:rPr><w:t>Participants</w:t></w:r>",
            run(" felt "),
            '<w:del w:id="1" w:author="A"><w:r><w:delText>very </w:delText></w:r></w:del>',
            '<w:ins w:id="2" w:author="A">' + run("safe") + "</w:ins>",
            "<w:r><w:tab/><w:t>😀</w:t></w:r>",
        ),
        paragraph("<w:r><w:t>Line one</w:t><w:br/><w:t>line two 𠀋</w:t></w:r>"),
        "<w:tbl><w:tr>",
        f"<w:tc>{paragraph(run('Cell A'))}</w:tc><w:tc>{paragraph(run('Cell B'))}</w:tc>",
        "</w:tr></w:tbl>",
        paragraph(
            '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
            "<w:r><w:instrText> ADDIN EN.CITE &lt;EndNote&gt;</w:instrText></w:r>",
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>',
            run("(Smith 2020)"),
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>',
        ),
        paragraph(
            "<w:r><mc:AlternateContent>",
            '<mc:Choice Requires="wps"><w:drawing><w:txbxContent>',
            paragraph(run("Box text")),
            "</w:txbxContent></w:drawing></mc:Choice>",
            f"<mc:Fallback><w:pict><w:txbxContent>{paragraph(run('Box text'))}",
            "</w:txbxContent></w:pict></mc:Fallback>",
            "</mc:AlternateContent></w:r>",
            run("After the box"),
        ),
        "<w:p/>",
        paragraph("<w:r><w:t>COVID</w:t><w:noBreakHyphen/><w:t>19</w:t></w:r>"),
    ]
)
DOCX_TEXT = (
    "Participants felt safe\t😀\n"
    "Line one\nline two 𠀋\n"
    "Cell A\nCell B\n"
    "(Smith 2020)\n"
    "Box text\nAfter the box\n"
    "\n"
    "COVID-19"
)


def test_docx_text():
    result = extracted(make_docx(DOCX_BODY), "interview.docx")

    assert result.kind == "docx"
    assert result.pages is None
    assert result.text == DOCX_TEXT
    assert result.warnings == []
    # Offsets are code points: the emoji and the CJK character outside the BMP are one each.
    assert result.text.index("Line one") == len("Participants felt safe\t😀\n")


def test_docx_with_an_entity_bomb_is_refused():
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {b} "{("&" + a + ";") * 10}">' for a, b in zip("abcdefgh", "bcdefghi")
    )
    data = make_docx(paragraph(run("&i;")), prolog=f"<!DOCTYPE w:document [{entities}]>")

    assert refusal(data, "bomb.docx") == (
        "bomb.docx: this Word file contains XML declarations (a DTD or entities) that Word "
        "never writes, so it was not opened. Open it in Word and save it again as .docx."
    )


def test_docx_part_over_the_size_limit_is_refused(monkeypatch):
    monkeypatch.setattr(extract_module, "DOCX_PART_MAX_BYTES", MB)
    data = make_docx(paragraph(run("x" * MB)))

    assert refusal(data, "huge.docx") == (
        "huge.docx: this Word file's text would unpack to more than 1 MB, far beyond any "
        "real document (it is damaged, or built to overload the server), so it was not opened."
    )


@pytest.mark.parametrize(
    "xml",
    ["<w:document><w:body>", '<?xml version="1.0" encoding="bogus"?><w:document/>'],
    ids=["unclosed", "unknown encoding"],
)
def test_docx_with_broken_xml(xml):
    data = make_zip({"word/document.xml": xml})

    assert refusal(data, "x.docx") == (
        "x.docx: this Word file is damaged: its text (word/document.xml) is not well-formed "
        "XML. Open it in Word and save it again as .docx."
    )


def test_zip_without_a_word_document():
    data = make_zip({"notes/readme.txt": "hello"})

    assert refusal(data, "notes.docx") == (
        "notes.docx: this is a ZIP archive, not a Word document, which cannot be read as "
        f"text. Unpack it and upload the document itself. {ACCEPTED}"
    )


def test_excel_workbook_is_refused():
    data = make_zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<workbook/>"})

    assert refusal(data, "data.xlsx") == (
        "data.xlsx: this is an Excel workbook (.xlsx), which cannot be read as text. "
        f"Copy the text into a .docx or .txt file. {ACCEPTED}"
    )


def test_damaged_zip():
    data = make_docx(DOCX_BODY)

    assert "this Word (or ZIP) file is damaged" in refusal(data[: len(data) // 2], "x.docx")


# Plain text


SAMPLE = "Café naïve – “safe” 😀 𠀋\n"


@pytest.mark.parametrize(
    ("data", "text"),
    [
        pytest.param(SAMPLE.encode("utf-8"), SAMPLE, id="utf-8"),
        pytest.param(codecs.BOM_UTF8 + SAMPLE.encode(), SAMPLE, id="utf-8 with BOM"),
        pytest.param(SAMPLE.encode("utf-16"), SAMPLE, id="utf-16 with BOM"),
        pytest.param(
            codecs.BOM_UTF16_BE + SAMPLE.encode("utf-16-be"), SAMPLE, id="utf-16-be with BOM"
        ),
        pytest.param(
            "Notes on the café\r\nsecond line".encode("utf-16-le"),
            "Notes on the café\nsecond line",
            id="utf-16-le without BOM",
        ),
        pytest.param(
            "The café was “safe” – mostly.\r\n".encode("cp1252"),
            "The café was “safe” – mostly.\n",
            id="cp1252",
        ),
        pytest.param(b"one\r\ntwo\rthree\nfour", "one\ntwo\nthree\nfour", id="CRLF and CR"),
        pytest.param(b"NUL\x00s\x00 removed", "NULs removed", id="NUL"),
    ],
)
def test_txt_decoding(data, text):
    result = extracted(data, "notes.txt")

    assert result.kind == "txt"
    assert result.pages is None
    assert result.text == text
    assert result.warnings == []


def test_txt_cp1252_with_letters_that_differ_in_cp1250():
    text = "Señor Muñoz found the naïve staff à côté.\n"

    assert extracted(text.encode("cp1252"), "notes.txt").text == text


def test_txt_unpaired_surrogate_is_replaced_with_a_warning():
    data = codecs.BOM_UTF16_LE + b"o\x00k\x00 \x00" + b"\x00\xd8" + b"e\x00n\x00d\x00"

    result = extracted(data, "notes.txt")

    assert result.text == "ok \ufffdend"
    assert result.warnings == ["1 damaged character (unpaired surrogate) replaced with \ufffd."]


def test_html_saved_as_pdf():
    data = b"<!DOCTYPE html>\n<html><body>Sign in to read this article</body></html>"

    assert refusal(data, "smith2020.pdf") == (
        "smith2020.pdf: this is a web page (HTML), not a PDF. Download the article again, "
        "or paste its text instead."
    )


def test_whitespace_only_text():
    assert refusal(b" \r\n\t\n", "blank.txt") == "blank.txt: no text found in this file."


def test_empty_file():
    assert refusal(b"", "empty.txt") == "empty.txt: the file is empty."


# Other formats and limits


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(20), "this is a PNG image"),
        (b"\xff\xd8\xff\xe0" + bytes(20), "this is a JPEG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(20), "this is an old-style Office file"),
        (b"{\\rtf1\\ansi Hello}", "this is a Rich Text (.rtf) file"),
        (bytes(range(256)) * 4, "this is a file in a format that is not text"),
    ],
)
def test_other_formats_are_refused_naming_the_accepted_ones(data, what):
    message = refusal(data, "upload.doc")

    assert message.startswith(f"upload.doc: {what}")
    assert ", which cannot be read as text." in message
    assert message.endswith(ACCEPTED)


def test_file_over_the_size_limit():
    assert refusal(b"x" * (MB + 1), "big.txt", max_bytes=MB) == (
        "big.txt: the file is over the 1 MB limit for uploads."
    )


def test_upload_over_the_size_limit_gives_its_size():
    upload = SimpleUploadedFile("big.txt", b"x" * (3 * MB // 2))

    with pytest.raises(ExtractError) as caught:
        extract_text(upload, upload.name, max_bytes=MB)

    assert caught.value.message == "big.txt: the file is 1.5 MB, over the 1 MB limit for uploads."


def test_upload_already_read_is_read_from_the_start():
    upload = SimpleUploadedFile("notes.txt", b"Already read once.")
    upload.read()

    assert extract_text(upload, upload.name, max_bytes=MB).text == "Already read once."


# Pasted text


def test_pasted_text_is_cleaned():
    pasted = "one\r\ntwo\rthree\x00 \ud83d\ude00 \ud800"

    assert clean_pasted_text(pasted) == "one\ntwo\nthree 😀 \ufffd"


def test_blank_pasted_text():
    with pytest.raises(ExtractError) as caught:
        clean_pasted_text(" \r\n\t")

    assert caught.value.message == "The pasted text is empty."


# Real files from ../shared/data


@pytest.fixture
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is absent (it exists on the team's machines and in CI)")
    return SHARED_DATA


def test_real_windows_text_export(shared_data):
    path = shared_data / "import-samples/wos/wosfile/wos_tab_delimited_win_utf8.txt"

    result = extracted(path.read_bytes(), path.name, max_bytes=10 * MB)

    assert result.kind == "txt"
    assert result.text.startswith("PT\tAU\t")
    assert "\r" not in result.text and "\ufeff" not in result.text


def test_real_qda_project_is_not_a_word_document(shared_data):
    path = shared_data / "refi-qda/samples/skyloom-TestProject.qdpx"

    assert "this is a ZIP archive, not a Word document" in refusal(path.read_bytes(), path.name)
