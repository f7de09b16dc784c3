"""AI prioritisation for the lead: the queue's order on the settings page, the prioritisation
page (rankings, stopping guidance, decisions to stop, scores), relevance scores on the
records pages, and the early-stop note in the PRISMA counts.

Rankings are made with the ORM and scores set directly: the model code is another part of
the work, and these tests must not depend on it."""

import html
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from screening import stopping
from screening.decisions import config_for, record_decision
from screening.models import Ranking, Record, RecordStage, ScreenerCursor, StopDecision
from screening.models.decisions import ScreeningConfig
from screening.pool import random_order_key
from screening.prisma import prisma_counts
from screening.prisma_diagram import render_svg
from screening.views.prioritisation import curve_chart, curve_table, downsample, ticks

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

# Settled outcomes in the order they are settled (True: include): 10 of 12 records.
SEQUENCE = [True, True, False, True, False, False, False, False, False, False]
TOTAL = 12


@pytest.fixture(autouse=True)
def rankings_stay_queued(settings):
    # A ranking asked for is left waiting (its worker never runs in a test transaction), so
    # nothing here runs the model.
    settings.RANKING_INLINE = False


@pytest.fixture
def records(review, lead):
    import_file(review, ris_bytes([work(n) for n in range(1, TOTAL + 1)]), user=lead)
    return list(Record.objects.filter(review=review).order_by("id"))


@pytest.fixture
def screened(records, reviewer, reviewer2):
    """SEQUENCE settled by two reviewers, in record order; the last two records are open."""
    for record, include in zip(records, SEQUENCE, strict=False):
        for person in (reviewer, reviewer2):
            value = "include" if include else "exclude"
            record_decision(record=record, stage="ta", reviewer=person, value=value)
    return records


def url(name, *args):
    return reverse(name, args=["harm", *args])


