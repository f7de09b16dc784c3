"""Conflicts (list and resolution) and the list of records awaiting another reviewer."""

import pytest
from django.urls import reverse

from screening.decisions import config_for, record_decision
from screening.models import (
    ExclusionReason,
    FullText,
    Record,
    RecordStage,
    Resolution,
    Study,
)
from screening.models.decisions import StageStatus
from screening.storage import fulltext_storage
from tests.factories import ReviewFactory

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db
S = StageStatus


@pytest.fixture(autouse=True)
def media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(FullText._meta.get_field("file"), "storage", fulltext_storage())


@pytest.fixture
def reasons(review):
    return [
        ExclusionReason.objects.create(review=review, text="Not a community setting", position=1),
        ExclusionReason.objects.create(review=review, text="Not peer reviewed", position=2),
    ]


@pytest.fixture
def records(review, lead):
    import_file(review, ris_bytes([work(n) for n in range(1, 5)]), user=lead)
    return list(Record.objects.order_by("id"))


def ta_conflict(record, a, b, note_a="", note_b=""):
    record_decision(record=record, stage="ta", reviewer=a, value="include", note=note_a)
    record_decision(record=record, stage="ta", reviewer=b, value="exclude", note=note_b)
    return RecordStage.objects.get(record=record, stage="ta")


def ft_conflict(record, a, b, reason_a, reason_b=None):
    for person in (a, b):
        record_decision(record=record, stage="ta", reviewer=person, value="include")
    if reason_b is None:
        record_decision(record=record, stage="ft", reviewer=a, value="include")
    else:
        record_decision(record=record, stage="ft", reviewer=a, value="exclude", reason=reason_b)
    record_decision(record=record, stage="ft", reviewer=b, value="exclude", reason=reason_a)
    return RecordStage.objects.get(record=record, stage="ft")


@pytest.fixture
def conflict(records, reviewer, reviewer2):
    """A title/abstract conflict on the first record."""
    return ta_conflict(
        records[0], reviewer, reviewer2, note_a="Community team", note_b="Inpatient only"
    )


def resolve_url(review, row):
    return reverse("conflict_resolve", args=[review.slug, row.stage, row.record_id])


# --- who may do what ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("lead", 200), ("reviewer", 403), ("advisory", 403), ("outsider", 404)],
)
def test_conflict_pages_are_for_leads_and_adjudicators(
    client_for, review, personas, conflict, persona, expected
):
    client = client_for(personas[persona])
    assert client.get(reverse("conflicts", args=[review.slug])).status_code == expected
    assert client.get(resolve_url(review, conflict)).status_code == expected
    response = client.post(resolve_url(review, conflict), {"value": "include", "note": "x"})
    assert response.status_code == (302 if persona == "lead" else expected)
    assert Resolution.objects.exists() == (persona == "lead")


def test_a_reviewer_named_adjudicator_resolves(client_for, review, reviewer, conflict, records):
    config_for(review).adjudicators.add(reviewer)
    client = client_for(reviewer)
    assert client.get(reverse("conflicts", args=[review.slug])).status_code == 200
    response = client.post(
        resolve_url(review, conflict), {"value": "exclude", "note": "Inpatient ward"}
    )
    assert response.status_code == 302
    resolution = Resolution.objects.get()
    assert (resolution.value, resolution.reason, resolution.note, resolution.decided_by) == (
        "exclude",
        None,
        "Inpatient ward",
        reviewer,
    )


@pytest.mark.parametrize(
    ("persona", "expected"),
    [("lead", 200), ("reviewer", 200), ("advisory", 403), ("outsider", 404)],
)
def test_awaiting_is_for_researchers(client_for, review, personas, persona, expected):
    response = client_for(personas[persona]).get(reverse("awaiting", args=[review.slug]))
    assert response.status_code == expected


