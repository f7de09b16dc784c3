"""Coding exports: the excerpts report (Word), the quote table (CSV and Excel) and the themes ×
studies matrix (Excel), read back with python-docx, csv and openpyxl; the matrix checked
against the matrix page's own figures."""

import csv
import io
import zipfile

import docx
import openpyxl
import pytest
from django.urls import reverse

from coding.codebook import create_code
from coding.documents import add_document
from coding.excerpts import create_excerpt
from coding.models import Memo
from exports.registry import get_format
from exports.writers.coding import XLSX_CELL_MAX, _xlsx_text
from screening.models import Record, Study, StudyReport
from tests.exports.test_included_writers import ROUND_TRIPS, fields_of, reimport
from tests.factories import MembershipFactory, ReviewFactory
from tests.screening.factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

ADAMS_TEXT = (
    "Staff never believed me.\x0cThey did not listen either. "
    "=SUM(A1:A9) was the score they gave me. The waiting list was two years long. "
    "Nobody explained the budget."
)
BAKER_TEXT = "My social worker said I was exaggerating. I stopped asking for help."
FORMULA_QUOTE = "=SUM(A1:A9) was the score they gave me."


def span(text, quote):
    start = text.index(quote)
    return start, start + len(quote)


def code_excerpt(version, coder, quote, *codes, memo=""):
    start, end = span(version.text, quote)
    return create_excerpt(version=version, coder=coder, start=start, end=end,
                          code_ids=[c.pk for c in codes], memo=memo)  # fmt: skip


@pytest.fixture
def nameless(review):
    return MembershipFactory(review=review, role="reviewer", user__name="",
                             user__email="no.name@example.org").user  # fmt: skip


@pytest.fixture
def coded(review, lead, reviewer, nameless):
    """Adams 2019 and Baker 2021 have reports and documents; Carr 2023 a document and no
    excerpt; Dunn 2024 no document. Codebook: Trust > Being believed > Disbelief, Access,
    Waiting (never used).

    Adams: e1 Trust (memo); e2 Being believed + Disbelief; e3 Access + Being believed (all
    Lena); e5 Access (Rita, a quote that starts with "="). Baker: e4 Disbelief (the coder
    with no name)."""
    batch = import_file(review, ris_bytes([work(1), work(2)]), user=lead)
    first, second = Record.objects.filter(batch=batch).order_by("position")
    adams = Study.objects.create(review=review, label="Adams 2019")
    baker = Study.objects.create(review=review, label="Baker 2021")
    carr = Study.objects.create(review=review, label="Carr 2023")
    Study.objects.create(review=review, label="Dunn 2024")
    StudyReport.objects.create(study=adams, record=first, is_primary=True)
    StudyReport.objects.create(study=baker, record=second, is_primary=True)

    trust = create_code(review=review, user=lead, name="Trust", description="Relying on staff.")
    believed = create_code(review=review, user=lead, name="Being believed", parent=trust)
    disbelief = create_code(review=review, user=lead, name="Disbelief", parent=believed)
    access = create_code(review=review, user=lead, name="Access")
    waiting = create_code(review=review, user=lead, name="Waiting")

    def document(study, title, text):
        return add_document(study=study, title=title, text=text, source="paste",
                            user=lead).versions.get()  # fmt: skip

    adams_v = document(adams, "Adams findings", ADAMS_TEXT)
    baker_v = document(baker, "Baker findings", BAKER_TEXT)
    document(carr, "Carr findings", "Nothing coded here.")
    e1 = code_excerpt(adams_v, lead, "Staff never believed me.\x0cThey did not listen", trust,
                      memo="Central to the theme.")  # fmt: skip
    e2 = code_excerpt(adams_v, lead, "They did not listen either.", believed, disbelief)
    e3 = code_excerpt(adams_v, lead, "Nobody explained the budget.", access, believed)
    e4 = code_excerpt(baker_v, nameless, "I was exaggerating", disbelief)
    e5 = code_excerpt(adams_v, reviewer, FORMULA_QUOTE, access)
    Memo.objects.create(review=review, code=trust, author=lead, text="Trust is about staff.")
    Memo.objects.create(review=review, code=disbelief, author=reviewer, text="Often implicit.")

    # Another review's coding must not leak into this one's exports.
    other = ReviewFactory()
    other_study = Study.objects.create(review=other, label="Other 2020")
    other_code = create_code(review=other, user=lead, name="Other theme")
    other_v = document(other_study, "Other findings", "A secret quote from elsewhere.")
    code_excerpt(other_v, lead, "A secret quote", other_code)
    return {
        "codes": {"trust": trust, "believed": believed, "disbelief": disbelief,
                  "access": access, "waiting": waiting},
        "excerpts": [e1, e2, e3, e4, e5],
        "studies": {"adams": adams, "baker": baker, "carr": carr},
    }  # fmt: skip