def page_text(response):
    """The page's text with tags removed and whitespace collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def shown_key(client):
    return client.get(url("prioritisation")).context["evidence_key"]


def stop(client, note="The test supports stopping; a random sample found no include."):
    return client.post(
        url("prioritisation_stop"), {"note": note, "confirm": "on", "shown": shown_key(client)}
    )


def set_scores(records, scores):
    for record, score in zip(records, scores, strict=False):
        RecordStage.objects.filter(record=record, stage="ta").update(score=score)


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize(
    ("persona", "status"), [("lead", 200), ("reviewer", 403), ("advisory", 403), ("outsider", 404)]
)
def test_who_may_open_the_page(client_for, personas, persona, status):
    assert client_for(personas[persona]).get(url("prioritisation")).status_code == status


@pytest.mark.parametrize(
    ("persona", "status"), [("lead", 302), ("reviewer", 403), ("advisory", 403), ("outsider", 404)]
)
def test_who_may_ask_for_a_ranking(client_for, review, personas, persona, status):
    response = client_for(personas[persona]).post(url("prioritisation_rerank"))
    assert response.status_code == status
    queued = list(Ranking.objects.filter(review=review).values_list("stage", "status"))
    assert queued == ([("ta", Ranking.Status.QUEUED)] if persona == "lead" else [])


@pytest.mark.parametrize(
    ("persona", "status"), [("lead", 302), ("reviewer", 403), ("advisory", 403), ("outsider", 404)]
)
def test_who_may_log_a_decision_to_stop(client_for, review, lead, screened, personas, persona,
                                        status):  # fmt: skip
    key = shown_key(client_for(lead))
    response = client_for(personas[persona]).post(
        url("prioritisation_stop"), {"note": "Enough.", "confirm": "on", "shown": key}
    )
    assert response.status_code == status
    logged = list(StopDecision.objects.values_list("decided_by", "note"))
    assert logged == ([(lead.pk, "Enough.")] if persona == "lead" else [])


@pytest.mark.parametrize(
    ("persona", "status"), [("lead", 302), ("reviewer", 403), ("advisory", 403), ("outsider", 404)]
)
def test_who_may_withdraw_a_decision_to_stop(client_for, review, lead, personas, persona, status):
    decision = StopDecision.objects.create(review=review, decided_by=lead, note="x", evidence={})
    response = client_for(personas[persona]).post(url("prioritisation_withdraw", decision.pk))
    assert response.status_code == status
    decision.refresh_from_db()
    assert (decision.withdrawn_at is not None) == (persona == "lead")


def test_a_decision_of_another_review_is_not_found(client_for, lead):
    from tests.factories import ReviewFactory

    foreign = StopDecision.objects.create(review=ReviewFactory(), note="x", evidence={})
    response = client_for(lead).post(url("prioritisation_withdraw", foreign.pk))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.withdrawn_at is None


@pytest.mark.parametrize(
    ("method", "name", "args"),
    [
        ("post", "prioritisation", []),
        ("get", "prioritisation_rerank", []),
        ("get", "prioritisation_stop", []),
        ("get", "prioritisation_withdraw", [1]),
    ],
)
def test_wrong_method(client_for, lead, method, name, args):
    assert getattr(client_for(lead), method)(url(name, *args)).status_code == 405


@pytest.mark.parametrize("name", ["prioritisation", "prioritisation_rerank"])
def test_anonymous_visitors_are_sent_to_sign_in(client_for, review, name):
    response = client_for(None).get(url(name))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# --------------------------------------------------------------------------- the order


def settings_post(client, order):
    data = {"action": "settings", "reviewers_per_record": "2", "blind": "on",
            "eligibility_criteria": "", "order": order}  # fmt: skip
    return client.post(reverse("screening_settings", args=["harm"]), data)


def test_settings_page_offers_the_order(client_for, lead):
    page = client_for(lead).get(reverse("screening_settings", args=["harm"])).content.decode()
    assert "Order of the title/abstract queue" in page
    assert 'name="order" value="random"' in page and "checked" in page
    assert "Most likely relevant first (AI prioritisation)" in page
    assert "at least one include and one exclude" in page


def test_switching_order_asks_for_a_ranking_and_back_restores_random_keys(
    client_for, review, lead, reviewer, records
):
    client = client_for(lead)
    assert settings_post(client, "priority").status_code == 302
    assert config_for(review).order == ScreeningConfig.Order.PRIORITY
    assert list(Ranking.objects.values_list("status", flat=True)) == [Ranking.Status.QUEUED]

    # What a ranking would do: rewrite the queue positions, and a reviewer's cursor moves on.
    for position, record in enumerate(reversed(records)):
        RecordStage.objects.filter(record=record, stage="ta").update(order_key=position)
    ScreenerCursor.objects.create(review=review, user=reviewer, stage="ta", order_key=5)

    response = settings_post(client, "random")
    assert response.status_code == 302
    config = config_for(review)
    config.refresh_from_db()
    assert config.order == ScreeningConfig.Order.RANDOM
    keys = dict(RecordStage.objects.filter(stage="ta").values_list("record_id", "order_key"))
    assert keys == {record.pk: (record.pk * 2654435761) % 2**31 for record in records}
    assert keys == {record.pk: random_order_key(record.pk) for record in records}
    assert ScreenerCursor.objects.get(user=reviewer).order_key == -(2**62)


def test_settings_posted_without_an_order_keep_it(client_for, review, lead):
    config = config_for(review)
    config.order = ScreeningConfig.Order.PRIORITY
    config.save(update_fields=["order"])
    response = client_for(lead).post(
        reverse("screening_settings", args=["harm"]),
        {"action": "settings", "reviewers_per_record": "3", "blind": "on"},
    )
    assert response.status_code == 302
    config.refresh_from_db()
    assert (config.order, config.reviewers_per_record) == (ScreeningConfig.Order.PRIORITY, 3)
    assert not Ranking.objects.exists()


def test_an_unknown_order_is_refused(client_for, review, lead):
    response = settings_post(client_for(lead), "alphabetical")
    assert response.status_code == 400
    assert config_for(review).order == ScreeningConfig.Order.RANDOM


# --------------------------------------------------------------------------- rankings


def test_page_shows_the_latest_ranking_for_a_methods_section(client_for, review, lead):
    now = timezone.now()
    Ranking.objects.create(
        review=review, status=Ranking.Status.SKIPPED, requested_at=now - timedelta(hours=2),
        error="Random order until there is at least one include and one exclude.",
    )  # fmt: skip
    Ranking.objects.create(
        review=review, status=Ranking.Status.DONE, requested_at=now - timedelta(hours=1),
        finished_at=now - timedelta(hours=1), model_name="TF-IDF + logistic regression",
        settings={"C": 1.0, "ngram_range": [1, 2]}, code_version="prio-1.4.2",
        training_includes=7, training_excludes=93, records_ranked=1200, seconds=2.345,
    )  # fmt: skip
    Ranking.objects.create(review=review, status=Ranking.Status.QUEUED, requested_at=now)
    response = client_for(lead).get(url("prioritisation"))
    text = page_text(response)
    assert response.context["latest"].model_name == "TF-IDF + logistic regression"
    assert "Model TF-IDF + logistic regression" in text
    assert "Training set 7 includes and 93 excludes" in text
    assert "Records ranked 1,200" in text
    assert "Time taken 2.35 seconds" in text
    assert "Code version prio-1.4.2" in text
    assert "<dt><code>C</code></dt><dd><code>1.0</code></dd>" in response.content.decode()
    assert "<dt><code>ngram_range</code></dt><dd><code>[1, 2]</code></dd>" in (
        response.content.decode()
    )
    # Every ranking, newest first, including the one waiting and the one skipped.
    assert [r.status for r in response.context["rankings"]] == ["queued", "done", "skipped"]
    assert "Not enough decisions yet: Random order until" in text
    assert "How reviewers' decisions become the training set" in text


def test_priority_order_is_random_until_a_ranking_is_done(client_for, review, lead):
    config = config_for(review)
    config.order = ScreeningConfig.Order.PRIORITY
    config.save(update_fields=["order"])
    client = client_for(lead)
    assert "still served in random order" in page_text(client.get(url("prioritisation")))
    Ranking.objects.create(review=review, status=Ranking.Status.DONE)
    assert "order of the latest completed ranking" in page_text(client.get(url("prioritisation")))


def test_rerank_when_a_ranking_is_already_waiting_adds_none(client_for, review, lead):
    Ranking.objects.create(review=review, status=Ranking.Status.QUEUED)
    response = client_for(lead).post(url("prioritisation_rerank"), follow=True)
    assert "already waiting" in response.content.decode()
    assert Ranking.objects.count() == 1


# --------------------------------------------------------------------------- stopping


def test_stopping_panel_shows_the_figures(client_for, lead, screened):
    response = client_for(lead).get(url("prioritisation"))
    evidence = response.context["evidence"]
    assert (evidence["total"], evidence["screened"], evidence["includes_found"]) == (12, 10, 3)
    assert (evidence["consecutive_excludes"], evidence["since_last_include"]) == (6, 6)
    expected = stopping.stopping_estimate(SEQUENCE, TOTAL)
    assert evidence["estimate"] == expected
    text = page_text(response)
    assert "Records screened 10 of 12 (2 not yet screened)" in text
    assert "Includes found 3" in text
    assert "Consecutive excludes 6" in text
    assert "Records screened since the last include 6" in text
    assert (
        f"Estimated recall {100 * expected.estimated_recall:.1f}% (between "
        f"{100 * expected.recall_low:.1f}% and 100.0% at 95% confidence)"
    ) in text
    assert f"p = {expected.p_value:.3g}" in text
    verdict = "Yes:" if expected.can_stop else "No:"
    assert f"Does the test support stopping? {verdict}" in text
    assert expected.method_note.split(".")[0] in text


def test_the_chart_is_an_accessible_svg_with_a_table(client_for, lead, screened):
    response = client_for(lead).get(url("prioritisation"))
    page = response.content.decode()
    svg = re.search(r"<svg[^>]*>.*?</svg>", page, re.S).group(0)
    assert 'role="img"' in svg
    label = re.search(r'aria-label="([^"]+)"', svg).group(1)
    assert label == (
        "Chart of includes found against records screened: 3 includes found in 10 records "
        "screened; the most recent include was record 4 screened."
    )
    assert "<title>Includes found against records screened</title>" in svg
    assert '<desc id="curve-desc">' in svg
    # Strict CSP: no style attributes, no inline scripts.
    assert " style=" not in page and not re.search(r"<script(?![^>]*\bsrc=)", page)
    points = re.search(r'<polyline points="([^"]+)"', svg).group(1).split()
    assert len(points) == 11  # the origin and one point per record screened
    rows = response.context["curve_rows"]
    assert [(row["screened"], row["includes"]) for row in rows] == [
        (1, 1), (2, 2), (3, 2), (4, 3), (5, 3), (6, 3), (7, 3), (8, 3), (9, 3), (10, 3)
    ]  # fmt: skip
    assert "<caption>Includes found at every tenth of the records screened</caption>" in page


def test_nothing_to_chart_before_anything_is_screened(client_for, lead, records):
    response = client_for(lead).get(url("prioritisation"))
    assert response.context["chart"] is None
    assert "nothing to chart" in response.content.decode()


def test_a_long_curve_is_drawn_with_at_most_300_points():
    curve = stopping.screening_curve([n % 7 == 0 for n in range(5000)])
    assert len(downsample(curve)) == 300
    assert downsample(curve)[0] == curve[0] and downsample(curve)[-1] == curve[-1]
    chart = curve_chart(curve)
    assert len(chart["points"].split()) == 300
    assert chart["x_ticks"][-1]["label"] == "5,000"
    rows = curve_table(curve)
    assert [row["screened"] for row in rows] == list(range(500, 5001, 500))
    assert rows[-1]["share_found"] == "100%"


@pytest.mark.parametrize(
    ("top", "expected"),
    [(0, [0, 1]), (3, [0, 1, 2, 3]), (10, [0, 2, 4, 6, 8, 10]), (4321, list(range(0, 5001, 1000)))],
)
def test_chart_ticks_are_round_numbers(top, expected):
    assert ticks(top) == expected


def test_lead_logs_a_decision_to_stop_with_the_evidence(client_for, review, lead, screened):
    Ranking.objects.create(review=review, status=Ranking.Status.DONE, model_name="model-x",
                           finished_at=timezone.now())  # fmt: skip
    client = client_for(lead)
    response = stop(client, note="  The test supports stopping.  ")
    assert response.status_code == 302
    assert response["Location"] == url("prioritisation") + "#decisions-heading"
    decision = StopDecision.objects.get()
    expected = stopping.stopping_estimate(SEQUENCE, TOTAL)
    assert (decision.review, decision.stage, decision.decided_by) == (review, "ta", lead)
    assert decision.note == "The test supports stopping."
    assert decision.withdrawn_at is None
    evidence = decision.evidence
    assert {k: evidence[k] for k in ("total", "screened", "includes_found",
                                     "consecutive_excludes", "since_last_include")} == {
        "total": 12, "screened": 10, "includes_found": 3, "consecutive_excludes": 6,
        "since_last_include": 6,
    }  # fmt: skip
    assert evidence["estimate"]["recall_low"] == expected.recall_low
    assert evidence["estimate"]["estimated_recall"] == expected.estimated_recall
    assert evidence["estimate"]["p_value"] == expected.p_value
    assert evidence["ranking"]["model"] == "model-x"
    assert "curve" not in evidence
    # Nothing was excluded: the two open records are still open.
    open_rows = RecordStage.objects.filter(stage="ta", status__in=["awaiting", "awaiting_more"])
    assert open_rows.count() == 2

    text = page_text(client.get(url("prioritisation")))
    assert "Stopped on" in text and "by Lena Lead" in text
    assert "Why: The test supports stopping." in text
    assert "Withdraw this decision" in text
    assert "To log a new decision, first withdraw that one" in text


def prisma_note(review):
    expected = stopping.stopping_estimate(SEQUENCE, TOTAL)
    day = timezone.localtime(StopDecision.objects.get().decided_at)
    return (
        f"Screening stopped early on {day.day} {day:%B %Y} on the lead's decision: 2 records "
        f"were not screened (estimated recall {100 * expected.estimated_recall:.1f}%, lower "
        f"bound {100 * expected.recall_low:.1f}% at 95% confidence)."
    )


def test_an_early_stop_is_in_the_prisma_notes_until_withdrawn(client_for, review, lead, screened):
    client = client_for(lead)
    assert stop(client).status_code == 302
    note = prisma_note(review)
    assert note in prisma_counts(review).notes
    assert note in page_text(client.get(reverse("prisma", args=["harm"])))
    # The exports draw the notes into the diagram.
    assert "Screening stopped early on" in render_svg(prisma_counts(review), responsive=False)

    decision = StopDecision.objects.get()
    assert client.post(url("prioritisation_withdraw", decision.pk)).status_code == 302
    decision.refresh_from_db()
    assert decision.withdrawn_at is not None
    assert not any("stopped early" in n for n in prisma_counts(review).notes)
    assert "stopped early" not in client.get(reverse("prisma", args=["harm"])).content.decode()
    # The withdrawn decision stays in the log, and a new one may be logged.
    text = page_text(client.get(url("prioritisation")))
    assert "(withdrawn)" in text and "Withdrawn on" in text
    assert stop(client).status_code == 302
    assert StopDecision.objects.filter(withdrawn_at=None).count() == 1


def test_the_note_without_any_include_says_recall_is_unknown(review, lead):
    StopDecision.objects.create(
        review=review, decided_by=lead, note="x",
        evidence={"total": 5, "screened": 4, "includes_found": 0,
                  "estimate": {"estimated_recall": None, "recall_low": None}},
    )  # fmt: skip
    note = prisma_counts(review).notes[0]
    assert note.endswith(
        "1 record was not screened (recall could not be estimated: nothing had been included)."
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"note": "", "confirm": "on"}, "Say why you are stopping."),
        ({"note": "   ", "confirm": "on"}, "Say why you are stopping."),
        ({"note": "Enough."}, "Tick the box to confirm that you understand."),
    ],
)
def test_a_decision_to_stop_needs_a_reason_and_the_confirmation(
    client_for, lead, screened, data, message
):
    client = client_for(lead)
    response = client.post(url("prioritisation_stop"), {**data, "shown": shown_key(client)})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not StopDecision.objects.exists()


def test_figures_that_changed_since_the_page_was_drawn_are_not_logged(
    client_for, lead, reviewer, reviewer2, screened
):
    client = client_for(lead)
    shown = shown_key(client)
    for person in (reviewer, reviewer2):
        record_decision(record=screened[10], stage="ta", reviewer=person, value="exclude")
    response = client.post(
        url("prioritisation_stop"), {"note": "Enough.", "confirm": "on", "shown": shown}
    )
    assert response.status_code == 400
    assert "The figures changed while the page was open" in response.content.decode()
    assert not StopDecision.objects.exists()
    # The page now shows the new figures, and they can be confirmed.
    assert response.context["evidence"]["screened"] == 11
    assert stop(client).status_code == 302
    assert StopDecision.objects.get().evidence["screened"] == 11


def test_a_second_decision_while_one_is_in_force_is_refused(client_for, lead, screened):
    client = client_for(lead)
    assert stop(client).status_code == 302
    response = stop(client)
    assert response.status_code == 400
    assert "Screening has already been stopped" in response.content.decode()
    assert StopDecision.objects.count() == 1


def test_withdrawing_twice_keeps_the_first_time(client_for, review, lead):
    first = timezone.now() - timedelta(days=1)
    decision = StopDecision.objects.create(review=review, note="x", evidence={},
                                           withdrawn_at=first)  # fmt: skip
    response = client_for(lead).post(url("prioritisation_withdraw", decision.pk), follow=True)
    assert "already been withdrawn" in response.content.decode()
    decision.refresh_from_db()
    assert decision.withdrawn_at == first


# --------------------------------------------------------------------------- scores


def test_the_page_lists_the_open_records_with_the_highest_scores(
    client_for, lead, screened, records
):
    set_scores(records, [0.9 - n / 100 for n in range(10)] + [0.123, 0.987])
    response = client_for(lead).get(url("prioritisation"))
    rows = response.context["top_scores"]
    # Settled records are left out, however high their scores.
    assert [(row.record_id, row.score) for row in rows] == [
        (records[11].pk, 0.987), (records[10].pk, 0.123)
    ]  # fmt: skip
    text = page_text(response)
    assert f"{records[11].title} 0.99 Awaiting reviewers" in text
    assert f"{records[10].title} 0.12 Awaiting reviewers" in text
    assert reverse("records", args=["harm"]) + "?sort=score" in response.content.decode()


def test_lead_sees_scores_on_the_records_list_and_sorts_by_them(client_for, lead, records):
    set_scores(records[:3], [0.25, 0.75, 0.5])
    client = client_for(lead)
    response = client.get(reverse("records", args=["harm"]))
    page = response.content.decode()
    assert '<th scope="col">Relevance</th>' in page
    assert "<td>0.25</td>" in page and "<td>0.75</td>" in page
    by_score = client.get(reverse("records", args=["harm"]), {"sort": "score"})
    ordered = [r.pk for r in by_score.context["page"].object_list]
    # Highest first; records without a score after them, in import order.
    assert ordered == [records[1].pk, records[2].pk, records[0].pk] + [r.pk for r in records[3:]]


def test_lead_sees_the_score_on_the_record_page(client_for, lead, records):
    set_scores(records[:1], [0.4567])
    client = client_for(lead)
    text = page_text(client.get(records[0].get_absolute_url()))
    assert "Relevance score (title and abstract) 0.46 of 1" in text
    assert "Relevance score (title and abstract) Not ranked yet" in page_text(
        client.get(records[1].get_absolute_url())
    )


def test_a_reviewer_sees_no_scores_while_screening_is_blind(client_for, review, reviewer, records):
    set_scores(records[:3], [0.25, 0.75, 0.5])
    assert config_for(review).blind
    client = client_for(reviewer)
    listing = client.get(reverse("records", args=["harm"]), {"sort": "score"})
    page = listing.content.decode()
    assert "Relevance" not in page and "0.75" not in page
    # Sorting by score would reveal the ranking: it is ignored.
    assert [r.pk for r in listing.context["page"].object_list] == [r.pk for r in records]
    detail = client.get(records[1].get_absolute_url()).content.decode()
    assert "Relevance score" not in detail and "0.75" not in detail


def test_a_reviewer_sees_scores_when_screening_is_not_blind(client_for, review, reviewer, records):
    set_scores(records[:3], [0.25, 0.75, 0.5])
    config = config_for(review)
    config.blind = False
    config.save(update_fields=["blind"])
    client = client_for(reviewer)
    listing = client.get(reverse("records", args=["harm"]), {"sort": "score"})
    assert "<td>0.75</td>" in listing.content.decode()
    assert listing.context["page"].object_list[0].pk == records[1].pk
    assert "0.75 of 1" in page_text(client.get(records[1].get_absolute_url()))
    # The prioritisation page stays the lead's.
    assert client.get(url("prioritisation")).status_code == 403


def test_a_review_without_settings_yet_is_blind(client_for, review, reviewer, records):
    ScreeningConfig.objects.filter(review=review).delete()
    set_scores(records[:1], [0.75])
    page = client_for(reviewer).get(reverse("records", args=["harm"])).content.decode()
    assert "0.75" not in page
    assert not ScreeningConfig.objects.filter(review=review).exists()


@pytest.mark.parametrize("persona", ["advisory", "outsider"])
def test_advisory_members_and_outsiders_see_no_records(client_for, personas, records, persona):
    status = 403 if persona == "advisory" else 404
    client = client_for(personas[persona])
    assert client.get(reverse("records", args=["harm"])).status_code == status
    assert client.get(records[0].get_absolute_url()).status_code == status


# --------------------------------------------------------------------------- queries


def test_page_query_count_does_not_grow(
    client_for, review, lead, screened, records, queries_of, django_assert_num_queries
):
    client = client_for(lead)
    Ranking.objects.create(review=review, status=Ranking.Status.DONE)
    StopDecision.objects.create(review=review, decided_by=lead, note="x", evidence={})
    set_scores(records, [0.5] * TOTAL)
    with_one = queries_of(client, url("prioritisation"))
    for _ in range(5):
        Ranking.objects.create(review=review, status=Ranking.Status.FAILED, error="boom")
    StopDecision.objects.all().update(withdrawn_at=timezone.now())
    for n in range(4):
        StopDecision.objects.create(review=review, decided_by=lead, note=f"n{n}", evidence={},
                                    withdrawn_at=timezone.now())  # fmt: skip
    with django_assert_num_queries(with_one):
        assert client.get(url("prioritisation")).status_code == 200