@pytest.mark.parametrize(
    "target",
    [
        lambda review, row: reverse("conflicts", args=[review.slug]),
        lambda review, row: resolve_url(review, row),
        lambda review, row: reverse("awaiting", args=[review.slug]),
    ],
)
def test_anonymous_is_sent_to_sign_in(client, review, conflict, target):
    for method in ("get", "post"):
        response = getattr(client, method)(target(review, conflict))
        if response.status_code == 405:
            continue
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("method", "target"),
    [
        ("post", lambda review, row: reverse("conflicts", args=[review.slug])),
        ("put", lambda review, row: resolve_url(review, row)),
        ("delete", lambda review, row: resolve_url(review, row)),
        ("post", lambda review, row: reverse("awaiting", args=[review.slug])),
    ],
)
def test_wrong_method_is_405(client_for, review, lead, conflict, method, target):
    assert getattr(client_for(lead), method)(target(review, conflict)).status_code == 405


def test_unknown_stage_other_reviews_and_missing_rows_are_404(
    client_for, review, lead, conflict, records
):
    client = client_for(lead)
    bad_stage = reverse("conflict_resolve", args=[review.slug, "xx", conflict.record_id])
    assert client.get(bad_stage).status_code == 404
    # The record has no full-text row.
    no_row = reverse("conflict_resolve", args=[review.slug, "ft", conflict.record_id])
    assert client.get(no_row).status_code == 404
    other = ReviewFactory()
    import_file(other, ris_bytes([work(9)]))
    foreign = Record.objects.get(review=other)
    elsewhere = reverse("conflict_resolve", args=[review.slug, "ta", foreign.pk])
    assert client.get(elsewhere).status_code == 404


# --- the conflicts list ------------------------------------------------------------------


def test_list_shows_both_stages_with_each_decision(
    client_for, review, lead, reviewer, reviewer2, records, reasons, conflict
):
    ft = ft_conflict(records[1], reviewer, reviewer2, reasons[0], reasons[1])
    client = client_for(lead)
    page = client.get(reverse("conflicts", args=[review.slug]))
    items = page.context["items"]
    assert [row.pk for row, _ in items] == [conflict.pk, ft.pk]
    assert [(d.reviewer, d.value) for d in items[0][1]] == [
        (reviewer, "include"),
        (reviewer2, "exclude"),
    ]
    assert [d.reason for d in items[1][1]] == [reasons[1], reasons[0]]
    assert page.context["counts"] == {"ta": 1, "ft": 1, "all": 2}
    only_ft = client.get(reverse("conflicts", args=[review.slug]), {"stage": "ft"})
    assert [row.pk for row, _ in only_ft.context["items"]] == [ft.pk]
    html = page.content.decode()
    assert "Rita Reviewer" in html and "Not peer reviewed" in html


# --- resolving ---------------------------------------------------------------------------


def test_the_resolution_page_shows_both_decisions_side_by_side(client_for, review, lead, conflict):
    page = client_for(lead).get(resolve_url(review, conflict))
    html = page.content.decode()
    for text in ("Rita Reviewer", "Ravi Reviewer", "Community team", "Inpatient only"):
        assert text in html
    assert [d.value for d in page.context["decisions"]] == ["include", "exclude"]
    assert page.context["is_open"] is True


def test_resolving_records_who_and_why_and_goes_to_the_next_conflict(
    client_for, review, lead, reviewer, reviewer2, records, conflict
):
    second = ta_conflict(records[1], reviewer, reviewer2)
    client = client_for(lead)
    response = client.post(
        resolve_url(review, conflict), {"value": "include", "note": "  Community team after all "}
    )
    assert response.status_code == 302
    assert response["Location"] == resolve_url(review, second)
    resolution = Resolution.objects.get(record=conflict.record)
    assert (
        resolution.stage,
        resolution.value,
        resolution.reason,
        resolution.note,
        resolution.decided_by,
    ) == ("ta", "include", None, "Community team after all", lead)
    conflict.refresh_from_db()
    assert conflict.status == S.RESOLVED_INCLUDE
    assert RecordStage.objects.get(record=conflict.record, stage="ft").status == S.AWAITING
    response = client.post(resolve_url(review, second), {"value": "exclude", "note": "No"})
    assert response["Location"] == reverse("conflicts", args=[review.slug])
    second.refresh_from_db()
    assert second.status == S.RESOLVED_EXCLUDE
    # Afterwards the page shows the resolution, with no form.
    page = client.get(resolve_url(review, conflict))
    assert page.context["is_open"] is False and page.context["resolution"] == resolution
    assert "Community team after all" in page.content.decode()