def export(name, review, **options):
    out = io.BytesIO()
    steps = []
    get_format(name).write(review, out, progress=lambda f, m="": steps.append(f), options=options)
    assert steps[-1] == 1.0
    return out.getvalue()


# (theme, code path, study, coder, excerpt): each excerpt under each code it carries itself,
# in codebook order, then by study and position.
def expected_rows(coded):
    e1, e2, e3, e4, e5 = coded["excerpts"]
    t, b, d = "Trust", "Trust > Being believed", "Trust > Being believed > Disbelief"
    lena, rita, nameless = "Lena Lead", "Rita Reviewer", "no.name@example.org"
    return [
        ("Trust", t, "Adams 2019", lena, e1),
        ("Trust", b, "Adams 2019", lena, e2),
        ("Trust", b, "Adams 2019", lena, e3),
        ("Trust", d, "Adams 2019", lena, e2),
        ("Trust", d, "Baker 2021", nameless, e4),
        ("Access", "Access", "Adams 2019", rita, e5),
        ("Access", "Access", "Adams 2019", lena, e3),
    ]


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def test_excerpts_csv_one_row_per_excerpt_per_code(review, coded):
    rows = csv_rows(export("excerpts-csv", review))
    assert list(rows[0]) == ["theme", "code path", "study", "citation", "document", "version",
                             "coder", "start", "end", "quote", "memo", "created"]  # fmt: skip
    got = [(r["theme"], r["code path"], r["study"], r["coder"], r["start"], r["end"])
           for r in rows]  # fmt: skip
    assert got == [
        (theme, path, study, coder, str(e.start), str(e.end))
        for theme, path, study, coder, e in expected_rows(coded)
    ]
    first = rows[0]
    assert first["quote"] == "Staff never believed me.\x0cThey did not listen"
    assert first["memo"] == "Central to the theme."
    assert first["document"] == "Adams findings"
    assert first["version"] == "1"
    assert first["citation"].startswith("Author1 and Second (2011). Experiences of avoidable")
    assert rows[4]["citation"].startswith("Author2 and Second (2012).")
    assert len(first["created"]) == len("2025-01-02 03:04:05")
    # The quote that starts with "=" is text, not a formula.
    assert rows[5]["quote"] == "'" + FORMULA_QUOTE
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    assert not any("secret" in row["quote"] for row in rows)


def test_excerpts_xlsx_matches_the_csv(review, coded):
    data = export("excerpts-xlsx", review)
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.properties.creator == "reviewapp"
    sheet = workbook["Excerpts"]
    assert sheet.freeze_panes == "A2"
    values = list(sheet.iter_rows(values_only=True))
    header, rows = values[0], values[1:]
    assert header[:3] == ("theme", "code path", "study")
    from_csv = csv_rows(export("excerpts-csv", review))
    assert len(rows) == len(from_csv) == 7
    for row, expected in zip(rows, from_csv, strict=True):
        cells = dict(zip(header, row, strict=True))
        assert isinstance(cells["start"], int) and isinstance(cells["version"], int)
        assert cells["created"].isoformat(sep=" ") == expected["created"]
        # A form feed (from a PDF's page break) cannot be in an XLSX cell: it is dropped.
        assert (cells["quote"] or "") == expected["quote"].replace("\x0c", "")
        for name in ("theme", "code path", "study", "citation", "document", "coder", "memo"):
            assert (cells[name] or "") == expected[name], name
    formula = rows[5][header.index("quote")]
    assert formula == "'" + FORMULA_QUOTE
    assert sheet.cell(row=7, column=header.index("quote") + 1).data_type == "s"


