"""AI prioritisation in the review: rankings change the queue's order and nothing else, stay
random until there is an include and an exclude, record what a methods section needs, never
run twice at once, and the next record is the top-ranked one still needing the reviewer."""

import pytest
from django.utils import timezone

from screening import ranking
from screening.decisions import record_decision
from screening.models import Ranking, RecordStage, ScreeningConfig
from screening.pool import random_order_key
from screening.queue import next_record_stage
from tests.screening.factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db

RELEVANT = "social care service users harm practitioners community mental health support"
OTHER = "software engineering testing compilers code review"


@pytest.fixture
def pool(review, lead):
    entries = []
    for n in range(1, 41):
        topic = RELEVANT if n % 4 == 0 else OTHER
        entries.append(work(n, title=f"{topic} study {n}", abstract=f"{topic} {topic} {n}"))
    import_file(review, ris_bytes(entries), user=lead)
    rows = RecordStage.objects.filter(review=review, stage="ta").select_related("record")
    return {row.record.title: row.record for row in rows}


def relevant(record):
    return record.title.startswith("social")


def settle(record, value, *reviewers):
    from django.db import connection

    for reviewer in reviewers:
        record_decision(record=record, stage="ta", reviewer=reviewer, value=value)
        # What the decision scheduled for after its commit (the ranking request), run as a
        # real request's commit would run it (tests never commit).
        for _, callback, _ in list(connection.run_on_commit):
            callback()
        connection.run_on_commit.clear()


def test_random_until_an_include_and_an_exclude(review, pool, reviewer, reviewer2):
    ranking.set_order(review, "priority")
    keys = dict(RecordStage.objects.filter(review=review).values_list("record_id", "order_key"))
    other = next(r for r in pool.values() if not relevant(r))
    settle(other, "exclude", reviewer, reviewer2)
    latest = Ranking.objects.filter(review=review).first()
    assert latest.status == "skipped"
    after = dict(RecordStage.objects.filter(review=review).values_list("record_id", "order_key"))
    assert after == keys
    assert all(k == random_order_key(pk) for pk, k in after.items())


def test_priority_order_serves_the_top_ranked_record_still_needing_me(
    review, pool, reviewer, reviewer2, lead
):
    ranking.set_order(review, "priority")
    first_relevant = next(r for r in pool.values() if relevant(r))
    first_other = next(r for r in pool.values() if not relevant(r))
    settle(first_relevant, "include", reviewer, reviewer2)
    settle(first_other, "exclude", reviewer, reviewer2)
    done = Ranking.objects.filter(review=review, status="done").first()
    assert done is not None
    assert (done.training_includes, done.training_excludes) >= (1, 1)
    assert done.model_name and done.code_version and done.settings and done.seconds is not None
    assert done.records_ranked == len(pool)
    # The queue now serves relevant-looking records first, to each reviewer who needs them.
    served = []
    for _ in range(5):
        row = next_record_stage(review, lead, "ta")
        served.append(row.record)
        settle(row.record, "exclude", lead)
    assert all(relevant(record) for record in served[:5])
    # Dual screening untouched: a record the lead decided still needs its second reviewer.
    row = RecordStage.objects.get(record=served[0], stage="ta")
    assert row.status == "awaiting_more"
    assert next_record_stage(review, reviewer, "ta").record in served


def test_open_records_are_ordered_by_score(review, pool, reviewer, reviewer2):
    ranking.set_order(review, "priority")
    settle(next(r for r in pool.values() if relevant(r)), "include", reviewer, reviewer2)
    settle(next(r for r in pool.values() if not relevant(r)), "exclude", reviewer, reviewer2)
    rows = list(RecordStage.objects.filter(review=review, stage="ta", status="awaiting")
                .order_by("order_key").values_list("score", flat=True))  # fmt: skip
    assert rows == sorted(rows, reverse=True)
    assert all(score is not None for score in rows)


def test_back_to_random_restores_the_random_order(review, pool, reviewer, reviewer2):
    ranking.set_order(review, "priority")
    settle(next(r for r in pool.values() if relevant(r)), "include", reviewer, reviewer2)
    settle(next(r for r in pool.values() if not relevant(r)), "exclude", reviewer, reviewer2)
    ranking.set_order(review, "random")
    for pk, key in RecordStage.objects.filter(review=review).values_list("record_id",
                                                                          "order_key"):  # fmt: skip
        assert key == random_order_key(pk)


def test_random_order_asks_for_no_ranking(review, pool, reviewer, reviewer2):
    settle(next(iter(pool.values())), "exclude", reviewer, reviewer2)
    assert not Ranking.objects.exists()
    assert ScreeningConfig.objects.get(review=review).order == "random"


def test_never_two_rankings_at_once_for_a_review(review, pool, settings):
    settings.RANKING_INLINE = False
    busy = Ranking.objects.create(review=review, status="running", started_at=timezone.now())
    waiting = Ranking.objects.create(review=review)
    claimed, wait = ranking.claim(waiting.pk)
    assert wait and claimed == waiting
    waiting.refresh_from_db()
    assert waiting.status == "queued"
    busy.status = "done"
    busy.save()
    claimed, wait = ranking.claim(waiting.pk)
    assert not wait
    waiting.refresh_from_db()
    assert waiting.status == "running"


def test_one_waiting_ranking_collects_every_decision(review, pool, settings):
    settings.RANKING_INLINE = False
    first = ranking.request_ranking(review.pk)
    assert ranking.request_ranking(review.pk) is None
    assert Ranking.objects.filter(review=review).count() == 1
    assert first.status == "queued"