def test_a_resolution_needs_why(client_for, review, lead, conflict):
    response = client_for(lead).post(resolve_url(review, conflict), {"value": "include"})
    assert response.status_code == 400
    assert not Resolution.objects.exists()
    conflict.refresh_from_db()
    assert conflict.status == S.CONFLICT


def test_a_settled_record_cannot_be_resolved(client_for, review, lead, reviewer, records):
    record_decision(record=records[2], stage="ta", reviewer=reviewer, value="include")
    row = RecordStage.objects.get(record=records[2], stage="ta")
    client = client_for(lead)
    page = client.get(resolve_url(review, row))
    assert page.status_code == 200 and page.context["is_open"] is False
    response = client.post(resolve_url(review, row), {"value": "include", "note": "x"})
    assert response.status_code == 400
    assert "not in conflict" in response.content.decode()
    assert not Resolution.objects.exists()


def test_full_text_conflict_by_reasons_resolved_to_exclude_needs_a_reason(
    client_for, review, lead, reviewer, reviewer2, records, reasons
):
    row = ft_conflict(records[0], reviewer, reviewer2, reasons[0], reasons[1])
    assert row.status == S.CONFLICT
    client = client_for(lead)
    response = client.post(resolve_url(review, row), {"value": "exclude", "note": "Both apply"})
    assert response.status_code == 400
    assert "Choose the exclusion reason" in response.content.decode()
    assert not Resolution.objects.exists()
    client.post(
        resolve_url(review, row),
        {"value": "exclude", "reason": reasons[1].pk, "note": "Grey literature"},
    )
    resolution = Resolution.objects.get()
    assert (resolution.stage, resolution.value, resolution.reason, resolution.note) == (
        "ft",
        "exclude",
        reasons[1],
        "Grey literature",
    )
    row.refresh_from_db()
    assert row.status == S.RESOLVED_EXCLUDE
    assert not Study.objects.exists()


def test_full_text_conflict_resolved_to_include_makes_a_study_and_shows_the_pdf(
    client_for, review, lead, reviewer, reviewer2, records, reasons
):
    from .test_fulltext_views import minimal_pdf, upload_pdf

    record_decision(record=records[0], stage="ta", reviewer=reviewer, value="include")
    record_decision(record=records[0], stage="ta", reviewer=reviewer2, value="include")
    upload_pdf(client_for(reviewer), review, records[0])
    row = ft_conflict(records[0], reviewer, reviewer2, reasons[0])
    client = client_for(lead)
    page = client.get(resolve_url(review, row))
    file_url = reverse("fulltext_file", args=[review.slug, records[0].pk])
    assert f'<iframe class="fulltext-frame" src="{file_url}" title="' in page.content.decode()
    served = client.get(file_url)
    assert b"".join(served.streaming_content) == minimal_pdf()
    client.post(resolve_url(review, row), {"value": "include", "note": "Community setting"})
    row.refresh_from_db()
    assert row.status == S.RESOLVED_INCLUDE
    study = Study.objects.get()
    assert list(study.reports.values_list("record_id", "is_primary")) == [(records[0].pk, True)]


# --- awaiting another reviewer -----------------------------------------------------------