def test_an_xlsx_cell_stays_within_excels_limit():
    cut = _xlsx_text("x" * 40_000)
    assert len(cut) == XLSX_CELL_MAX
    assert cut.endswith("[… cut: 40,000 characters in all]")


def test_excerpts_docx_headings_quotes_and_memos(review, coded):
    data = export("excerpts-docx", review)
    document = docx.Document(io.BytesIO(data))
    assert document.core_properties.author == "reviewapp"
    assert document.core_properties.last_modified_by == "reviewapp"
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = b"".join(archive.read(n) for n in archive.namelist() if n.endswith(".xml"))
    assert b"python-docx" not in xml
    assert b"secret" not in xml

    headings = [(p.style.name, p.text) for p in document.paragraphs
                if p.style.name.startswith(("Heading", "Title"))]  # fmt: skip
    assert headings == [
        ("Title", "Coded excerpts: Avoidable harm review"),
        ("Heading 1", "Trust"),
        ("Heading 2", "Being believed"),
        ("Heading 3", "Disbelief"),
        ("Heading 1", "Access"),
        ("Heading 1", "Waiting"),
        ("Heading 1", "Code memos"),
        ("Heading 2", "Trust"),
        ("Heading 2", "Trust > Being believed > Disbelief"),
    ]
    # Each quote under the heading of the code it carries, in the quote table's order.
    under, current = [], None
    for paragraph in document.paragraphs:
        if paragraph.style.name.startswith("Heading"):
            current = paragraph.text
        elif paragraph.style.name == "Quote":
            under.append((current, paragraph.text))
    assert under == [
        (path.rsplit(" > ", 1)[-1], e.text.replace("\x0c", ""))
        for _, path, _, _, e in expected_rows(coded)
    ]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "5 coded excerpts from 2 documents of 2 studies, by 3 coders" in text
    assert "the codebook has 3 themes and 2 codes beneath them" in text
    assert "Relying on staff." in text
    assert "Memo: Central to the theme." in text
    assert "Coder: no.name@example.org." in text
    assert "Adams 2019: Author1 and Second (2011)." in text
    assert "Document: Adams findings (version 1, characters" in text
    assert "No excerpt carries this theme yet." in text
    assert "Trust is about staff." in text and "Often implicit." in text
    assert "Rita Reviewer, " in text


def test_excerpts_docx_of_an_empty_codebook(review):
    document = docx.Document(io.BytesIO(export("excerpts-docx", review)))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "The codebook has no codes yet." in text
    assert "No code has a memo yet." in text


def matrix_sheet(data):
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    assert workbook.properties.creator == "reviewapp"
    assert workbook.sheetnames == ["Themes by study", "Studies", "About"]
    return workbook, list(workbook["Themes by study"].iter_rows(values_only=True))


@pytest.mark.parametrize(
    ("options", "query"),
    [({}, {}), ({"codes": True}, {"level": "codes"}), ({"level": "codes"}, {"level": "codes"})],
)
def test_matrix_equals_the_matrix_page(client_for, review, lead, coded, options, query):
    page = client_for(lead).get(reverse("coding_matrix", args=[review.slug]), query).context
    workbook, rows = matrix_sheet(export("matrix-xlsx", review, **options))
    header, body = rows[0], rows[1:]
    labels = [study.label for study in page["studies"]]
    assert list(header[2:-2]) == labels == ["Adams 2019", "Baker 2021", "Carr 2023"]
    expected = [
        (row["node"].code.name, row["node"].level_name, *(n for _, n in row["cells"]),
         row["studies"], row["excerpts"])
        for row in page["rows"]
    ]  # fmt: skip
    assert body[: len(expected)] == expected
    supported = body[len(expected) + 1]
    assert list(supported[2:5]) == page["supported"]


def test_matrix_figures_by_hand(review, coded):
    _, rows = matrix_sheet(export("matrix-xlsx", review, codes=True))
    assert rows[0] == ("Theme, code or sub-code", "Level", "Adams 2019", "Baker 2021",
                       "Carr 2023", "Studies", "Excerpts")  # fmt: skip
    assert rows[1:] == [
        ("Trust", "Theme", 3, 1, 0, 2, 4),
        ("Being believed", "Code", 2, 1, 0, 2, 3),
        ("Disbelief", "Sub-code", 1, 1, 0, 2, 2),
        ("Access", "Theme", 2, 0, 0, 1, 2),
        ("Waiting", "Theme", 0, 0, 0, 0, 0),
        (None,) * 7,
        ("Rows with excerpts", None, 4, 3, 0, None, None),
        ("Coded excerpts", None, 4, 1, 0, 2, 5),
    ]


