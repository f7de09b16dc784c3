"""Included studies as RIS, BibTeX and CSV: each file imports back into a fresh review through
the real importer with the same fields, reads in a reference manager's parser (rispy,
bibtexparser), and can be limited to chosen studies."""

import csv
import io
import re

import bibtexparser
import pytest
import rispy
from bibtexparser.middlewares import LatexDecodingMiddleware, SeparateCoAuthors

from exports.registry import ExportError, get_format
from exports.writers.included import bibtex_type, ris_type
from screening.importers.rows import RECORD_FIELDS
from screening.models import Record, Study, StudyReport
from tests.factories import ReviewFactory
from tests.screening.factories import import_file

pytestmark = pytest.mark.django_db

# Characters LaTeX reads as markup, ligatures, a backslash, non-ASCII: the title must survive.
AWKWARD_TITLE = (
    "Harm & help: {braces}, 50% of $costs_x #1 ~ \"quotes\" -- ``ticks'' a\\b, naïve ±5 — ok"
)
SOURCE = f"""TY  - JOUR
ID  - SRC-1
TI  - {AWKWARD_TITLE}
AU  - Smith, John
AU  - van der Berg, Anna
AU  - O'Brien, P. J.
PY  - 2020
T2  - Journal of Mental Health & Social Care
VL  - 12
IS  - 3
SP  - 100
EP  - 110
DO  - 10.1234/jmh.2020_01(3)
PMID  - 31234567
UR  - https://example.org/article?id=1&x=%20y
KW  - social care
KW  - harm, avoidable
KW  - trust
LA  - English
M3  - Article
AB  - Background: people described 10% less support {{sic}}. Methods: interviews.
ER  -

TY  - JOUR
ID  - SRC-2
TI  - Follow-up of the Smith cohort: five years on
AU  - Smith, John
AU  - Green, Q.
PY  - 2023
T2  - British Journal of Social Work
VL  - 53
SP  - e1234
DO  - 10.1093/bjsw/bcad001
KW  - follow-up
AB  - Five years later, the same participants were interviewed again.
ER  -

TY  - JOUR
ID  - SRC-3
TI  - Service users' views of personal budgets
AU  - Jones, Mary
PY  - 2019
T2  - Disability and Society
ER  -

TY  - JOUR
ID  - SRC-4
TI  - A record that was not included
AU  - Else, Someone
PY  - 2018
ER  -
""".encode()


@pytest.fixture
def included(review, lead):
    """Smith 2020 (two reports, the first primary), Jones 2019 (one report), and a record
    that is in no study."""
    batch = import_file(review, SOURCE, user=lead)
    assert batch.status == "done", batch.error
    first, follow_up, jones_report, _ = Record.objects.filter(batch=batch).order_by("position")
    smith = Study.objects.create(review=review, label="Smith 2020")
    jones = Study.objects.create(review=review, label="Jones 2019")
    StudyReport.objects.create(study=smith, record=first, is_primary=True)
    StudyReport.objects.create(study=smith, record=follow_up)
    StudyReport.objects.create(study=jones, record=jones_report, is_primary=True)
    # In export order: studies by label, primary report first.
    return {"smith": smith, "jones": jones, "records": [jones_report, first, follow_up]}


def export(name, review, **options):
    out = io.BytesIO()
    steps = []
    get_format(name).write(review, out, progress=lambda f, m="": steps.append(f), options=options)
    assert steps[-1] == 1.0
    return out.getvalue()


def reimport(data, name):
    """The exported file imported into a fresh review: its records in file order."""
    fresh = ReviewFactory()
    batch = import_file(fresh, data, name=name, source="Export of another review")
    assert batch.status == "done", batch.error
    assert batch.skipped == []
    return list(Record.objects.filter(batch=batch).order_by("position"))


def fields_of(record):
    return {name: getattr(record, name) for name in RECORD_FIELDS}


def test_the_source_records_have_every_field(included):
    # The round trips below are only as good as the fields they carry.
    first = fields_of(included["records"][1])
    assert all(first.values()), [name for name, value in first.items() if not value]
    assert first["title"] == AWKWARD_TITLE
    assert first["pmid"] == "31234567"
    assert first["publication_type"] == "JOUR; Article"


# Each importer reads publication types in its own vocabulary (see the writer's docstring).
ROUND_TRIPS = {
    "included-ris": ("included.ris", lambda kind: kind),
    "included-bibtex": ("included.bib", lambda kind: "article"),
    "included-csv": ("included.csv", lambda kind: kind),
}


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_round_trip_through_the_importer_keeps_every_field(review, included, name):
    file_name, expected_type = ROUND_TRIPS[name]
    records = reimport(export(name, review), file_name)
    originals = included["records"]
    assert len(records) == len(originals)
    for record, original in zip(records, originals, strict=True):
        expected = fields_of(original)
        expected["publication_type"] = expected_type(original.publication_type)
        assert fields_of(record) == expected
        # The record id travels as the entry's own id.
        assert record.source_id == str(original.pk)


