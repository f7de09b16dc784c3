"""PRISMA exports: the SVG and PDF diagrams and the PRISMA2020 package's CSV template, each
written for a small review whose flow is known, compared with prisma_counts."""

import csv
import io
import xml.etree.ElementTree as ET
from pathlib import Path

import pypdf
import pytest

from exports.registry import get_format, no_progress
from exports.writers.prisma import HEADER, TEMPLATE, other_method_slot
from screening.decisions import record_decision, resolve_conflict
from screening.fulltexts import mark_not_retrieved
from screening.models import ExclusionReason, Record
from screening.prisma import prisma_counts
from tests.screening.factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
TEMPLATE_FILE = SHARED_DATA / "prisma2020" / "PRISMA.csv"
SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture
def flow(review, lead, reviewer, reviewer2):
    """PsycINFO 5 + ASSIA 2 (one a duplicate) + Experts 1 + Citation searching 1: 8 kept;
    6 screened, 1 excluded at title/abstract, 3 sought: 1 not retrieved, 1 excluded
    ("Not peer reviewed"), 1 included; from other methods 1 included, 1 excluded after a
    resolved conflict ("Not in English, or translated")."""
    peer = ExclusionReason.objects.create(review=review, text="Not peer reviewed", position=0)
    english = ExclusionReason.objects.create(
        review=review, text="Not in English, or translated", position=1
    )
    import_file(review, ris_bytes([work(n) for n in range(1, 6)]), source="PsycINFO")
    import_file(review, ris_bytes([work(1, id="d"), work(6)]), source="ASSIA")
    import_file(review, ris_bytes([work(7)]), source="Experts", kind="other")
    import_file(review, ris_bytes([work(8)]), source="Citation searching", kind="other")
    records = {r.source_id: r for r in Record.objects.filter(duplicate_of=None)}
    both = (reviewer, reviewer2)
    for person in both:
        for key in ("E1", "E2", "E4"):
            record_decision(record=records[key], stage="ta", reviewer=person, value="include")
        record_decision(record=records["E3"], stage="ta", reviewer=person, value="exclude")
    mark_not_retrieved(records["E2"], "Library could not supply it", lead)
    for person in both:
        record_decision(record=records["E1"], stage="ft", reviewer=person, value="exclude",
                        reason=peer)  # fmt: skip
        record_decision(record=records["E4"], stage="ft", reviewer=person, value="include")
        record_decision(record=records["E7"], stage="ft", reviewer=person, value="include")
    record_decision(record=records["E8"], stage="ft", reviewer=reviewer, value="include")
    record_decision(record=records["E8"], stage="ft", reviewer=reviewer2, value="exclude",
                    reason=english)  # fmt: skip
    resolve_conflict(record=records["E8"], stage="ft", user=lead, value="exclude", reason=english)
    return review


def export(name, review, **options):
    out = io.BytesIO()
    fractions = []
    get_format(name).write(
        review, out, progress=lambda f, message="": fractions.append(f), options=options
    )
    assert not out.closed
    assert fractions[-1] == 1.0
    return out.getvalue()


def test_formats_are_registered():
    for name, extension in (("prisma-svg", "svg"), ("prisma-pdf", "pdf"), ("prisma-csv", "csv")):
        assert (get_format(name).group, get_format(name).extension) == ("PRISMA", extension)


def test_the_fixture_flow(flow):
    c = prisma_counts(flow)
    assert (c.databases, c.other_sources) == (
        {"ASSIA": 2, "PsycINFO": 5},
        {"Citation searching": 1, "Experts": 1},
    )
    assert (c.duplicates_removed, c.screened, c.screening_excluded, c.sought) == (1, 6, 1, 3)
    assert (c.not_retrieved, c.assessed) == (1, 2)
    assert c.excluded_reasons == {"Not peer reviewed": 1, "Not in English, or translated": 0}
    assert (c.other_sought, c.other_not_retrieved, c.other_assessed) == (2, 0, 2)
    assert c.other_excluded_reasons == {"Not peer reviewed": 0, "Not in English, or translated": 1}
    assert (c.studies_included, c.reports_included) == (2, 2)
    assert len(c.notes) == 1  # E5 and E6 still await title/abstract decisions


