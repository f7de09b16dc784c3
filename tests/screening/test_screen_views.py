"""The title/abstract screening workspace: who may use it, what each action changes, blind
screening, partial (fetch) answers against full pages, and pinned query counts."""

import re

import pytest
from django.urls import reverse

from screening.decisions import config_for, record_decision, resolve_conflict
from screening.models import (
    Decision,
    ExclusionReason,
    HighlightTerm,
    Record,
    RecordStage,
    ScreenerCursor,
)
from screening.models.decisions import StageStatus
from screening.views.screen import optional_url
from tests.factories import ReviewFactory

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db
S = StageStatus
FETCH = {"HTTP_X_REQUESTED_WITH": "fetch"}
# Queries per request, whatever the number of records or decisions (see the pins below).
WORKSPACE_QUERIES = 8
DECIDE_QUERIES = 15
MY_DECISIONS_QUERIES = 6
AHEAD_QUERIES = 8


@pytest.fixture
def records(review, lead):
    entries = [work(n) for n in range(1, 6)]
    import_file(review, ris_bytes(entries), user=lead)
    return queue(review)


@pytest.fixture
def reason(review):
    return ExclusionReason.objects.create(review=review, text="Not a community setting")


def queue(review):
    """The review's records in queue order (the order every reviewer is served them)."""
    rows = RecordStage.objects.filter(review=review, stage="ta").order_by("order_key", "id")
    return [row.record for row in rows.select_related("record")]


def url(name, *args, slug="harm"):
    return reverse(name, args=[slug, *args])


def decide(client, record, value, version=0, fetch=False, **data):
    payload = {"value": value, "version": version, **data}
    return client.post(url("screen_decide", record.pk), payload, **(FETCH if fetch else {}))


def shown_record_id(response):
    return int(re.search(r'data-record-id="(\d+)"', response.content.decode()).group(1))


def decisions():
    return list(
        Decision.objects.order_by("id").values_list(
            "record_id", "reviewer__name", "value", "reason__text", "note", "version"
        )
    )


# --- who may do what ----------------------------------------------------------------------

VIEWS = [
    ("screening_home", "get", False, {}),
    ("screen", "get", False, {}),
    ("screen_decide", "post", True, {"value": "include", "version": "0"}),
    ("screen_undo", "post", False, {}),
    ("screen_skip", "post", False, {}),
    ("my_decisions", "get", False, {}),
    ("personal_terms", "post", False, {"term": "harm", "kind": "include"}),
]


@pytest.mark.parametrize(("name", "method", "needs_record", "data"), VIEWS)
@pytest.mark.parametrize(
    ("persona", "expected"),
    [("lead", {200, 303}), ("reviewer", {200, 303}), ("advisory", {403}), ("outsider", {404})],
)
def test_who_may_use_each_view(
    client_for, personas, records, name, method, needs_record, data, persona, expected
):
    args = [records[0].pk] if needs_record else []
    client = client_for(personas[persona])
    response = getattr(client, method)(url(name, *args), data)
    assert response.status_code in expected
    if persona in ("advisory", "outsider"):
        assert not Decision.objects.exists()
        assert not HighlightTerm.objects.exists()