def test_awaiting_shows_names_to_the_lead_only(
    client_for, review, lead, reviewer, reviewer2, records
):
    record_decision(record=records[0], stage="ta", reviewer=reviewer2, value="include")
    record_decision(record=records[1], stage="ta", reviewer=reviewer, value="exclude")
    lead_page = client_for(lead).get(reverse("awaiting", args=[review.slug]))
    items = {row.record_id: decisions for row, decisions in lead_page.context["items"]}
    assert [d.reviewer for d in items[records[0].pk]] == [reviewer2]
    assert "Ravi Reviewer" in lead_page.content.decode()
    page = client_for(reviewer).get(reverse("awaiting", args=[review.slug]))
    html = page.content.decode()
    assert page.context["show_names"] is False
    assert "Ravi Reviewer" not in html
    assert all(decisions is None for _, decisions in page.context["items"])
    mine = {row.record_id: row.decided_by_me for row, _ in page.context["items"]}
    assert mine == {records[0].pk: False, records[1].pk: True}
    assert "You have decided" in html and "Needs a reviewer" in html


def test_awaiting_shows_names_when_screening_is_not_blind(
    client_for, review, reviewer, reviewer2, records
):
    config = config_for(review)
    config.blind = False
    config.save()
    record_decision(record=records[0], stage="ta", reviewer=reviewer2, value="include")
    page = client_for(reviewer).get(reverse("awaiting", args=[review.slug]))
    assert "Ravi Reviewer" in page.content.decode()


def test_awaiting_filters_by_stage_and_orders_longest_waiting_first(
    client_for, review, lead, reviewer, reviewer2, records
):
    from datetime import timedelta

    from django.utils import timezone

    record_decision(record=records[0], stage="ta", reviewer=reviewer, value="include")
    record_decision(record=records[1], stage="ta", reviewer=reviewer, value="include")
    record_decision(record=records[1], stage="ta", reviewer=reviewer2, value="include")
    record_decision(record=records[1], stage="ft", reviewer=reviewer, value="include")
    RecordStage.objects.filter(record=records[1], stage="ft").update(
        updated_at=timezone.now() - timedelta(days=9)
    )
    client = client_for(lead)
    page = client.get(reverse("awaiting", args=[review.slug]))
    assert [(row.record_id, row.stage) for row, _ in page.context["items"]] == [
        (records[1].pk, "ft"),
        (records[0].pk, "ta"),
    ]
    assert "(1\xa0week, 2\xa0days)" in page.content.decode()
    only_ta = client.get(reverse("awaiting", args=[review.slug]), {"stage": "ta"})
    assert [row.record_id for row, _ in only_ta.context["items"]] == [records[0].pk]


# --- query counts ------------------------------------------------------------------------


def _many(review, lead, reviewer, reviewer2, status):
    import_file(review, ris_bytes([work(n) for n in range(20, 32)]), user=lead, source="X")
    for record in Record.objects.filter(stages__stage="ta", stages__status=S.AWAITING):
        if status == S.CONFLICT:
            ta_conflict(record, reviewer, reviewer2)
        else:
            record_decision(record=record, stage="ta", reviewer=reviewer, value="include")


def test_conflicts_query_count_is_pinned(
    client_for, review, lead, reviewer, reviewer2, conflict, queries_of,
    django_assert_num_queries,
):  # fmt: skip
    client = client_for(lead)
    target = reverse("conflicts", args=[review.slug])
    with_one = queries_of(client, target)
    _many(review, lead, reviewer, reviewer2, S.CONFLICT)
    assert RecordStage.objects.filter(status=S.CONFLICT).count() > 10
    with django_assert_num_queries(with_one):
        client.get(target)


@pytest.mark.parametrize("persona", ["lead", "reviewer"])
def test_awaiting_query_count_is_pinned(
    client_for, review, lead, reviewer, reviewer2, records, personas, persona, queries_of,
    django_assert_num_queries,
):  # fmt: skip
    record_decision(record=records[0], stage="ta", reviewer=reviewer2, value="include")
    client = client_for(personas[persona])
    target = reverse("awaiting", args=[review.slug])
    with_one = queries_of(client, target)
    _many(review, lead, reviewer, reviewer2, S.AWAITING_MORE)
    assert RecordStage.objects.filter(status=S.AWAITING_MORE).count() > 10
    with django_assert_num_queries(with_one):
        client.get(target)