# --- SVG ----------------------------------------------------------------------------------


def test_svg_is_a_standalone_document(flow):
    data = export("prisma-svg", flow)
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3')
    root = ET.fromstring(data)
    assert root.tag == f"{SVG}svg"
    assert root.get("width") and root.get("width") != "100%"  # a size of its own
    assert root.find(f"{SVG}title").text == "PRISMA 2020 flow diagram: Avoidable harm review"
    texts = [" ".join("".join(t.itertext()).split()) for t in root.iter(f"{SVG}text")]
    for expected in ("Records screened (n = 6)", "Records excluded (n = 1)",
                     "Reports not retrieved (n = 1)", "Reports assessed for eligibility (n = 2)",
                     "Not peer reviewed (n = 1)", "Studies included in review (n = 2)",
                     "Identification of studies via other methods", "Experts (n = 1)"):  # fmt: skip
        assert expected in texts
    # The note about records still waiting is part of the exported diagram.
    assert any("await title/abstract decisions" in t for t in texts)


# --- PDF ----------------------------------------------------------------------------------


def pdf_text(data):
    reader = pypdf.PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    return reader, " ".join(reader.pages[0].extract_text().split())


def test_pdf_has_the_diagram_in_prisma_wording(flow):
    data = export("prisma-pdf", flow)
    assert data.startswith(b"%PDF-")
    reader, text = pdf_text(data)
    for expected in (
        "Identification of studies via databases and registers",
        "Identification of studies via other methods",
        "Records identified from:", "Databases (n = 7)", "PsycINFO (n = 5)", "ASSIA (n = 2)",
        "Experts (n = 1)", "Citation searching (n = 1)",
        "Duplicate records removed (n = 1)", "Records screened (n = 6)",
        "Records excluded (n = 1)", "Reports sought for retrieval (n = 3)",
        "Reports not retrieved (n = 1)", "Reports assessed for eligibility (n = 2)",
        "Reports excluded:", "Not peer reviewed (n = 1)",
        "Reports sought for retrieval (n = 2)", "Not in English, or translated (n = 1)",
        "Studies included in review (n = 2)", "Reports of included studies (n = 2)",
        "Identification", "Screening", "Included",
    ):  # fmt: skip
        assert expected in text, expected
    page = reader.pages[0]
    assert float(page.mediabox.width) > float(page.mediabox.height)  # landscape
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)
    meta = reader.metadata
    assert meta.author == "reviewapp" and meta.creator == "reviewapp"
    assert meta.title == "PRISMA 2020 flow diagram: Avoidable harm review"
    fonts = {str(font["/BaseFont"]) for font in page["/Resources"]["/Font"].values()}
    assert fonts <= {"/Helvetica", "/Helvetica-Bold"}


def test_pdf_without_other_methods_and_with_unusual_names(review, reviewer, reviewer2):
    review.title = "Harm – in Łódź 文献"
    review.save()
    import_file(review, ris_bytes([work(1)]), source="Łódź Library Index")
    data = export("prisma-pdf", review)
    reader, text = pdf_text(data)
    assert "via other methods" not in text
    # What Helvetica can show of it: WinAnsi keeps "ó" and "–", "ź" loses its accent, "Ł"
    # its stroke, and a character with no Latin form becomes "?".
    assert "Lódz Library Index (n = 1)" in text
    assert "Reports excluded (n = 0)" in text
    assert reader.metadata.title == "PRISMA 2020 flow diagram: Harm – in Lódz ??"


# --- PRISMA2020 CSV -----------------------------------------------------------------------


def read_csv(data):
    assert not data.startswith(b"\xef\xbb\xbf")  # R's read.csv would keep a BOM
    return list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))