@pytest.mark.parametrize(("name", "method", "needs_record", "data"), VIEWS)
def test_anonymous_is_sent_to_sign_in(client_for, records, name, method, needs_record, data):
    args = [records[0].pk] if needs_record else []
    response = getattr(client_for(None), method)(url(name, *args), data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    assert not Decision.objects.exists()


@pytest.mark.parametrize(
    ("name", "wrong", "needs_record"),
    [
        ("screening_home", "post", False),
        ("screen", "post", False),
        ("screen_decide", "get", True),
        ("screen_undo", "get", False),
        ("screen_skip", "put", False),
        ("my_decisions", "post", False),
        ("personal_terms", "get", False),
    ],
)
def test_wrong_method_is_405(client_for, reviewer, records, name, wrong, needs_record):
    args = [records[0].pk] if needs_record else []
    assert getattr(client_for(reviewer), wrong)(url(name, *args)).status_code == 405


def test_a_record_of_another_review_is_404(client_for, reviewer, records, lead):
    other = ReviewFactory(slug="other")
    import_file(other, ris_bytes([work(9)]), user=lead)
    foreign = Record.objects.get(review=other)
    client = client_for(reviewer)
    assert decide(client, foreign, "include").status_code == 404
    assert client.get(url("screen") + f"?record={foreign.pk}").status_code == 404
    assert client.get(url("screen") + "?record=nonsense").status_code == 404
    assert not Decision.objects.exists()


def test_stage_urls_leave_room_for_full_text(records):
    assert url("screen") == "/reviews/harm/screening/ta/"
    assert reverse("screen", kwargs={"slug": "harm", "stage": "ta"}) == url("screen")
    assert url("screen_decide", 7) == "/reviews/harm/screening/ta/7/decide/"
    assert url("my_decisions") == "/reviews/harm/screening/ta/mine/"


# --- the workspace ------------------------------------------------------------------------


def test_workspace_shows_the_next_record_with_everything_needed(
    client_for, review, reviewer, lead, reason
):
    entry = work(
        1,
        title="Avoidable harm in social work",
        abstract="Social workers described harm.",
        journal="Journal of Social Work",
    )
    import_file(review, ris_bytes([entry]), user=lead)
    Record.objects.update(keywords=["safeguarding", "harm"])
    config = config_for(review)
    config.eligibility_criteria = "Include: community settings.\nExclude: hospitals."
    config.save()
    HighlightTerm.objects.create(review=review, term="harm", kind="include")
    HighlightTerm.objects.create(review=review, term="hospital*", kind="exclude")
    page = client_for(reviewer).get(url("screen")).content.decode()
    assert '<h2 id="record-heading" class="record-title" tabindex="-1">Avoidable' in page
    assert "Author1, Alex; Second, Sam" in page and "2011" in page
    assert "Journal of Social Work" in page
    assert "<li>safeguarding</li>" in page
    assert "Social workers described" in page
    assert "Include: community settings.<br>Exclude: hospitals." in page
    assert '<mark class="term term-include">' in page
    assert "Record 1 of 1" in page
    assert f'<option value="{reason.pk}">Not a community setting</option>' in page
    assert 'name="version" value="0"' in page
    assert "Include <kbd>(I)</kbd>" in page and "Exclude <kbd>(E)</kbd>" in page
    assert "Maybe <kbd>(M)</kbd>" in page
    assert "screening/js/screen.js" in page and "screening/css/screen.css" in page
    assert 'id="screen-announcer"' in page and "<dialog" in page


def test_keywords_are_highlighted_too(client_for, review, reviewer, lead):
    import_file(review, ris_bytes([work(1)]), user=lead)
    Record.objects.update(keywords=["Harm reduction"])
    HighlightTerm.objects.create(review=review, term="harm", kind="include")
    page = client_for(reviewer).get(url("screen")).content.decode()
    assert re.search(r'<li><mark class="term term-include">.*?Harm</mark> reduction</li>', page)


def test_fetch_get_returns_just_the_fragment(client_for, reviewer, records):
    response = client_for(reviewer).get(url("screen"), **FETCH)
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="screen-panel"') and "<html" not in body
    assert "X-Requested-With" in response["Vary"]


# --- deciding -----------------------------------------------------------------------------


def test_decide_without_js_redirects_to_the_next_record(client_for, reviewer, records):
    client = client_for(reviewer)
    response = decide(client, records[0], "include", note="  Community based  ")
    assert response.status_code == 303 and response["Location"] == url("screen")
    assert decisions() == [(records[0].pk, "Rita Reviewer", "include", None, "Community based", 1)]
    assert RecordStage.objects.get(record=records[0], stage="ta").status == S.AWAITING_MORE
    page = client.get(response["Location"])
    assert shown_record_id(page) == records[1].pk
    assert "Included: " in page.content.decode()
    assert "Record 2 of 5" in page.content.decode()


def test_decide_by_fetch_returns_the_next_fragment_with_progress(
    client_for, reviewer, records, reason
):
    client = client_for(reviewer)
    client.get(url("screen"))
    response = decide(client, records[0], "exclude", fetch=True, reason=reason.pk, note="no")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert shown_record_id(response) == records[1].pk
    assert 'id="my-progress" max="5" value="1"' in body
    assert "My progress: 1 of 5 records decided" in body
    assert 'data-announce="Excluded. Record 2 of 5: ' in body
    current, ahead = body.split(f'<template id="screen-ahead" data-after="{records[1].pk}">')
    assert f'href="{url("screen")}?record={records[0].pk}" class="button secondary"' in current
    # The record after that one comes along, ready for the next key press.
    assert f'data-record-id="{records[2].pk}"' in ahead and "Record 3 of 5" in ahead
    assert f'href="{url("screen")}?record={records[1].pk}" class="button secondary"' in ahead
    assert decisions() == [(records[0].pk, "Rita Reviewer", "exclude", reason.text, "no", 1)]


def test_decide_by_fetch_without_blinding_shows_others_on_both_records(
    client_for, review, reviewer, reviewer2, records, django_assert_num_queries
):
    config = config_for(review)
    config.blind = False
    config.save()
    for record in records[1:3]:
        record_decision(record=record, stage="ta", reviewer=reviewer2, value="exclude", note="n")
    client = client_for(reviewer)
    client.get(url("screen"))
    # One more query than blind: the decisions on both records shown, read together.
    with django_assert_num_queries(DECIDE_QUERIES + 1):
        response = decide(client, records[0], "include", fetch=True)
    current, ahead = response.content.decode().split('<template id="screen-ahead"')
    assert shown_record_id(response) == records[1].pk
    for part in (current, ahead):
        assert "Ravi Reviewer: <strong>Exclude</strong>. Note: n" in part
    assert f'data-record-id="{records[2].pk}"' in ahead


def test_a_decision_changed_on_a_revisit_keeps_previous_in_order(client_for, reviewer, records):
    client = client_for(reviewer)
    for record in records[:3]:
        decide(client, record, "include")
    # Changing records[0] (decided first) serves records[3]; "previous" is still my latest.
    response = decide(client, records[0], "exclude", version=1, fetch=True)
    current = response.content.decode().split('<template id="screen-ahead"')[0]
    assert shown_record_id(response) == records[3].pk
    assert f'href="{url("screen")}?record={records[2].pk}" class="button secondary"' in current


def test_reason_is_dropped_unless_excluding(client_for, reviewer, records, reason):
    decide(client_for(reviewer), records[0], "maybe", reason=reason.pk)
    assert decisions() == [(records[0].pk, "Rita Reviewer", "maybe", None, "", 1)]


def test_a_reason_of_another_review_is_refused(client_for, reviewer, records):
    foreign = ExclusionReason.objects.create(review=ReviewFactory(), text="Elsewhere")
    response = decide(client_for(reviewer), records[0], "exclude", fetch=True, reason=foreign.pk)
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert shown_record_id(response) == records[0].pk
    assert not Decision.objects.exists()


def test_an_invalid_value_is_an_error_in_the_page(client_for, reviewer, records):
    response = decide(client_for(reviewer), records[0], "perhaps", note="kept")
    body = response.content.decode()
    assert response.status_code == 400 and "<html" in body
    assert 'role="alert"' in body and "Decision: Select a valid choice" in body
    assert ">kept</textarea>" in body
    assert not Decision.objects.exists()


def test_stale_version_shows_an_error_and_changes_nothing(client_for, reviewer, records):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    record_decision(record=record, stage="ta", reviewer=reviewer, value="exclude",
                    expected_version=1)  # fmt: skip
    client = client_for(reviewer)
    for fetch in (True, False):
        response = decide(client, record, "maybe", version=1, fetch=fetch)
        body = response.content.decode()
        assert response.status_code == 409
        assert re.search(r'role="alert"><p>Your decision on this record changed', body)
        # The page now shows what is stored, with its version, to decide again from.
        assert 'name="version" value="2"' in body
        assert ("<html" in body) is not fetch
    assert decisions() == [(record.pk, "Rita Reviewer", "exclude", None, "", 2)]


def test_a_full_record_cannot_take_a_third_decision(client_for, lead, reviewer, reviewer2, records):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    record_decision(record=record, stage="ta", reviewer=reviewer2, value="exclude")
    client = client_for(lead)
    page = client.get(url("screen") + f"?record={record.pk}").content.decode()
    assert "already has all the decisions it needs" in page and 'id="decide-form"' not in page
    # Blind until settled, even for a record one cannot decide.
    assert "Conflict" not in page and "<strong>Outcome:</strong> Not settled yet." in page
    assert "Rita Reviewer" not in page
    response = decide(client, record, "exclude", fetch=True)
    assert response.status_code == 400
    assert "already has all the decisions it needs" in response.content.decode()
    assert Decision.objects.filter(reviewer=lead).count() == 0


def test_the_record_after_the_one_shown_can_be_fetched_ahead(client_for, reviewer, records):
    client = client_for(reviewer)
    page = client.get(url("screen")).content.decode()
    ahead = url("screen") + f"?ahead={records[0].pk}"
    assert f'data-prefetch="{ahead}"' in page
    cursor = ScreenerCursor.objects.get(user=reviewer).order_key
    response = client.get(ahead, **FETCH)
    body = response.content.decode()
    assert shown_record_id(response) == records[1].pk
    # As it will be once records[0] is decided: my count one up, "previous" is records[0].
    assert 'id="my-progress" max="5" value="1"' in body and "Record 2 of 5" in body
    assert f'href="{url("screen")}?record={records[0].pk}" class="button secondary"' in body
    assert f'data-prefetch="{url("screen")}?ahead={records[1].pk}"' in body
    # Nothing moved: no decision, the queue cursor where it was.
    assert not Decision.objects.exists()
    assert ScreenerCursor.objects.get(user=reviewer).order_key == cursor
    # The decision then serves the very record fetched ahead.
    assert shown_record_id(decide(client, records[0], "include", fetch=True)) == records[1].pk
    # Without the fetch header, ?ahead is just the workspace.
    assert shown_record_id(client.get(ahead)) == records[1].pk


def test_revisits_are_not_fetched_ahead(client_for, reviewer, records):
    client = client_for(reviewer)
    decide(client, records[0], "include")
    page = client.get(url("screen") + f"?record={records[0].pk}").content.decode()
    assert "data-prefetch" not in page
    page = client.get(url("screen") + f"?record={records[3].pk}").content.decode()
    assert "data-prefetch" not in page
    assert f'data-url="{url("screen")}?record={records[3].pk}"' in page
    # Adding a term of my own brings me back to the record I was revisiting.
    assert f'name="record" value="{records[3].pk}" data-current-record' in page
    queue_page = client.get(url("screen")).content.decode()
    assert 'name="record" value="" data-current-record' in queue_page


# --- revisiting, undo, skip ---------------------------------------------------------------


def test_revisit_and_change_my_decision(client_for, reviewer, records, reason):
    record = records[0]
    client = client_for(reviewer)
    decide(client, record, "include", note="first")
    page = client.get(url("screen") + f"?record={record.pk}").content.decode()
    assert "Revisiting a record you decided" in page
    assert "<strong>Your decision:</strong> Include" in page
    assert 'name="version" value="1"' in page and ">first</textarea>" in page
    decision = Decision.objects.get()
    response = decide(client, record, "exclude", version=1, reason=reason.pk, note="changed")
    assert response.status_code == 303
    decision.refresh_from_db()
    assert (decision.value, decision.reason, decision.note, decision.version) == (
        "exclude", reason, "changed", 2,
    )  # fmt: skip
    assert decisions() == [(record.pk, "Rita Reviewer", "exclude", reason.text, "changed", 2)]


def test_my_decisions_lists_newest_first_with_links_to_revisit(
    client_for, reviewer, reviewer2, records
):
    client = client_for(reviewer)
    for record, value in zip(records[:3], ["include", "exclude", "maybe"], strict=True):
        decide(client, record, value)
    record_decision(record=records[1], stage="ta", reviewer=reviewer2, value="include")
    response = client.get(url("my_decisions"))
    page = response.content.decode()
    links = re.findall(r'<a href="/reviews/harm/screening/ta/\?record=(\d+)">', page)
    assert [int(pk) for pk in links] == [records[2].pk, records[1].pk, records[0].pk]
    assert "3 decisions, newest first." in page
    # Blind: the conflict on records[1] is not revealed.
    assert "Conflict" not in page and page.count("Not settled yet") == 3


def test_undo_takes_back_my_last_decision_and_shows_that_record(client_for, reviewer, records):
    client = client_for(reviewer)
    decide(client, records[0], "include")
    decide(client, records[1], "exclude")
    response = client.post(url("screen_undo"), **FETCH)
    assert response.status_code == 200
    assert shown_record_id(response) == records[1].pk
    assert "Undone: your decision on" in response.content.decode()
    assert decisions() == [(records[0].pk, "Rita Reviewer", "include", None, "", 1)]
    response = client.post(url("screen_undo"))
    assert response.status_code == 303
    assert response["Location"] == url("screen") + f"?record={records[0].pk}"
    assert decisions() == []
    assert RecordStage.objects.get(record=records[0], stage="ta").status == S.AWAITING
    response = client.post(url("screen_undo"), **FETCH)
    assert "There is no decision of yours to undo." in response.content.decode()


def test_undo_skips_decisions_on_resolved_records(client_for, lead, reviewer, reviewer2, records):
    record_decision(record=records[1], stage="ta", reviewer=reviewer, value="maybe")
    record_decision(record=records[0], stage="ta", reviewer=reviewer, value="include")
    record_decision(record=records[0], stage="ta", reviewer=reviewer2, value="exclude")
    resolve_conflict(record=records[0], stage="ta", user=lead, value="include")
    client_for(reviewer).post(url("screen_undo"))
    assert Decision.objects.filter(reviewer=reviewer).get().record == records[0]


def test_skip_moves_on_without_deciding(client_for, reviewer, records):
    client = client_for(reviewer)
    first = shown_record_id(client.get(url("screen")))
    assert first == records[0].pk
    response = client.post(
        url("screen_skip"), {"after": records[0].stages.get().order_key, "record": first}, **FETCH
    )
    assert shown_record_id(response) == records[1].pk
    assert not Decision.objects.exists()
    # Without JS: a redirect to the workspace, which now shows the record after the skip.
    response = client.get(url("screen_skip") + f"?after={records[1].stages.get().order_key}")
    assert response.status_code == 303
    assert shown_record_id(client.get(response["Location"])) == records[2].pk
    assert ScreenerCursor.objects.get(user=reviewer).order_key == records[2].stages.get().order_key


def test_skipped_records_come_round_again(client_for, reviewer, records):
    client = client_for(reviewer)
    last_key = records[4].stages.get().order_key
    for record in records[:4]:
        decide(client, record, "exclude")
    response = client.post(
        url("screen_skip"), {"after": last_key, "record": records[4].pk}, **FETCH
    )
    assert shown_record_id(response) == records[4].pk
    assert "This is the only record left that needs you." in response.content.decode()


def test_previous_opens_my_earlier_decisions_in_turn(client_for, reviewer, records):
    client = client_for(reviewer)
    decide(client, records[0], "include")
    decide(client, records[1], "exclude")
    page = client.get(url("screen")).content.decode()
    previous = re.search(r'<a href="([^"]+)" class="button secondary" data-screen-link', page)
    assert previous.group(1) == url("screen") + f"?record={records[1].pk}"
    page = client.get(previous.group(1), **FETCH).content.decode()
    assert f'record={records[0].pk}" class="button secondary" data-screen-link' in page


def test_when_nothing_is_left(client_for, reviewer, records):
    client = client_for(reviewer)
    for record in records:
        decide(client, record, "include")
    page = client.get(url("screen")).content.decode()
    assert "No more records need you at this stage" in page
    assert "My progress: 5 of 5 records decided" in page


# --- blind screening and settled records --------------------------------------------------


def test_blind_hides_another_reviewers_decision_until_settled(
    client_for, review, reviewer, reviewer2, records
):
    record = records[0]
    record_decision(
        record=record, stage="ta", reviewer=reviewer, value="include", note="secret-note"
    )
    client = client_for(reviewer2)
    page = client.get(url("screen")).content.decode()
    assert shown_record_id_from(page) == record.pk
    assert "Rita Reviewer" not in page and "Other reviewers" not in page
    assert "secret-note" not in page
    assert "Record 1 of 5" in page
    # Once settled, everyone sees the decisions and the outcome.
    record_decision(record=record, stage="ta", reviewer=reviewer2, value="include")
    page = client.get(url("screen") + f"?record={record.pk}").content.decode()
    assert "Rita Reviewer: <strong>Include</strong>. Note: secret-note" in page
    assert "<strong>Outcome:</strong> Agreed include." in page


def test_without_blinding_other_decisions_show(client_for, review, reviewer, reviewer2, records):
    config = config_for(review)
    config.blind = False
    config.save()
    record_decision(record=records[0], stage="ta", reviewer=reviewer, value="exclude")
    page = client_for(reviewer2).get(url("screen")).content.decode()
    assert shown_record_id_from(page) == records[0].pk
    assert "Other reviewers’ decisions" in page
    assert "Rita Reviewer: <strong>Exclude</strong>" in page


def test_a_conflict_stays_blind(client_for, reviewer, reviewer2, records):
    record_decision(record=records[0], stage="ta", reviewer=reviewer, value="include")
    record_decision(record=records[0], stage="ta", reviewer=reviewer2, value="exclude")
    page = client_for(reviewer).get(url("screen") + f"?record={records[0].pk}").content.decode()
    assert "Ravi Reviewer" not in page and "Conflict" not in page
    assert 'id="decide-form"' in page


def test_a_resolved_record_is_read_only(client_for, lead, reviewer, reviewer2, records):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    record_decision(record=record, stage="ta", reviewer=reviewer2, value="exclude")
    resolve_conflict(record=record, stage="ta", user=lead, value="exclude")
    client = client_for(reviewer)
    page = client.get(url("screen") + f"?record={record.pk}").content.decode()
    assert 'id="decide-form"' not in page
    assert "<strong>Outcome:</strong> Resolved: exclude." in page
    assert "can no longer be changed" in page
    assert "Ravi Reviewer: <strong>Exclude</strong>" in page
    response = decide(client, record, "exclude", version=1, fetch=True)
    assert response.status_code == 400 and 'role="alert"' in response.content.decode()
    assert Decision.objects.get(reviewer=reviewer).value == "include"


def shown_record_id_from(page):
    return int(re.search(r'data-record-id="(\d+)"', page).group(1))


# --- safety -------------------------------------------------------------------------------


def test_hostile_html_in_a_record_is_shown_escaped(client_for, review, reviewer, lead):
    import_file(review, ris_bytes([work(1)]), user=lead)
    # The importers strip tags; a record may still hold markup from elsewhere (a CSV, say).
    Record.objects.update(
        title='<img src=x onerror="alert(1)"> harm',
        abstract="<script>alert('abstract')</script> harm & more",
        keywords=["<b>bold</b>"],
        authors=["<i>Evil</i>, Eve"],
    )
    HighlightTerm.objects.create(review=review, term="script", kind="exclude")
    HighlightTerm.objects.create(review=review, user=reviewer, term="<b>", kind="include")
    page = client_for(reviewer).get(url("screen")).content.decode()
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "<b>bold" not in page and "<i>Evil" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; harm" in page
    assert '&lt;<mark class="term term-exclude">' in page
    assert "&amp; more" in page and "&lt;i&gt;Evil&lt;/i&gt;, Eve" in page


# --- progress -----------------------------------------------------------------------------


def test_progress_mine_and_the_teams(client_for, lead, reviewer, reviewer2, records):
    for record in records[:2]:
        record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
        record_decision(record=record, stage="ta", reviewer=reviewer2, value="exclude"
                        if record == records[1] else "include")  # fmt: skip
    record_decision(record=records[2], stage="ta", reviewer=reviewer, value="exclude")
    page = client_for(reviewer).get(url("screen")).content.decode()
    assert 'id="my-progress" max="5" value="3"' in page
    # records[0] agreed include; records[1] is a conflict, not settled.
    assert 'id="team-progress" max="5" value="1"' in page
    assert "Team progress: 1 of 5 records settled" in page
    assert "Record 4 of 5" in page
    # The lead can still give records[2], [3] and [4] their decisions; 0, 1 are full.
    page = client_for(lead).get(url("screen")).content.decode()
    assert "My progress: 0 of 3 records decided" in page and "Record 1 of 3" in page


def test_progress_counts_agree_with_counting_row_by_row(review, lead, reviewer, reviewer2):
    from screening import services
    from screening.views.screen import SETTLED, _count_progress

    first = work(1, doi="")
    late = work(1, doi="", id="late", year=first["year"] + 2)
    import_file(review, ris_bytes([first, late, *(work(n) for n in range(2, 8))]), user=lead)
    records = queue(review)
    plan = [  # (reviewer's, reviewer2's) decision on each record
        ("include", "include"), ("exclude", "exclude"), ("include", "exclude"),
        ("maybe", None), (None, "exclude"), ("include", None),
    ]  # fmt: skip
    for record, values in zip(records, plan, strict=False):
        for person, value in zip((reviewer, reviewer2), values, strict=True):
            if value:
                record_decision(record=record, stage="ta", reviewer=person, value=value)
    # A merged record keeps its decision and leaves every count.
    merged = Record.objects.get(source_id="late")
    if not merged.decisions.exists():
        record_decision(record=merged, stage="ta", reviewer=reviewer, value="include")
    services.decide_pair(
        pair=review.duplicate_pairs.get(status="pending"), user=lead, is_duplicate=True
    )
    assert RecordStage.objects.filter(status=S.MERGED).exists()
    assert RecordStage.objects.filter(stage="ft").exists()
    for person in (lead, reviewer, reviewer2):
        expected = {}
        for stage in ("ta", "ft"):
            rows = RecordStage.objects.filter(review=review, stage=stage).exclude(status=S.MERGED)
            mine = {d.record_id for d in Decision.objects.filter(stage=stage, reviewer=person)}
            decided = sum(row.record_id in mine for row in rows)
            waiting = sum(
                row.record_id not in mine and row.status in (S.AWAITING, S.AWAITING_MORE)
                for row in rows
            )
            settled = sum(row.status in SETTLED for row in rows)
            expected[stage] = (decided, decided + waiting, settled, len(rows))
        progress = _count_progress(review, person, ["ta", "ft"])
        assert {
            stage: (c["mine"], c["mine_total"], c["settled"], c["total"])
            for stage, c in progress.items()
        } == expected


def test_screening_home_shows_progress_per_stage_and_links(
    client_for, lead, reviewer, reviewer2, records
):
    for person in (reviewer, reviewer2):
        record_decision(record=records[0], stage="ta", reviewer=person, value="include")
    page = client_for(reviewer).get(url("screening_home")).content.decode()
    assert "My progress: 1 of 5 records decided" in page
    assert "Team progress: 1 of 5 records settled" in page
    # records[0] went on to full text, where it needs me.
    assert "My progress: 0 of 1 record decided" in page
    assert "Team progress: 0 of 1 record settled" in page
    assert f'<a href="{url("screen")}">Screen titles and abstracts</a>' in page
    assert f'<a href="{url("my_decisions")}">My decisions</a>' in page
    assert "Screening is blind" in page


def test_screening_home_links_for_leads_and_adjudicators(
    client_for, review, lead, reviewer, reviewer2, records
):
    config_for(review).adjudicators.add(reviewer2)
    optional = {name: optional_url(name, "harm") for name in ("conflicts", "awaiting")}
    for person, sees in ((lead, True), (reviewer2, True), (reviewer, False)):
        page = client_for(person).get(url("screening_home")).content.decode()
        for name, label in (("conflicts", "Conflicts to resolve"),
                            ("awaiting", "Records awaiting another reviewer")):  # fmt: skip
            shown = f'<a href="{optional[name]}">{label}</a>' in page
            assert shown == (sees and optional[name] is not None)
        fulltext = optional_url("fulltext_list", "harm")
        assert (f'<a href="{fulltext}">Screen full texts</a>' in page) == (fulltext is not None)


# --- personal terms -----------------------------------------------------------------------


def test_personal_terms_add_and_remove(client_for, review, reviewer, reviewer2, records):
    client = client_for(reviewer)
    response = client.post(
        url("personal_terms"), {"term": "community", "kind": "exclude", "record": records[2].pk}
    )
    assert response.status_code == 303
    assert response["Location"] == url("screen") + f"?record={records[2].pk}"
    term = HighlightTerm.objects.get()
    assert (term.review, term.user, term.term, term.kind) == (review, reviewer, "community",
                                                              "exclude")  # fmt: skip
    marked = '<mark class="term term-exclude"><span class="visually-hidden">exclude term: '
    assert marked in client.get(url("screen")).content.decode()
    # Only for me.
    assert marked not in client_for(reviewer2).get(url("screen")).content.decode()
    client = client_for(reviewer2)
    client.post(url("personal_terms"), {"action": "remove", "term": term.pk})
    assert HighlightTerm.objects.count() == 1
    client = client_for(reviewer)
    client.post(url("personal_terms"), {"action": "remove", "term": term.pk})
    assert not HighlightTerm.objects.exists()


def test_an_empty_personal_term_is_refused(client_for, reviewer, records):
    client = client_for(reviewer)
    response = client.post(url("personal_terms"), {"term": " * ", "kind": "include"}, follow=True)
    assert "Type a word, a phrase, or a stem ending in *" in response.content.decode()
    assert not HighlightTerm.objects.exists()


# --- query counts -------------------------------------------------------------------------


def bigger_review(review, lead, n):
    import_file(review, ris_bytes([work(k) for k in range(1, n + 1)]), user=lead)
    return queue(review)


def decide_many(reviewer, records, count):
    for record in records[:count]:
        record_decision(record=record, stage="ta", reviewer=reviewer, value="exclude")


@pytest.mark.parametrize(("size", "decided"), [(10, 0), (200, 0), (200, 150)])
def test_workspace_query_count_is_constant(
    client_for, review, lead, reviewer, size, decided, django_assert_num_queries
):
    records = bigger_review(review, lead, size)
    HighlightTerm.objects.create(review=review, term="harm", kind="include")
    HighlightTerm.objects.create(review=review, user=reviewer, term="care", kind="exclude")
    ExclusionReason.objects.create(review=review, text="Wrong setting")
    decide_many(reviewer, records, decided)
    client = client_for(reviewer)
    client.get(url("screen"))  # moves the queue cursor and writes the session once
    with django_assert_num_queries(WORKSPACE_QUERIES):
        response = client.get(url("screen"))
    assert shown_record_id(response) == records[decided].pk
    with django_assert_num_queries(WORKSPACE_QUERIES):
        client.get(url("screen"), **FETCH)


@pytest.mark.parametrize(("size", "decided"), [(10, 0), (200, 0), (200, 150)])
def test_fetch_ahead_query_count_is_constant(
    client_for, review, lead, reviewer, size, decided, django_assert_num_queries
):
    records = bigger_review(review, lead, size)
    HighlightTerm.objects.create(review=review, term="harm", kind="include")
    decide_many(reviewer, records, decided)
    client = client_for(reviewer)
    client.get(url("screen"))
    with django_assert_num_queries(AHEAD_QUERIES):
        response = client.get(url("screen") + f"?ahead={records[decided].pk}", **FETCH)
    assert shown_record_id(response) == records[decided + 1].pk


@pytest.mark.parametrize(("size", "decided"), [(10, 0), (200, 0), (200, 150)])
def test_decide_and_next_query_count_is_constant(
    client_for, review, lead, reviewer, size, decided, django_assert_num_queries
):
    records = bigger_review(review, lead, size)
    HighlightTerm.objects.create(review=review, term="harm", kind="include")
    reason = ExclusionReason.objects.create(review=review, text="Wrong setting")
    decide_many(reviewer, records, decided)
    client = client_for(reviewer)
    client.get(url("screen"))
    with django_assert_num_queries(DECIDE_QUERIES):
        response = decide(client, records[decided], "exclude", fetch=True, reason=reason.pk)
    assert shown_record_id(response) == records[decided + 1].pk
    assert Decision.objects.filter(reviewer=reviewer).count() == decided + 1


@pytest.mark.parametrize(("size", "decided"), [(10, 1), (200, 150)])
def test_my_decisions_query_count_is_constant(
    client_for, review, lead, reviewer, size, decided, django_assert_num_queries
):
    records = bigger_review(review, lead, size)
    decide_many(reviewer, records, decided)
    client = client_for(reviewer)
    client.get(url("my_decisions"))
    with django_assert_num_queries(MY_DECISIONS_QUERIES):
        client.get(url("my_decisions"))