def test_matrix_studies_and_about_sheets(review, coded):
    workbook, _ = matrix_sheet(export("matrix-xlsx", review))
    studies = list(workbook["Studies"].iter_rows(values_only=True))
    assert studies[0] == ("Study", "Citation", "Coded excerpts")
    assert [(label, n) for label, _, n in studies[1:]] == [
        ("Adams 2019", 4), ("Baker 2021", 1), ("Carr 2023", 0),
    ]  # fmt: skip
    assert studies[1][1].startswith("Author1 and Second (2011).")
    assert studies[3][1] is None  # Carr has no report, so no citation
    about = [row[0] for row in workbook["About"].iter_rows(values_only=True)]
    assert about[0] == "Themes × studies: Avoidable harm review"
    assert any("counts once" in line for line in about)


def test_matrix_names_are_never_formulas(review, lead, coded):
    create_code(review=review, user=lead, name="=1+1 theme")
    Study.objects.filter(pk=coded["studies"]["carr"].pk).update(label="@Carr 2023")
    workbook = openpyxl.load_workbook(io.BytesIO(export("matrix-xlsx", review)))
    sheet = workbook["Themes by study"]
    cells = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str)]
    assert "'=1+1 theme" in [c.value for c in cells]
    assert "'@Carr 2023" in [c.value for c in cells]
    assert all(cell.data_type == "s" for cell in cells)


def test_every_format_on_the_demo_review(client_for):
    """The seeded demo review (records, studies, coding, Advisory Group), seeded once for all
    of this module's formats and the included studies' and involvement report's: each file
    reads back, and the matrix equals the page's."""
    from reviewapp.demo import seed_demo
    from reviewapp.models import Membership, Role

    review, _ = seed_demo()
    lead = Membership.objects.get(review=review, role=Role.LEAD).user
    page = client_for(lead).get(reverse("coding_matrix", args=[review.slug]), {"level": "codes"})
    _, rows = matrix_sheet(export("matrix-xlsx", review, level="codes"))
    cells = [list(row[2:-2]) for row in rows[1 : len(page.context["rows"]) + 1]]
    assert cells == [[n for _, n in row["cells"]] for row in page.context["rows"]]
    assert sum(sum(row) for row in cells) > 0

    table = csv_rows(export("excerpts-csv", review))
    sheet = openpyxl.load_workbook(io.BytesIO(export("excerpts-xlsx", review)))["Excerpts"]
    assert len(table) == sheet.max_row - 1 > 0
    document = docx.Document(io.BytesIO(export("excerpts-docx", review)))
    assert sum(p.style.name == "Quote" for p in document.paragraphs) == len(table)

    studies = Study.objects.filter(review=review).count()
    assert studies > 0
    reports = StudyReport.objects.filter(study__review=review).select_related("record")
    originals = [r.record for r in reports.order_by("study__label", "study_id", "-is_primary",
                                                    "record_id")]  # fmt: skip
    assert len(originals) >= studies
    for name, (file_name, expected_type) in ROUND_TRIPS.items():
        records = reimport(export(name, review), file_name)
        assert len(records) == len(originals)
        for record, original in zip(records, originals, strict=True):
            expected = fields_of(original)
            expected["publication_type"] = expected_type(original.publication_type)
            assert fields_of(record) == expected
    assert export("involvement-docx", review).startswith(b"PK")
    assert csv_rows(export("involvement-csv", review))


@pytest.mark.parametrize("name", ["excerpts-csv", "excerpts-xlsx", "matrix-xlsx"])
def test_tables_of_a_review_with_no_coding(review, name):
    data = export(name, review)
    if name == "excerpts-csv":
        assert [list(row) for row in csv_rows(data)] == []
        return
    sheet = openpyxl.load_workbook(io.BytesIO(data)).worksheets[0]
    assert sheet.cell(row=1, column=1).value in ("theme", "Theme")
