"""Real concurrent transactions on PostgreSQL: two reviewers deciding the same record at the
same instant are both recorded and the conflict appears once; a double submit is stored once.
Each is checked through record_decision alone and the way the workspace calls it (locking
the stage row in its own transaction and handing it over)."""

import threading

import pytest
from django.db import connection, connections, transaction

from screening import decisions
from screening.decisions import DecisionError
from screening.models import Decision, DecisionHistory, Record, RecordStage

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def postgres_only(settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "needs PostgreSQL's row locks and real concurrent connections (DATABASE_URL, as in CI)"
        )
    settings.MEDIA_ROOT = tmp_path


def record_decision_locked(*, record, stage, **kwargs):
    """As screening.views.screen.screen_decide records a decision."""
    with transaction.atomic():
        row = decisions.lock_stage_row(record.review_id, record.pk, stage)
        return decisions.record_decision(record=row.record, stage=stage, locked_row=row, **kwargs)


@pytest.fixture(params=["service", "locked_row"])
def record_decision(request):
    return decisions.record_decision if request.param == "service" else record_decision_locked


def run_together(*calls):
    """Start each call in its own thread (own connection) and release them at once."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def worker(call):
        try:
            barrier.wait()
            call()
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


@pytest.mark.parametrize("attempt", range(5))
def test_simultaneous_opposite_decisions_make_one_conflict(
    record_decision, review, reviewer, reviewer2, attempt
):
    import_file(review, ris_bytes([work(1)]))
    record = Record.objects.get()
    errors = run_together(
        lambda: record_decision(record=record, stage="ta", reviewer=reviewer, value="include"),
        lambda: record_decision(record=record, stage="ta", reviewer=reviewer2, value="exclude"),
    )
    assert errors == []
    assert sorted(Decision.objects.values_list("value", flat=True)) == ["exclude", "include"]
    stage = RecordStage.objects.get(record=record, stage="ta")
    assert (stage.status, stage.decision_count) == ("conflict", 2)


@pytest.mark.parametrize("attempt", range(5))
def test_double_submit_is_stored_once(record_decision, review, reviewer, attempt):
    import_file(review, ris_bytes([work(1)]))
    record = Record.objects.get()
    errors = run_together(
        *[
            lambda: record_decision(
                record=record, stage="ta", reviewer=reviewer, value="include", expected_version=0
            )
        ]
        * 2
    )
    # One submit wins; the other finds the decision there and is refused as stale, never
    # stored twice.
    assert all(isinstance(e, DecisionError) for e in errors) and len(errors) <= 1
    assert Decision.objects.count() == 1
    assert DecisionHistory.objects.count() == 1
    assert RecordStage.objects.get(record=record, stage="ta").decision_count == 1


def test_third_reviewer_racing_for_the_last_slot(
    record_decision, review, reviewer, reviewer2, lead
):
    import_file(review, ris_bytes([work(1)]))
    record = Record.objects.get()
    record_decision(record=record, stage="ta", reviewer=lead, value="include")
    errors = run_together(
        lambda: record_decision(record=record, stage="ta", reviewer=reviewer, value="include"),
        lambda: record_decision(record=record, stage="ta", reviewer=reviewer2, value="include"),
    )
    assert len(errors) == 1 and "already has all the decisions" in str(errors[0])
    assert Decision.objects.count() == 2
