"""The involvement report through the export path: both of advisory.report's formats are
registered, pseudonymised unless the lead asks for names."""

import csv
import io

import docx
import pytest
from django.utils import timezone

from advisory.comments import post_comment, respond
from advisory.models import SharedTheme
from advisory.report import FORMATS, SECTIONS, build_report, write_csv
from coding.codebook import create_code
from exports.registry import get_format

pytestmark = pytest.mark.django_db


@pytest.fixture
def commented(review, lead, advisory):
    theme = create_code(review=review, user=lead, name="Access")
    shared = SharedTheme.objects.create(review=review, theme=theme, plain_title="Getting care",
                                        shared=True, shared_at=timezone.now())  # fmt: skip
    comment = post_comment(shared_theme=shared, author=advisory, body="=The title confuses me.")
    respond(comment=comment, author=lead, text="We will reword it.", changed=False)
    return comment


def export(name, review, **options):
    out = io.BytesIO()
    steps = []
    get_format(name).write(review, out, progress=lambda f, m="": steps.append(f), options=options)
    assert steps[-1] == 1.0
    return out.getvalue()


@pytest.mark.parametrize("name", ["involvement-csv", "involvement-docx"])
def test_registered_as_advisory_report_says(name):
    found = get_format(name)
    _, content_type, extension = FORMATS[name]
    assert (found.group, found.content_type, found.extension) == (
        "Advisory Group", content_type, extension,
    )  # fmt: skip
    assert found.label.startswith("Advisory Group involvement")


def test_csv_is_the_reports_own_pseudonymised(review, commented):
    data = export("involvement-csv", review)
    assert data == write_csv(build_report(review))
    (row,) = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert row["author"] == "Member A"
    assert row["comment text"] == "'=The title confuses me."
    assert b"Ada Advisor" not in data


def test_csv_with_names_when_the_lead_asks(review, commented):
    data = export("involvement-csv", review, names=True)
    assert data == write_csv(build_report(review, pseudonymise=False))
    (row,) = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
    assert row["author"] == "Ada Advisor"
    assert b"@example.org" not in data


@pytest.mark.parametrize(
    ("options", "author"),
    [({}, "Member A"), ({"names": False}, "Member A"), ({"names": True}, "Ada Advisor")],
)
def test_docx_sections_and_naming(review, commented, options, author):
    document = docx.Document(io.BytesIO(export("involvement-docx", review, **options)))
    assert document.core_properties.author == "reviewapp"
    sections = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert sections == list(SECTIONS)
    (comments,) = [t for t in document.tables if t.rows[0].cells[0].text == "Comment"]
    assert comments.rows[1].cells[1].text == author