def test_template_constant_matches_the_package_file():
    if not TEMPLATE_FILE.is_file():
        pytest.skip(f"{TEMPLATE_FILE} is absent (it exists on the team's machines and in CI)")
    with TEMPLATE_FILE.open(newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert tuple(rows[0]) == HEADER
    assert [tuple(row[:7]) for row in rows[1:]] == list(TEMPLATE)


def test_csv_has_the_template_rows_and_the_review_counts(flow):
    data = export("prisma-csv", flow)
    assert b"\r\n" in data
    rows = read_csv(data)
    assert tuple(rows[0]) == HEADER
    assert [tuple(row[:7]) for row in rows[1:]] == list(TEMPLATE)
    n = {row[0]: row[7] for row in rows[1:] if row[0] != "NA"}
    c = prisma_counts(flow)
    assert n == {
        "previous_studies": "NA",
        "previous_reports": "NA",
        "database_results": str(c.databases_total),
        "database_specific_results": "ASSIA, 2; PsycINFO, 5",
        "register_results": "NA",
        "register_specific_results": "NA",
        "website_results": "NA",
        "organisation_results": "1",  # Experts
        "citations_results": "1",
        "duplicates": "1",
        "excluded_automatic": "0",
        "excluded_other": "0",
        "records_screened": str(c.screened),
        "records_excluded": str(c.screening_excluded),
        "dbr_sought_reports": str(c.sought),
        "dbr_notretrieved_reports": str(c.not_retrieved),
        "other_sought_reports": str(c.other_sought),
        "other_notretrieved_reports": "0",
        "dbr_assessed": str(c.assessed),
        # The package splits on "," and ";", so a reason's own comma becomes " / ".
        "dbr_excluded": "Not peer reviewed, 1; Not in English / or translated, 0",
        "other_assessed": "2",
        "other_excluded": "Not peer reviewed, 0; Not in English / or translated, 1",
        "new_studies": "2",
        "new_reports": "2",
        "total_studies": "2",
        "total_reports": "2",
        "identification": "0",
        "screening": "0",
        "included": "0",
        "total_studies_ma": "NA",
        "total_reports_ma": "NA",
    }
    assert (c.databases_total, c.screened, c.screening_excluded) == (7, 6, 1)
    assert (c.sought, c.not_retrieved, c.assessed, c.other_sought) == (3, 1, 2, 2)
    assert [row[7] for row in rows[1:] if row[0] == "NA"] == ["0", "0", "0"]


def test_csv_without_other_methods_or_reasons(review):
    import_file(review, ris_bytes([work(1), work(2)]), source="=HYPERLINK(evil)")
    n = {row[0]: row[7] for row in read_csv(export("prisma-csv", review))[1:]}
    # No other methods: every row of that column is "not applicable", so the package
    # leaves the column out; no exclusion reasons: the total stands alone.
    for key in ("website_results", "organisation_results", "citations_results",
                "other_sought_reports", "other_notretrieved_reports", "other_assessed",
                "other_excluded"):  # fmt: skip
        assert n[key] == "NA"
    assert n["dbr_excluded"] == "0"
    assert n["database_specific_results"] == "'=HYPERLINK(evil), 2"  # no formula in Excel
    assert n["records_screened"] == "2"


def test_other_method_slots():
    assert other_method_slot("Citation searching") == "citations_results"
    assert other_method_slot("Reference lists of included studies") == "citations_results"
    assert other_method_slot("Google Scholar") == "website_results"
    assert other_method_slot("Charity websites") == "website_results"
    assert other_method_slot("Expert and Advisory Group recommendations") == (
        "organisation_results"
    )


def test_writers_accept_the_registry_no_progress(flow):
    out = io.BytesIO()
    get_format("prisma-csv").write(flow, out, progress=no_progress, options={})
    assert out.getvalue().startswith(b"data,node,box,")
