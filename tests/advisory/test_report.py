"""The involvement report (GRIPP2 short form): its data, its CSV and Word files, and who may
download them."""

import csv
import io
import zipfile
from datetime import date

import docx
import pytest
from django.urls import reverse
from django.utils import timezone

from advisory.comments import post_comment, respond, withdraw_comment
from advisory.models import AdvisorySpace, Meeting, SharedExcerpt, SharedTheme
from advisory.report import FORMATS, SECTIONS, build_report, letters, write_csv, write_docx
from coding.codebook import create_code
from coding.documents import add_document
from coding.excerpts import create_excerpt
from coding.revisions import record_change
from screening.models import Study
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

WITHDRAWN = "I would rather not have said this about my mother."
FORMULA = '=HYPERLINK("http://evil.example","click")'


@pytest.fixture
def bea(review):
    return MembershipFactory(review=review, role="advisory", user__name="Bea Brave").user


@pytest.fixture
def world(review, lead, reviewer, advisory, bea):
    """Bea comments first (Member A), then Ada (Member B); a reviewer replies; Ada withdraws
    one comment; one comment led to a revision of the theme's plain title, one did not."""
    AdvisorySpace.objects.create(review=review, summary="We look at avoidable harm in care.")
    theme = create_code(review=review, user=lead, name="Access")
    other = create_code(review=review, user=lead, name="Relationships")
    shared = SharedTheme.objects.create(
        review=review, theme=theme, plain_title="Getting care", shared=True,
        shared_at=timezone.now(), position=0,
    )  # fmt: skip
    second = SharedTheme.objects.create(
        review=review, theme=other, plain_title="Staff", shared=True, shared_at=timezone.now(),
        position=1,
    )  # fmt: skip
    SharedTheme.objects.create(
        review=review, theme=create_code(review=review, user=lead, name="Hidden"), shared=False
    )
    study = Study.objects.create(review=review, label="Smith 2020")
    document = add_document(study=study, title="Findings", text="Staff were kind to us.",
                            source="paste", user=lead)  # fmt: skip
    version = document.versions.get()
    excerpt = create_excerpt(version=version, coder=reviewer, start=0, end=len(version.text),
                             code_ids=[other.pk])  # fmt: skip
    shown = SharedExcerpt.objects.create(shared_theme=second, excerpt=excerpt)

    first = post_comment(shared_theme=shared, author=bea, body="The title is confusing.")
    ada_kept = post_comment(shared_theme=shared, author=advisory, body="It misses waiting.")
    reply = post_comment(shared_theme=shared, author=reviewer, body="Thanks, noted.", parent=first)
    gone = post_comment(shared_theme=shared, author=advisory, body=WITHDRAWN)
    withdraw_comment(comment=gone, user=advisory)
    formula = post_comment(shared_theme=second, author=bea, body=FORMULA, shared_excerpt=shown)
    minus = post_comment(shared_theme=second, author=advisory, body="-1 from me")

    revision = record_change(
        theme=theme, user=lead, reason="The group found the title unclear",
        before={"plain_title": "Getting care"}, after={"plain_title": "Getting the care you need"},
    )  # fmt: skip
    respond(comment=first, author=lead, text="We renamed the theme.", changed=True,
            revision=revision)  # fmt: skip
    respond(comment=ada_kept, author=lead, text="Waiting is in another theme.", changed=False)

    meeting = Meeting.objects.create(review=review, date=date(2025, 3, 12), title="First meeting",
                                     other_attendees="Carl Carer, Fiona Friend")  # fmt: skip
    meeting.attendees.add(advisory, bea, lead)
    Meeting.objects.create(review=review, date=date(2025, 1, 20), title="Welcome")
    return {
        "shared": shared, "first": first, "ada_kept": ada_kept, "reply": reply, "gone": gone,
        "formula": formula, "minus": minus, "revision": revision, "excerpt": excerpt,
    }  # fmt: skip


def csv_rows(data):
    assert data.startswith(b"\xef\xbb\xbf")
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


