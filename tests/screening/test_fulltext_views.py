"""Full-text assessment: attaching and serving full texts, full-text decisions, and the
studies that included reports make up. Who may do each, and what it changes."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from screening.decisions import config_for, record_decision
from screening.models import (
    Decision,
    ExclusionReason,
    FullText,
    Record,
    RecordStage,
    Study,
    StudyReport,
)
from screening.models.decisions import StageStatus
from screening.storage import fulltext_storage
from tests.factories import ReviewFactory

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db
S = StageStatus


def minimal_pdf(text="Service users' experiences of avoidable harm"):
    """A small valid one-page PDF (header, five objects, cross-reference table, trailer)."""
    content = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.fixture(autouse=True)
def media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    # The field's storage was built when the model loaded, from the MEDIA_ROOT of then:
    # give it one under this test's MEDIA_ROOT.
    monkeypatch.setattr(FullText._meta.get_field("file"), "storage", fulltext_storage())
    return tmp_path / "private" / "fulltexts"


@pytest.fixture
def reasons(review):
    return [
        ExclusionReason.objects.create(review=review, text="Not a community setting", position=1),
        ExclusionReason.objects.create(review=review, text="Not peer reviewed", position=2),
    ]


def to_full_text(record, *reviewers):
    for person in reviewers:
        record_decision(record=record, stage="ta", reviewer=person, value="include")
    return RecordStage.objects.get(record=record, stage="ft")


@pytest.fixture
def records(review, lead):
    import_file(review, ris_bytes([work(n) for n in range(1, 4)]), user=lead)
    return list(Record.objects.order_by("id"))


@pytest.fixture
def at_ft(records, reviewer, reviewer2):
    """The first record, included at title/abstract and waiting at full text."""
    to_full_text(records[0], reviewer, reviewer2)
    return records[0]


def url(name, review, record=None):
    args = [review.slug] if record is None else [review.slug, record.pk]
    return reverse(name, args=args)


def upload_pdf(client, review, record, content=None, name="carr-2015.pdf"):
    upload = SimpleUploadedFile(name, minimal_pdf() if content is None else content)
    return client.post(
        url("fulltext_attach", review, record), {"action": "pdf", "pdf-file": upload}
    )


# --- who may do what ---------------------------------------------------------------------

VIEWS = [
    # (method, url name, needs a record, POST data)
    ("get", "fulltext_list", False, {}),
    ("get", "fulltext_record", True, {}),
    ("post", "fulltext_record", True, {"value": "include", "version": "0"}),
    ("post", "fulltext_attach", True, {"action": "link", "link-link": "https://example.org/a"}),
    ("get", "fulltext_file", True, {}),
    ("get", "studies", False, {}),
    ("post", "study_link", False, {"record_id": "", "study_id": "new"}),
]


@pytest.fixture
def with_pdf(client_for, review, lead, at_ft):
    upload_pdf(client_for(lead), review, at_ft)
    return at_ft


@pytest.mark.parametrize("persona", ["lead", "reviewer", "advisory", "outsider"])
@pytest.mark.parametrize(("method", "name", "needs_record", "data"), VIEWS)
def test_role_matrix(
    client_for, review, personas, with_pdf, persona, method, name, needs_record, data
):
    client = client_for(personas[persona])
    response = getattr(client, method)(url(name, review, with_pdf if needs_record else None), data)
    if persona == "outsider":
        assert response.status_code == 404
    elif persona == "advisory":
        # Advisory Group members never see full texts or the assessment.
        assert response.status_code == 403
    else:
        assert response.status_code in (200, 302, 400)
        assert response.status_code != 400 or name == "study_link"


@pytest.mark.parametrize(("method", "name", "needs_record", "data"), VIEWS)
def test_anonymous_is_sent_to_sign_in(client, review, at_ft, method, name, needs_record, data):
    response = getattr(client, method)(url(name, review, at_ft if needs_record else None), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("method", "name", "needs_record"),
    [
        ("post", "fulltext_list", False),
        ("put", "fulltext_record", True),
        ("get", "fulltext_attach", True),
        ("post", "fulltext_file", True),
        ("post", "studies", False),
        ("get", "study_link", False),
    ],
)
def test_wrong_method_is_405(client_for, review, lead, at_ft, method, name, needs_record):
    response = getattr(client_for(lead), method)(url(name, review, at_ft if needs_record else None))
    assert response.status_code == 405


def test_forbidden_attach_and_decision_change_nothing(client_for, review, advisory, at_ft):
    client = client_for(advisory)
    upload_pdf(client, review, at_ft)
    client.post(url("fulltext_record", review, at_ft), {"value": "include", "version": "0"})
    assert not FullText.objects.exists()
    assert not Decision.objects.filter(stage="ft").exists()


def test_records_of_another_review_and_before_full_text_are_404(
    client_for, review, lead, records, at_ft
):
    other = ReviewFactory()
    import_file(other, ris_bytes([work(9)]))
    foreign = Record.objects.get(review=other)
    client = client_for(lead)
    for record in (foreign, records[1]):  # another review's; still at title/abstract
        assert client.get(url("fulltext_record", review, record)).status_code == 404
        assert upload_pdf(client, review, record).status_code == 404
        assert client.get(url("fulltext_file", review, record)).status_code == 404
    assert not FullText.objects.exists()


def test_file_is_404_when_no_pdf_is_attached(client_for, review, lead, at_ft):
    assert client_for(lead).get(url("fulltext_file", review, at_ft)).status_code == 404


# --- attaching and serving ---------------------------------------------------------------


def test_pdf_is_stored_and_served_byte_identical_to_researchers_only(
    client_for, review, reviewer, reviewer2, at_ft
):
    pdf = minimal_pdf()
    response = upload_pdf(client_for(reviewer), review, at_ft, pdf, name="Carr et al 2015.PDF")
    assert response.status_code == 302
    assert response["Location"] == url("fulltext_record", review, at_ft)
    full_text = FullText.objects.get()
    assert (full_text.record, full_text.file_name, full_text.added_by) == (
        at_ft,
        "Carr et al 2015.PDF",
        reviewer,
    )
    assert full_text.file.name.endswith(".pdf") and "Carr" not in full_text.file.name
    served = client_for(reviewer2).get(url("fulltext_file", review, at_ft))
    assert served.status_code == 200
    assert b"".join(served.streaming_content) == pdf
    assert served["Content-Type"] == "application/pdf"
    assert served["Content-Disposition"] == 'inline; filename="Carr et al 2015.pdf"'
    assert served["X-Content-Type-Options"] == "nosniff"
    assert served["Cache-Control"] == "private, no-store"
    assert served["X-Frame-Options"] == "SAMEORIGIN"
    policy = {d.split()[0]: d.split()[1:] for d in served["Content-Security-Policy"].split("; ")}
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["default-src"] == ["'none'"]
    assert policy["object-src"] == ["'self'"]
    # The page that frames it keeps the site's policy (and may frame our own pages only).
    page = client_for(reviewer2).get(url("fulltext_record", review, at_ft))
    assert "frame-ancestors 'none'" in page["Content-Security-Policy"]
    assert "default-src 'self'" in page["Content-Security-Policy"]
    html = page.content.decode()
    assert f'src="{url("fulltext_file", review, at_ft)}"' in html
    assert 'title="Full text of record #' in html
    assert 'href="https://doi.org/10.1234/harm.1"' in html


def test_an_awkward_file_name_is_made_safe_for_the_download(client_for, review, lead, at_ft):
    upload_pdf(client_for(lead), review, at_ft, name="Smith & Jones <v2> ✓.pdf")
    served = client_for(lead).get(url("fulltext_file", review, at_ft))
    assert served["Content-Disposition"] == 'inline; filename="Smith _ Jones _v2.pdf"'


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ('a"b;\r\nevil.pdf', "a_b_evil.pdf"),
        ("../../etc/passwd", "etc_passwd.pdf"),
        ("", "record-7.pdf"),
        ("Étude qualitative.PDF", "Étude qualitative.pdf"),
    ],
)
def test_safe_filename(name, expected):
    from screening.views.fulltext import safe_filename

    assert safe_filename(name, 7) == expected


def test_a_new_pdf_replaces_the_old_file(
    client_for, review, lead, at_ft, django_capture_on_commit_callbacks
):
    client = client_for(lead)
    upload_pdf(client, review, at_ft, minimal_pdf("first"), name="first.pdf")
    old = FullText.objects.get().file.name
    storage = FullText._meta.get_field("file").storage
    with django_capture_on_commit_callbacks(execute=True):
        upload_pdf(client, review, at_ft, minimal_pdf("second"), name="second.pdf")
    full_text = FullText.objects.get()
    assert full_text.file_name == "second.pdf" and full_text.file.name != old
    assert not storage.exists(old)
    served = client.get(url("fulltext_file", review, at_ft))
    assert b"".join(served.streaming_content) == minimal_pdf("second")


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("article.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>"),
        ("setup.exe", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
        ("setup.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64),
        ("article.html", minimal_pdf()),
    ],
)
def test_anything_but_a_pdf_is_refused_naming_the_file(
    client_for, review, lead, at_ft, media, name, content
):
    response = upload_pdf(client_for(lead), review, at_ft, content, name=name)
    assert response.status_code == 400
    assert f"{name} is not a PDF" in response.content.decode()
    assert not FullText.objects.exists()
    assert not [path for path in media.rglob("*") if path.is_file()]


def test_an_oversized_pdf_is_refused(client_for, review, lead, at_ft, settings):
    settings.FULLTEXT_MAX_UPLOAD_MB = 0
    response = upload_pdf(client_for(lead), review, at_ft, name="huge.pdf")
    assert response.status_code == 400
    assert "huge.pdf is 0.0 MB, larger than the 0 MB limit" in response.content.decode()
    big = minimal_pdf() + b"%" + b"x" * 70_000
    response = upload_pdf(client_for(lead), review, at_ft, big, name="huge.pdf")
    assert response.status_code == 413
    assert "larger than the 0 MB limit" in response.content.decode()
    assert not FullText.objects.exists()


def test_an_empty_file_is_refused(client_for, review, lead, at_ft):
    response = upload_pdf(client_for(lead), review, at_ft, b"", name="empty.pdf")
    assert response.status_code == 400
    assert not FullText.objects.exists()


def test_a_web_link_is_saved(client_for, review, reviewer, at_ft):
    link = "https://doi.org/10.1234/harm.1"
    response = client_for(reviewer).post(
        url("fulltext_attach", review, at_ft), {"action": "link", "link-link": f"  {link} "}
    )
    assert response.status_code == 302
    full_text = FullText.objects.get()
    assert (full_text.link, full_text.file.name, full_text.added_by) == (link, "", reviewer)
    page = client_for(reviewer).get(url("fulltext_record", review, at_ft)).content.decode()
    assert f'href="{link}"' in page


@pytest.mark.parametrize(
    "link", ["javascript:alert(document.cookie)", "ftp://example.org/a.pdf", "not a link"]
)
def test_links_that_are_not_web_addresses_are_refused(client_for, review, lead, at_ft, link):
    response = client_for(lead).post(
        url("fulltext_attach", review, at_ft), {"action": "link", "link-link": link}
    )
    assert response.status_code == 400
    assert "starting with http:// or https://" in response.content.decode()
    assert not FullText.objects.exists()


def test_not_retrieved_with_a_reason_and_back(client_for, review, reviewer, at_ft):
    client = client_for(reviewer)
    target = url("fulltext_attach", review, at_ft)
    response = client.post(target, {"action": "not_retrieved", "nr-reason": "  "})
    assert response.status_code == 400
    assert RecordStage.objects.get(record=at_ft, stage="ft").status == S.AWAITING
    reason = "Not held by the library; authors did not reply"
    client.post(target, {"action": "not_retrieved", "nr-reason": reason})
    full_text = FullText.objects.get()
    assert (full_text.not_retrieved, full_text.not_retrieved_reason) == (True, reason)
    row = RecordStage.objects.get(record=at_ft, stage="ft")
    assert row.status == S.NOT_RETRIEVED
    # Nothing to assess until it is found.
    response = client.post(
        url("fulltext_record", review, at_ft), {"value": "include", "version": 0}
    )
    assert response.status_code == 400
    assert not Decision.objects.filter(stage="ft").exists()
    client.post(target, {"action": "retrieved"})
    full_text.refresh_from_db()
    assert (full_text.not_retrieved, full_text.not_retrieved_reason) == (False, "")
    assert RecordStage.objects.get(record=at_ft, stage="ft").status == S.AWAITING


def test_attaching_a_pdf_ends_not_retrieved(client_for, review, lead, at_ft):
    client = client_for(lead)
    target = url("fulltext_attach", review, at_ft)
    client.post(target, {"action": "not_retrieved", "nr-reason": "Library could not get it"})
    upload_pdf(client, review, at_ft)
    full_text = FullText.objects.get()
    assert (full_text.not_retrieved, full_text.not_retrieved_reason) == (False, "")
    assert RecordStage.objects.get(record=at_ft, stage="ft").status == S.AWAITING


def test_a_record_with_a_pdf_cannot_be_marked_not_retrieved(client_for, review, lead, with_pdf):
    response = client_for(lead).post(
        url("fulltext_attach", review, with_pdf), {"action": "not_retrieved", "nr-reason": "x"}
    )
    assert response.status_code == 400
    assert "A PDF of this record is attached" in response.content.decode()
    assert FullText.objects.get().not_retrieved is False


def test_unknown_attach_action_is_404(client_for, review, lead, at_ft):
    response = client_for(lead).post(url("fulltext_attach", review, at_ft), {"action": "delete"})
    assert response.status_code == 404


# --- decisions ---------------------------------------------------------------------------


def decide(client, review, record, value, reason=None, note="", version=0):
    data = {"value": value, "note": note, "version": version}
    if reason is not None:
        data["reason"] = reason.pk
    return client.post(url("fulltext_record", review, record), data)


def test_two_includes_make_a_study(client_for, review, reviewer, reviewer2, at_ft):
    response = decide(client_for(reviewer), review, at_ft, "include", note="Community team")
    assert response.status_code == 302
    mine = Decision.objects.get(stage="ft", reviewer=reviewer)
    assert (mine.value, mine.reason, mine.note, mine.version) == (
        "include",
        None,
        "Community team",
        1,
    )
    assert RecordStage.objects.get(record=at_ft, stage="ft").status == S.AWAITING_MORE
    decide(client_for(reviewer2), review, at_ft, "include")
    assert RecordStage.objects.get(record=at_ft, stage="ft").status == S.INCLUDED
    study = Study.objects.get()
    assert study.label == f"Author1 {at_ft.year}"
    assert list(study.reports.values_list("record_id", "is_primary")) == [(at_ft.pk, True)]


def test_exclude_needs_a_reason_from_the_list(client_for, review, reviewer, at_ft, reasons):
    client = client_for(reviewer)
    response = decide(client, review, at_ft, "exclude")
    assert response.status_code == 400
    assert "Choose the exclusion reason" in response.content.decode()
    assert not Decision.objects.filter(stage="ft").exists()
    foreign = ExclusionReason.objects.create(review=ReviewFactory(), text="Elsewhere")
    assert decide(client, review, at_ft, "exclude", foreign).status_code == 400
    assert decide(client, review, at_ft, "maybe").status_code == 400
    assert not Decision.objects.filter(stage="ft").exists()
    decide(client, review, at_ft, "exclude", reasons[0], note="Inpatient ward")
    mine = Decision.objects.get(stage="ft")
    assert (mine.value, mine.reason, mine.note) == ("exclude", reasons[0], "Inpatient ward")


def test_excludes_with_different_reasons_are_a_conflict(
    client_for, review, reviewer, reviewer2, at_ft, reasons
):
    decide(client_for(reviewer), review, at_ft, "exclude", reasons[0])
    decide(client_for(reviewer2), review, at_ft, "exclude", reasons[1])
    assert RecordStage.objects.get(record=at_ft, stage="ft").status == S.CONFLICT


def test_excludes_with_the_same_reason_exclude(
    client_for, review, reviewer, reviewer2, at_ft, reasons
):
    decide(client_for(reviewer), review, at_ft, "exclude", reasons[1])
    decide(client_for(reviewer2), review, at_ft, "exclude", reasons[1])
    assert RecordStage.objects.get(record=at_ft, stage="ft").status == S.EXCLUDED
    assert not Study.objects.exists()


def test_a_stale_page_cannot_overwrite_a_newer_decision(
    client_for, review, reviewer, at_ft, reasons
):
    client = client_for(reviewer)
    decide(client, review, at_ft, "include")
    decide(client, review, at_ft, "exclude", reasons[0], version=1)
    response = decide(client, review, at_ft, "include", version=1)
    assert response.status_code == 409
    assert "changed since this page was opened" in response.content.decode()
    mine = Decision.objects.get(stage="ft")
    assert (mine.value, mine.version) == ("exclude", 2)


def test_after_deciding_the_next_record_needing_me_opens(
    client_for, review, reviewer, reviewer2, records
):
    for record in records[:2]:
        to_full_text(record, reviewer, reviewer2)
    client = client_for(reviewer)
    first = RecordStage.objects.filter(stage="ft").order_by("order_key", "id")[0].record
    second = RecordStage.objects.filter(stage="ft").order_by("order_key", "id")[1].record
    listing = client.get(url("fulltext_list", review))
    assert listing.context["next_row"].record == first
    response = decide(client, review, first, "include")
    assert response["Location"] == url("fulltext_record", review, second)
    response = decide(client, review, second, "include")
    assert response["Location"] == url("fulltext_list", review)


def test_blind_reviewer_sees_only_their_own_decision_until_settled(
    client_for, review, reviewer, reviewer2, at_ft, reasons
):
    decide(client_for(reviewer2), review, at_ft, "exclude", reasons[0], note="SECRET-NOTE")
    decide(client_for(reviewer), review, at_ft, "include", note="mine")
    page = client_for(reviewer).get(url("fulltext_record", review, at_ft))
    html = page.content.decode()
    assert page.context["others"] == [] and "SECRET-NOTE" not in html
    assert "Ravi Reviewer" not in html
    assert "All decisions in; awaiting the outcome" in html
    listing = client_for(reviewer).get(url("fulltext_list", review)).content.decode()
    assert "Conflict" not in listing and "awaiting the outcome" in listing
    # With blinding off the other decision shows.
    config = config_for(review)
    config.blind = False
    config.save()
    page = client_for(reviewer).get(url("fulltext_record", review, at_ft))
    assert "SECRET-NOTE" in page.content.decode()


def test_the_list_shows_full_text_state_and_my_decision(
    client_for, review, reviewer, reviewer2, records
):
    for record in records:
        to_full_text(record, reviewer, reviewer2)
    client = client_for(reviewer)
    upload_pdf(client, review, records[0])
    client.post(
        url("fulltext_attach", review, records[1]),
        {"action": "not_retrieved", "nr-reason": "Not held"},
    )
    decide(client, review, records[2], "include")
    rows = {
        row.record_id: (full_text, status, row.my_decision)
        for row, full_text, status in client.get(url("fulltext_list", review)).context["items"]
    }
    assert rows[records[0].pk][0].file_name == "carr-2015.pdf"
    assert rows[records[1].pk][1] == "Full text not retrieved"
    assert rows[records[2].pk][1:] == ("Awaiting another reviewer", "include")
    missing = client.get(url("fulltext_list", review), {"show": "missing"}).context["items"]
    assert [row.record_id for row, *_ in missing] == [records[2].pk]
    mine = client.get(url("fulltext_list", review), {"show": "mine"}).context["items"]
    assert sorted(row.record_id for row, *_ in mine) == [records[0].pk]


# --- studies -----------------------------------------------------------------------------


@pytest.fixture
def two_included(review, reviewer, reviewer2, records):
    for record in records[:2]:
        to_full_text(record, reviewer, reviewer2)
        for person in (reviewer, reviewer2):
            record_decision(record=record, stage="ft", reviewer=person, value="include")
    return records[:2]


def test_a_later_report_is_linked_into_a_study_and_separated_again(
    client_for, review, reviewer, two_included
):
    first, later = two_included
    study = StudyReport.objects.get(record=first).study
    emptied = StudyReport.objects.get(record=later).study
    client = client_for(reviewer)
    response = client.post(url("study_link", review), {"record_id": later.pk, "study_id": study.pk})
    assert response.status_code == 302
    assert response["Location"] == f"{url('studies', review)}#study-{study.pk}"
    assert list(
        study.reports.order_by("-is_primary", "id").values_list("record_id", "is_primary")
    ) == [(first.pk, True), (later.pk, False)]
    assert not Study.objects.filter(pk=emptied.pk).exists()
    page = client.get(url("studies", review))
    html = page.content.decode()
    assert html.index(f"#{first.pk})") < html.index(f"#{later.pk})")
    assert [s.pk for s in page.context["page"].object_list] == [study.pk]
    # Separating the later report again makes it a study of its own.
    client.post(url("study_link", review), {"record_id": later.pk, "study_id": "new"})
    own = StudyReport.objects.get(record=later)
    assert own.study_id != study.pk and own.is_primary is True
    assert Study.objects.count() == 2


def test_moving_the_primary_report_promotes_the_next(client_for, review, lead, records, reviewer,
                                                     reviewer2, two_included):  # fmt: skip
    first, later = two_included
    study = StudyReport.objects.get(record=first).study
    client = client_for(lead)
    client.post(url("study_link", review), {"record_id": later.pk, "study_id": study.pk})
    client.post(url("study_link", review), {"record_id": first.pk, "study_id": "new"})
    assert StudyReport.objects.get(record=later).is_primary is True
    assert StudyReport.objects.get(record=later).study_id == study.pk


def test_linking_refuses_what_it_cannot_do(client_for, review, lead, records, two_included):
    first, later = two_included
    study = StudyReport.objects.get(record=first).study
    other_review_study = Study.objects.create(review=ReviewFactory(), label="Elsewhere 2020")
    client = client_for(lead)
    cases = [
        {"record_id": records[2].pk, "study_id": study.pk},  # not included
        {"record_id": first.pk, "study_id": other_review_study.pk},
        {"record_id": first.pk, "study_id": study.pk},  # already there
        {"record_id": first.pk, "study_id": "new"},  # already on its own
        {"record_id": "", "study_id": study.pk},
    ]
    for data in cases:
        assert client.post(url("study_link", review), data).status_code == 400, data
    assert sorted(StudyReport.objects.values_list("record_id", "is_primary")) == [
        (first.pk, True),
        (later.pk, True),
    ]


# --- query counts ------------------------------------------------------------------------


def _many_at_full_text(review, lead, reviewer, reviewer2, start, count):
    import_file(
        review, ris_bytes([work(n) for n in range(start, start + count)]), user=lead, source="X"
    )
    for record in Record.objects.filter(stages__stage="ta", stages__status=S.AWAITING):
        to_full_text(record, reviewer, reviewer2)


@pytest.mark.parametrize("persona", ["lead", "reviewer"])
def test_fulltext_list_query_count_is_pinned(
    client_for, review, personas, reviewer, reviewer2, lead, at_ft, queries_of,
    django_assert_num_queries, persona,
):  # fmt: skip
    client = client_for(personas[persona])
    upload_pdf(client, review, at_ft)
    target = url("fulltext_list", review)
    with_one = queries_of(client, target)
    _many_at_full_text(review, lead, reviewer, reviewer2, 10, 8)
    for record in Record.objects.filter(stages__stage="ft")[:3]:
        upload_pdf(client, review, record)
        decide(client, review, record, "include")
    assert RecordStage.objects.filter(stage="ft").count() >= 9
    with django_assert_num_queries(with_one):
        client.get(target)


def test_studies_query_count_is_pinned(
    client_for, review, lead, reviewer, reviewer2, two_included, queries_of,
    django_assert_num_queries,
):  # fmt: skip
    client = client_for(reviewer)
    target = url("studies", review)
    with_few = queries_of(client, target)
    _many_at_full_text(review, lead, reviewer, reviewer2, 20, 6)
    for record in Record.objects.filter(stages__stage="ft", stages__status=S.AWAITING):
        for person in (reviewer, reviewer2):
            record_decision(record=record, stage="ft", reviewer=person, value="include")
    first = Study.objects.order_by("id").first()
    for report in StudyReport.objects.exclude(study=first)[:3]:
        client.post(
            url("study_link", review), {"record_id": report.record_id, "study_id": first.pk}
        )
    assert Study.objects.count() >= 5 and StudyReport.objects.count() >= 8
    with django_assert_num_queries(with_few):
        client.get(target)


def test_an_adjudicator_reviewer_sees_conflicts_in_the_list(
    client_for, review, reviewer, reviewer2, at_ft, reasons
):
    decide(client_for(reviewer), review, at_ft, "include")
    decide(client_for(reviewer2), review, at_ft, "exclude", reasons[0])
    config_for(review).adjudicators.add(reviewer)
    listing = client_for(reviewer).get(url("fulltext_list", review)).content.decode()
    assert reverse("conflict_resolve", args=[review.slug, "ft", at_ft.pk]) in listing


# --- concurrency (PostgreSQL) ------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_crossed_links_at_the_same_instant_neither_deadlock_nor_corrupt(
    review, lead, reviewer, reviewer2, attempt
):
    from django.db import connection

    from screening.fulltexts import link_report

    from .test_concurrency import run_together

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks and real concurrent connections")
    import_file(review, ris_bytes([work(1), work(2)]), user=lead)
    first, second = Record.objects.order_by("id")
    for record in (first, second):
        to_full_text(record, reviewer, reviewer2)
        for person in (reviewer, reviewer2):
            record_decision(record=record, stage="ft", reviewer=person, value="include")
    study_of = {r.pk: StudyReport.objects.get(record=r).study for r in (first, second)}
    errors = run_together(
        lambda: link_report(first, study_of[second.pk], reviewer),
        lambda: link_report(second, study_of[first.pk], reviewer2),
    )
    # One move wins; the other finds its study gone and says so (never a deadlock).
    assert [str(e) for e in errors] == [
        "The studies changed meanwhile: reload the page and try again."
    ]
    study = Study.objects.get()
    assert sorted(study.reports.values_list("record_id", flat=True)) == [first.pk, second.pk]
    assert list(study.reports.values_list("is_primary", flat=True)).count(True) == 1