def test_ris_is_standard_for_a_reference_manager(review, included):
    data = export("included-ris", review)
    assert not data.startswith(b"\xef\xbb\xbf")  # rispy and older tools choke on a BOM
    entries = rispy.loads(data.decode("utf-8"))
    jones, first, follow_up = included["records"]
    assert len(entries) == 3
    entry = entries[1]
    assert entry["type_of_reference"] == "JOUR"
    assert entry["type_of_work"] == "Article"
    assert entry["id"] == str(first.pk)
    assert entry["title"] == AWKWARD_TITLE
    assert entry["authors"] == ["Smith, John", "van der Berg, Anna", "O'Brien, P. J."]
    assert entry["year"] == "2020"
    assert entry["secondary_title"] == "Journal of Mental Health & Social Care"
    assert (entry["volume"], entry["number"]) == ("12", "3")
    assert (entry["start_page"], entry["end_page"]) == ("100", "110")
    assert entry["doi"] == "10.1234/jmh.2020_01(3)"
    assert entry["urls"] == ["https://example.org/article?id=1&x=%20y"]
    assert entry["accession_number"] == "31234567"
    assert entry["database_provider"] == "NLM"
    assert entry["keywords"] == ["social care", "harm, avoidable", "trust"]
    assert entry["language"] == "English"
    assert entry["abstract"] == first.abstract
    assert entry["notes"] == ["Study: Smith 2020"]
    assert entries[2]["notes"] == ["Study: Smith 2020"]
    assert entries[2]["start_page"] == "e1234" and "end_page" not in entries[2]
    assert entries[0]["notes"] == ["Study: Jones 2019"]
    assert "unknown_tag" not in entry
    assert data.count(b"\r\nER  - \r\n") == 3


def test_bibtex_parses_with_bibtexparser(review, included):
    text = export("included-bibtex", review).decode("utf-8")
    library = bibtexparser.parse_string(
        text, append_middleware=[LatexDecodingMiddleware(), SeparateCoAuthors()]
    )
    assert library.failed_blocks == []
    jones, first, follow_up = included["records"]
    assert [e.key for e in library.entries] == [str(r.pk) for r in (jones, first, follow_up)]
    entry = library.entries[1]
    assert entry.entry_type == "article"
    values = {field.key: field.value for field in entry.fields}
    assert values["title"] == AWKWARD_TITLE
    assert values["author"] == ["Smith, John", "van der Berg, Anna", "O'Brien, P. J."]
    assert values["year"] == "2020"
    assert values["journal"] == "Journal of Mental Health & Social Care"
    assert values["pages"] == "100\u2013110"  # "100--110": LaTeX's en dash
    assert values["doi"] == "10.1234/jmh.2020_01(3)"
    assert values["pmid"] == "31234567"
    assert values["keywords"] == "social care; harm, avoidable; trust"
    assert values["note"] == "Study: Smith 2020"
    assert values["abstract"] == first.abstract
    # The raw file: LaTeX's special characters escaped, braces balanced.
    assert r"Harm \& help: \{braces\}, 50\% of \$costs\_x \#1" in text
    assert r"-{}- `{}`ticks'{}' a\textbackslash{}b" in text


def test_organisation_as_author_and_a_lone_keyword_with_a_comma(review, lead):
    """BibTeX would read "World Health Organization" as given names and a surname, and a
    keyword list "harm, avoidable" as two keywords: both are written so they come back."""
    data = (
        b"TY  - RPRT\nTI  - Mental health atlas\nAU  - World Health Organization\n"
        b"AU  - Smith and Sons, Ltd\nKW  - harm, avoidable\nPY  - 2021\nER  - \n"
    )
    batch = import_file(review, data, user=lead)
    record = Record.objects.get(batch=batch)
    study = Study.objects.create(review=review, label="WHO 2021")
    StudyReport.objects.create(study=study, record=record, is_primary=True)
    bib = export("included-bibtex", review)
    assert b"author = {{World Health Organization} and {Smith and Sons, Ltd}}" in bib
    for name, file_name in (("included-bibtex", "included.bib"), ("included-ris", "i.ris")):
        (back,) = reimport(export(name, review), file_name)
        assert back.authors == ["World Health Organization", "Smith and Sons, Ltd"]
        assert back.keywords == ["harm, avoidable"]
    # The CSV importer reorders a name without a comma (the writer's docstring says so).
    (back,) = reimport(export("included-csv", review), "included.csv")
    assert back.authors == ["Organization, World Health", "Smith and Sons, Ltd"]
    assert bibtex_type(record.publication_type) == "techreport"
    (back,) = reimport(bib, "included.bib")
    assert back.publication_type == "techreport"