def docx_xml(data):
    """Every XML part of the document, joined: the text, and the properties."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert "word/document.xml" in names
        assert "docProps/core.xml" in names
        return b"".join(archive.read(name) for name in names if name.endswith(".xml"))


def people(review):
    return [m.user for m in review.memberships.select_related("user")]


class TestBuildReport:
    def test_counts(self, world, review):
        report = build_report(review)
        assert report.sections == SECTIONS
        assert report.summary == "We look at avoidable harm in care."
        assert report.advisory_members == 2
        assert report.comment_count == 6
        assert report.group_comment_count == 5
        assert report.researcher_comment_count == 1
        assert report.withdrawn_count == 1
        assert [t.title for t in report.themes] == ["Getting care", "Staff"]
        assert [t.comment_count for t in report.themes] == [4, 2]
        assert report.led_to_change == 1
        assert report.no_change == 1
        # Bea's formula and Ada's "-1" have no response; the withdrawn one is not awaited.
        assert report.awaiting_response == 2

    def test_meetings_in_date_order_with_attendance(self, world, review):
        meetings = build_report(review).meetings
        assert [(m.date, m.title) for m in meetings] == [
            (date(2025, 1, 20), "Welcome"), (date(2025, 3, 12), "First meeting"),
        ]  # fmt: skip
        first = meetings[1]
        assert (first.advisory_attending, first.researchers_attending, first.others_attending,
                first.attendance) == (2, 1, 2, 5)  # fmt: skip
        assert meetings[0].attendance == 0

    def test_members_lettered_in_order_of_first_comment(self, world, review):
        comments = {c.id: c for t in build_report(review).themes for c in t.comments}
        assert comments[world["first"].pk].author == "Member A"  # Bea commented first
        assert comments[world["ada_kept"].pk].author == "Member B"
        assert comments[world["reply"].pk].author == "Researcher"
        assert comments[world["formula"].pk].author == "Member A"

    def test_replies_follow_their_parent(self, world, review):
        getting_care = build_report(review).themes[0]
        assert [(c.id, c.depth) for c in getting_care.comments] == [
            (world["first"].pk, 0), (world["reply"].pk, 1), (world["ada_kept"].pk, 0),
            (world["gone"].pk, 0),
        ]  # fmt: skip

    def test_withdrawn_comment_counted_without_text_or_author(self, world, review):
        comments = {c.id: c for t in build_report(review).themes for c in t.comments}
        gone = comments[world["gone"].pk]
        assert (gone.withdrawn, gone.text, gone.author) == (True, "", "")

    def test_outcome_links_revision_and_comment(self, world, review):
        (outcome,) = build_report(review).outcomes
        assert outcome.revision_id == world["revision"].pk
        assert outcome.theme == "Access"
        assert outcome.reason == "The group found the title unclear"
        assert outcome.changes == [
            "Plain-language title changed from “Getting care” to “Getting the care you need”"
        ]
        assert [c.id for c in outcome.comments] == [world["first"].pk]

    def test_names_when_the_lead_chooses(self, world, review):
        comments = {
            c.id: c for t in build_report(review, pseudonymise=False).themes for c in t.comments
        }
        assert comments[world["first"].pk].author == "Bea Brave"
        assert comments[world["ada_kept"].pk].author == "Ada Advisor"
        assert comments[world["reply"].pk].author == "Rita Reviewer"

    def test_query_count_does_not_grow_with_rows(
        self, world, review, advisory, django_assert_num_queries
    ):
        with django_assert_num_queries(6):
            build_report(review)
        for n in range(5):
            post_comment(shared_theme=world["shared"], author=advisory, body=f"More {n}")
        with django_assert_num_queries(6):
            build_report(review)

    def test_empty_review(self, review, lead):
        report = build_report(review)
        assert (report.comment_count, report.themes, report.outcomes) == (0, [], [])
        assert report.summary.startswith("(No plain-language summary")
        assert write_csv(report).decode("utf-8-sig").count("\n") == 1
        headings = [p.text for p in docx.Document(io.BytesIO(write_docx(report))).paragraphs
                    if p.style.name == "Heading 1"]  # fmt: skip
        assert headings == list(SECTIONS)


def test_letters_go_on_past_z():
    assert [letters(i) for i in (0, 1, 25, 26, 27, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "ZZ", "AAA",
    ]  # fmt: skip


class TestCsv:
    def test_one_row_per_comment(self, world, review):
        rows = csv_rows(write_csv(build_report(review)))
        assert [int(r["comment id"]) for r in rows] == [
            world[k].pk for k in ("first", "reply", "ada_kept", "gone", "formula", "minus")
        ]
        first = rows[0]
        assert first["section"] == SECTIONS[2]
        assert first["theme"] == "Getting care"
        assert first["author"] == "Member A"
        assert first["comment text"] == "The title is confusing."
        assert first["withdrawn"] == "no"
        assert first["response"] == "We renamed the theme."
        assert first["changed"] == "yes"
        assert first["revision id"] == str(world["revision"].pk)
        assert "Getting the care you need" in first["revision summary"]
        assert first["date"] == timezone.localdate(world["first"].created_at).isoformat()
        assert rows[1]["parent id"] == str(world["first"].pk)
        assert rows[2]["changed"] == "no"
        assert rows[4]["excerpt id"] == str(world["excerpt"].pk)
        assert rows[5]["changed"] == ""  # no response yet

    def test_withdrawn_text_absent(self, world, review):
        data = write_csv(build_report(review, pseudonymise=False))
        assert WITHDRAWN.encode() not in data
        gone = csv_rows(data)[3]
        assert (gone["withdrawn"], gone["comment text"], gone["author"]) == ("yes", "", "")

    def test_formula_injection_neutralised(self, world, review):
        rows = csv_rows(write_csv(build_report(review)))
        assert rows[4]["comment text"] == "'" + FORMULA
        assert rows[5]["comment text"] == "'-1 from me"
        assert not any(
            value.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for value in r.values()
        )

    def test_no_name_or_email_by_default(self, world, review):
        data = write_csv(build_report(review))
        for user in people(review):
            assert user.name.encode() not in data
            assert user.email.encode() not in data
            assert user.email.split("@")[0].encode() not in data
        assert b"@example.org" not in data

    def test_names_but_never_emails(self, world, review):
        data = write_csv(build_report(review, pseudonymise=False))
        assert b"Bea Brave" in data
        assert b"Ada Advisor" in data
        for user in people(review):
            assert user.email.encode() not in data
        assert b"@example.org" not in data


class TestDocx:
    def test_sections_in_order(self, world, review):
        document = docx.Document(io.BytesIO(write_docx(build_report(review))))
        headings = [(p.style.name, p.text) for p in document.paragraphs
                    if p.style.name.startswith("Heading")]  # fmt: skip
        assert [text for style, text in headings if style == "Heading 1"] == list(SECTIONS)
        assert ("Heading 2", "Getting care") in headings
        assert ("Heading 2", "Meetings") in headings
        assert document.core_properties.author == "reviewapp"
        assert document.core_properties.last_modified_by == "reviewapp"

    def test_tables_and_outcomes(self, world, review):
        document = docx.Document(io.BytesIO(write_docx(build_report(review))))
        meetings, rounds, getting_care, staff = document.tables
        assert [c.text for c in meetings.rows[2].cells] == [
            "12 March 2025", "First meeting", "2", "1", "2", "5",
        ]  # fmt: skip
        assert [c.text for c in rounds.rows[1].cells][::2] == ["Getting care", "4"]
        first = getting_care.rows[1].cells
        assert first[1].text == "Member A"
        assert first[3].text == "The title is confusing."
        assert first[4].text.startswith("Changed: We renamed the theme.")
        bullets = [p.text for p in document.paragraphs if p.style.name.startswith("List Bullet")]
        revision = world["revision"].pk
        assert any(f"(revision {revision})" in text for text in bullets)
        assert f"Prompted by comment #{world['first'].pk}. Member A: The title is confusing." in (
            bullets
        )
        reflections = document.paragraphs[-1].text
        assert reflections.startswith("This section is for the team to write")

    def test_no_name_or_email_by_default(self, world, review):
        xml = docx_xml(write_docx(build_report(review)))
        for user in people(review):
            assert user.name.encode() not in xml
            assert user.email.encode() not in xml
        assert b"@example.org" not in xml
        assert b"python-docx" not in xml
        assert WITHDRAWN.encode() not in xml

    def test_names_but_never_emails(self, world, review):
        xml = docx_xml(write_docx(build_report(review, pseudonymise=False)))
        assert b"Bea Brave" in xml
        assert b"@example.org" not in xml
        assert WITHDRAWN.encode() not in xml

    def test_text_xml_cannot_hold_is_dropped(self, world, review, advisory):
        post_comment(shared_theme=world["shared"], author=advisory, body="bell\x07 and\x0b tab")
        document = docx.Document(io.BytesIO(write_docx(build_report(review))))
        assert any("bell and tab" in c.text for t in document.tables for c in t.column_cells(3))


def test_formats_for_the_export_path():
    assert FORMATS["involvement-csv"] == (write_csv, "text/csv", "csv")
    assert FORMATS["involvement-docx"][0] is write_docx
    assert FORMATS["involvement-docx"][2] == "docx"


def url(name, review):
    return reverse(name, args=[review.slug])


class TestViews:
    def test_lead_sees_the_page(self, client_for, world, lead, review):
        response = client_for(lead).get(url("involvement_report", review))
        assert response.status_code == 200
        body = response.content.decode()
        for section in SECTIONS:
            assert section in body
        assert "Use members&#x27; names instead of Member A, B, …" in body
        assert 'type="checkbox" name="names"' in body
        assert "checked" not in body.split('name="names"')[1].split(">")[0]

    def test_form_redirects_to_the_download(self, client_for, world, lead, review):
        client = client_for(lead)
        response = client.get(url("involvement_report", review), {"format": "csv"})
        assert response.status_code == 302
        assert response["Location"] == url("involvement_csv", review)
        response = client.get(url("involvement_report", review),
                              {"format": "docx", "names": "on"})  # fmt: skip
        assert response["Location"] == url("involvement_docx", review) + "?names=1"

    def test_bad_format_shows_the_form_again(self, client_for, world, lead, review):
        response = client_for(lead).get(url("involvement_report", review), {"format": "pdf"})
        assert response.status_code == 200
        assert "There is a problem" in response.content.decode()

    def test_csv_download(self, client_for, world, lead, review):
        response = client_for(lead).get(url("involvement_csv", review))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/csv"
        assert response["Content-Disposition"] == (
            'attachment; filename="harm-involvement-report.csv"'
        )
        assert "no-store" in response["Cache-Control"]
        assert b"Member A" in response.content
        assert b"Bea Brave" not in response.content

    def test_docx_download_with_names(self, client_for, world, lead, review):
        response = client_for(lead).get(url("involvement_docx", review), {"names": "1"})
        assert response.status_code == 200
        assert response["Content-Type"] == FORMATS["involvement-docx"][1]
        assert response["Content-Disposition"] == (
            'attachment; filename="harm-involvement-report.docx"'
        )
        xml = docx_xml(response.content)
        assert b"Bea Brave" in xml
        assert b"@example.org" not in xml

    @pytest.mark.parametrize("name", ["involvement_report", "involvement_csv", "involvement_docx"])
    def test_reviewer_and_advisory_forbidden(self, client_for, world, reviewer, advisory, review,
                                             name):  # fmt: skip
        assert client_for(reviewer).get(url(name, review)).status_code == 403
        assert client_for(advisory).get(url(name, review)).status_code == 403

    @pytest.mark.parametrize("name", ["involvement_report", "involvement_csv", "involvement_docx"])
    def test_outsider_not_found(self, client_for, world, outsider, review, name):
        assert client_for(outsider).get(url(name, review)).status_code == 404

    @pytest.mark.parametrize("name", ["involvement_report", "involvement_csv", "involvement_docx"])
    def test_anonymous_sent_to_sign_in(self, client_for, world, review, name):
        response = client_for(None).get(url(name, review))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))

    @pytest.mark.parametrize("name", ["involvement_report", "involvement_csv", "involvement_docx"])
    def test_post_not_allowed(self, client_for, world, lead, review, name):
        assert client_for(lead).post(url(name, review)).status_code == 405