def test_csv_columns_and_formula_neutralised(review, included):
    first = included["records"][1]
    Record.objects.filter(pk=first.pk).update(title='=HYPERLINK("http://evil.example","x")',
                                              abstract="-1 point for services")  # fmt: skip
    data = export("included-csv", review)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert list(rows[0]) == [
        "record_id", "study", "title", "abstract", "authors", "year", "journal", "volume",
        "issue", "pages", "doi", "pmid", "url", "keywords", "language", "publication_type",
    ]  # fmt: skip
    assert [row["study"] for row in rows] == ["Jones 2019", "Smith 2020", "Smith 2020"]
    row = rows[1]
    assert row["record_id"] == str(first.pk)
    assert row["title"] == '\'=HYPERLINK("http://evil.example","x")'
    assert row["abstract"] == "'-1 point for services"
    assert row["authors"] == "Smith, John; van der Berg, Anna; O'Brien, P. J."
    assert row["keywords"] == "social care; harm, avoidable; trust"
    assert row["doi"] == "10.1234/jmh.2020_01(3)"
    assert row["pages"] == "100-110"
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value


@pytest.mark.parametrize("name", ROUND_TRIPS)
def test_a_subset_of_studies(review, included, name):
    jones = included["jones"]
    data = export(name, review, studies=[jones.pk])
    records = reimport(data, ROUND_TRIPS[name][0])
    assert [r.title for r in records] == ["Service users' views of personal budgets"]
    assert b"Smith 2020" not in data


def test_studies_given_as_text_ids_or_one_id(review, included):
    data = export("included-ris", review, studies=[str(included["smith"].pk)])
    assert data.count(b"ER  - ") == 2
    assert export("included-ris", review, studies=included["jones"].pk).count(b"ER  - ") == 1


def test_unknown_studies_are_named(review, included):
    elsewhere = Study.objects.create(review=ReviewFactory(), label="Other review 2020")
    with pytest.raises(ExportError) as caught:
        export("included-csv", review, studies=[included["jones"].pk, elsewhere.pk, 0, "x"])
    listed = re.search(r"studies with ids (.*?): ", str(caught.value)).group(1)
    assert listed.split(", ") == ["x", str(elsewhere.pk), "0"]


def test_a_review_without_included_studies_writes_empty_files(review):
    assert export("included-ris", review) == b""
    assert export("included-bibtex", review) == b""
    header = export("included-csv", review).decode("utf-8-sig")
    assert header.startswith("record_id,study,title,")
    assert header.count("\n") == 1


@pytest.mark.parametrize(
    ("stored", "ris", "bibtex"),
    [
        ("JOUR", ("JOUR", ""), "article"),
        ("JOUR; Article", ("JOUR", "Article"), "article"),
        ("CHAP", ("CHAP", ""), "incollection"),
        ("article", ("JOUR", "article"), "article"),
        ("phdthesis", ("THES", "phdthesis"), "phdthesis"),
        ("Journal Article", ("JOUR", "Journal Article"), "article"),
        ("Book Chapter", ("CHAP", "Book Chapter"), "incollection"),
        ("Conference Paper", ("CPAPER", "Conference Paper"), "inproceedings"),
        ("Poster", ("GEN", "Poster"), "misc"),
        ("", ("JOUR", ""), "article"),
    ],
)
def test_publication_types_map_between_vocabularies(stored, ris, bibtex):
    assert ris_type(stored, journal="A journal") == ris
    assert bibtex_type(stored, journal="A journal") == bibtex


def test_foreign_publication_type_comes_back_prefixed_in_ris(review, included):
    Record.objects.filter(pk=included["records"][0].pk).update(publication_type="Journal Article")
    (back,) = reimport(export("included-ris", review, studies=[included["jones"].pk]), "a.ris")
    assert back.publication_type == "JOUR; Journal Article"


def test_csv_cells_the_importer_would_split_are_written_as_lists(review, lead):
    """One author "Van Damme, Jean Claude" looks like two names to the CSV importer, and one
    keyword "harm, avoidable" like two keywords: such cells are written as list literals."""
    data = (
        b"TY  - JOUR\nTI  - One author\nAU  - Van Damme, Jean Claude\n"
        b"KW  - harm, avoidable\nER  - \n"
    )
    record = Record.objects.get(batch=import_file(review, data, user=lead))
    study = Study.objects.create(review=review, label="Van Damme n.d.")
    StudyReport.objects.create(study=study, record=record, is_primary=True)
    exported = export("included-csv", review)
    (row,) = csv.DictReader(io.StringIO(exported.decode("utf-8-sig")))
    assert (row["authors"], row["keywords"]) == (
        "['Van Damme, Jean Claude']",
        "['harm, avoidable']",
    )
    (back,) = reimport(exported, "included.csv")
    assert fields_of(back) == fields_of(record)
