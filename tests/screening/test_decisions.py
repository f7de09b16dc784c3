"""Decisions, derived statuses, the queue and releasing a reviewer's records."""

import pytest
from django.db import transaction

from reviewapp import services as review_services
from reviewapp.models import Membership
from screening.decisions import (
    DecisionError,
    StaleDecision,
    derive_status,
    lock_stage_row,
    record_decision,
    resolve_conflict,
    withdraw_decision,
)
from screening.models import (
    Decision,
    DecisionHistory,
    ExclusionReason,
    Record,
    RecordStage,
    ScreenerCursor,
    Study,
)
from screening.models.decisions import StageStatus
from screening.queue import next_record_stage, next_record_stages, record_stage_after

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db
S = StageStatus


@pytest.fixture
def records(review, lead):
    import_file(review, ris_bytes([work(n) for n in range(1, 6)]), user=lead)
    return list(Record.objects.order_by("id"))


@pytest.fixture
def reason(review):
    return ExclusionReason.objects.create(review=review, text="Not a community setting")


@pytest.mark.parametrize(
    ("stage", "values", "expected"),
    [
        ("ta", [], S.AWAITING),
        ("ta", [("include", None)], S.AWAITING_MORE),
        ("ta", [("include", None), ("include", None)], S.INCLUDED),
        ("ta", [("include", None), ("maybe", None)], S.INCLUDED),
        ("ta", [("maybe", None), ("maybe", None)], S.INCLUDED),
        ("ta", [("exclude", None), ("exclude", None)], S.EXCLUDED),
        ("ta", [("exclude", None), ("maybe", None)], S.CONFLICT),
        ("ta", [("include", None), ("exclude", None)], S.CONFLICT),
        ("ft", [("include", None), ("include", None)], S.INCLUDED),
        ("ft", [("exclude", 1), ("exclude", 1)], S.EXCLUDED),
        ("ft", [("exclude", 1), ("exclude", 2)], S.CONFLICT),
        ("ft", [("include", None), ("exclude", 1)], S.CONFLICT),
    ],
)
def test_outcome_rules(stage, values, expected):
    assert derive_status(stage, values, needed=2) == expected


def test_three_reviewers_needed(db):
    values = [("include", None), ("include", None)]
    assert derive_status("ta", values, needed=3) == S.AWAITING_MORE


def test_records_enter_title_abstract_screening_after_import(records):
    assert RecordStage.objects.filter(stage="ta", status=S.AWAITING).count() == 5


def test_two_includes_send_a_record_to_full_text(records, reviewer, reviewer2):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    assert RecordStage.objects.get(record=record, stage="ta").status == S.AWAITING_MORE
    _, status = record_decision(record=record, stage="ta", reviewer=reviewer2, value="maybe")
    assert status == S.INCLUDED
    assert RecordStage.objects.get(record=record, stage="ft").status == S.AWAITING


def test_a_change_is_a_new_version_with_history(records, reviewer):
    record = records[0]
    first, _ = record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    second, _ = record_decision(
        record=record,
        stage="ta",
        reviewer=reviewer,
        value="exclude",
        note="Not community based",
        expected_version=1,
    )
    assert (second.pk, second.version, second.value) == (first.pk, 2, "exclude")
    history = list(
        DecisionHistory.objects.filter(record=record).values_list("action", "value", "version")
    )
    assert history == [("decided", "include", 1), ("changed", "exclude", 2)]


def test_stale_page_cannot_silently_overwrite(records, reviewer):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    record_decision(
        record=record, stage="ta", reviewer=reviewer, value="exclude", expected_version=1
    )
    with pytest.raises(StaleDecision):
        record_decision(
            record=record, stage="ta", reviewer=reviewer, value="maybe", expected_version=1
        )
    assert Decision.objects.get().value == "exclude"


def test_double_submit_is_stored_once(records, reviewer):
    record = records[0]
    for _ in range(2):
        record_decision(
            record=record, stage="ta", reviewer=reviewer, value="include", expected_version=None
        )
    assert Decision.objects.count() == 1
    assert DecisionHistory.objects.count() == 1


def test_a_third_reviewer_cannot_add_a_decision_when_two_are_needed(
    records, reviewer, reviewer2, lead
):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    record_decision(record=record, stage="ta", reviewer=reviewer2, value="exclude")
    with pytest.raises(DecisionError, match="already has all the decisions"):
        record_decision(record=record, stage="ta", reviewer=lead, value="include")


def test_full_text_exclusion_needs_a_reason(records, reviewer, reviewer2, reason):
    record = records[0]
    for person in (reviewer, reviewer2):
        record_decision(record=record, stage="ta", reviewer=person, value="include")
    with pytest.raises(DecisionError, match="exclusion reason"):
        record_decision(record=record, stage="ft", reviewer=reviewer, value="exclude")
    with pytest.raises(DecisionError, match="include or exclude"):
        record_decision(record=record, stage="ft", reviewer=reviewer, value="maybe")
    record_decision(record=record, stage="ft", reviewer=reviewer, value="exclude", reason=reason)
    assert Decision.objects.get(stage="ft").reason == reason


def test_conflict_resolution_is_recorded_and_final(records, reviewer, reviewer2, lead):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    record_decision(record=record, stage="ta", reviewer=reviewer2, value="exclude")
    status = resolve_conflict(
        record=record, stage="ta", user=lead, value="include", note="Community setting after all"
    )
    assert status == S.RESOLVED_INCLUDE
    assert RecordStage.objects.get(record=record, stage="ft").status == S.AWAITING
    with pytest.raises(DecisionError, match="resolved"):
        record_decision(record=record, stage="ta", reviewer=reviewer, value="exclude")
    with pytest.raises(DecisionError, match="not in conflict"):
        resolve_conflict(record=record, stage="ta", user=lead, value="exclude")


def test_full_text_include_makes_a_study_and_changing_it_removes_it(
    records, reviewer, reviewer2, reason
):
    record = records[0]
    for stage in ("ta", "ft"):
        for person in (reviewer, reviewer2):
            record_decision(record=record, stage=stage, reviewer=person, value="include")
    study = Study.objects.get()
    assert list(study.reports.values_list("record", flat=True)) == [record.pk]
    assert study.label == f"Author1 {record.year}"
    record_decision(record=record, stage="ft", reviewer=reviewer, value="exclude", reason=reason)
    assert not Study.objects.exists()


def test_withdraw_returns_the_record_to_my_queue(records, review, reviewer):
    record = records[0]
    record_decision(record=record, stage="ta", reviewer=reviewer, value="exclude")
    withdraw_decision(record=record, stage="ta", reviewer=reviewer)
    assert not Decision.objects.exists()
    assert RecordStage.objects.get(record=record, stage="ta").status == S.AWAITING
    assert DecisionHistory.objects.filter(action="released").count() == 1


def test_queue_serves_each_record_once_and_skips_my_decided_ones(records, review, reviewer):
    seen = []
    for _ in range(5):
        row = next_record_stage(review, reviewer, "ta")
        seen.append(row.record_id)
        record_decision(record=row.record, stage="ta", reviewer=reviewer, value="exclude")
    assert sorted(seen) == [r.pk for r in records]
    assert next_record_stage(review, reviewer, "ta") is None


def test_queue_offers_records_awaiting_a_second_reviewer(records, review, reviewer, reviewer2):
    row = next_record_stage(review, reviewer, "ta")
    record_decision(record=row.record, stage="ta", reviewer=reviewer, value="include")
    assert next_record_stage(review, reviewer2, "ta").record_id == row.record_id


def test_queue_wraps_round_to_skipped_records(records, review, reviewer):
    first = next_record_stage(review, reviewer, "ta")
    skipped_to = next_record_stage(review, reviewer, "ta", after=first.order_key + 1)
    assert skipped_to.record_id != first.record_id
    for _ in range(4):
        row = next_record_stage(review, reviewer, "ta")
        record_decision(record=row.record, stage="ta", reviewer=reviewer, value="exclude")
    assert next_record_stage(review, reviewer, "ta").record_id == first.record_id


def test_the_queue_serves_a_record_and_the_one_after_it(records, review, reviewer):
    """next_record_stages gives next_record_stage's row and record_stage_after's for it:
    ahead of the cursor, behind it (the last record ahead), after wrapping round, and at
    the end of the queue."""
    order = list(
        RecordStage.objects.filter(stage="ta").order_by("order_key", "id").select_related("record")
    )

    def served(after=None):
        row, following = next_record_stages(review, reviewer, "ta", after=after)
        cursor = ScreenerCursor.objects.get(user=reviewer)
        assert cursor.order_key == row.order_key
        assert next_record_stage(review, reviewer, "ta", after=after).pk == row.pk
        after_it = record_stage_after(review, reviewer, "ta", row)
        assert getattr(following, "pk", None) == getattr(after_it, "pk", None)
        return row.pk, getattr(following, "pk", None)

    assert served() == (order[0].pk, order[1].pk)
    # Skipped to the last record: the one after it lies behind the cursor.
    assert served(after=order[4].order_key) == (order[4].pk, order[0].pk)
    for row in order[3:]:
        record_decision(record=row.record, stage="ta", reviewer=reviewer, value="exclude")
    # Nothing ahead any more: round to the start.
    assert served() == (order[0].pk, order[1].pk)
    for row in order[:2]:
        record_decision(record=row.record, stage="ta", reviewer=reviewer, value="exclude")
    assert served() == (order[2].pk, None)
    record_decision(record=order[2].record, stage="ta", reviewer=reviewer, value="exclude")
    assert next_record_stages(review, reviewer, "ta") == (None, None)


def test_a_decision_on_a_row_the_caller_locked(records, review, reviewer, reviewer2, lead):
    record = records[0]
    with transaction.atomic():
        row = lock_stage_row(review, record.pk, "ta")
        record_decision(record=row.record, stage="ta", reviewer=reviewer, value="include",
                        expected_version=0, locked_row=row)  # fmt: skip
    with transaction.atomic():
        row = lock_stage_row(review, record.pk, "ta")
        _, status = record_decision(record=row.record, stage="ta", reviewer=reviewer2,
                                    value="exclude", locked_row=row)  # fmt: skip
    assert status == S.CONFLICT
    stage = RecordStage.objects.get(record=record, stage="ta")
    assert (stage.status, stage.decision_count) == (S.CONFLICT, 2)
    assert DecisionHistory.objects.filter(record=record).count() == 2
    # A refusal undoes the caller's whole transaction, their own writes included.
    with pytest.raises(DecisionError, match="all the decisions it needs"), transaction.atomic():
        ExclusionReason.objects.create(review=review, text="Written before the refusal")
        row = lock_stage_row(review, record.pk, "ta")
        record_decision(record=row.record, stage="ta", reviewer=lead, value="include",
                        locked_row=row)  # fmt: skip
    assert not ExclusionReason.objects.exists()
    assert Decision.objects.filter(record=record).count() == 2
    # Another review's record is not found.
    assert lock_stage_row(review.pk + 1, record.pk, "ta") is None


@pytest.mark.django_db(transaction=True)
def test_a_locked_row_needs_the_callers_transaction(records, review, reviewer):
    # Outside a transaction no lock would be held (PostgreSQL refuses the SELECT ... FOR
    # UPDATE itself), so a row read any other way stands in.
    row = RecordStage.objects.select_related("record").get(record=records[0], stage="ta")
    with pytest.raises(transaction.TransactionManagementError):
        record_decision(record=row.record, stage="ta", reviewer=reviewer, value="include",
                        locked_row=row)  # fmt: skip
    assert not Decision.objects.exists()


def test_removing_a_reviewer_returns_their_open_records_to_the_pool(
    records, review, lead, reviewer, reviewer2
):
    open_record, settled, conflicted = records[0], records[1], records[2]
    record_decision(record=open_record, stage="ta", reviewer=reviewer, value="include")
    for person in (reviewer, reviewer2):
        record_decision(record=settled, stage="ta", reviewer=person, value="exclude")
    record_decision(record=conflicted, stage="ta", reviewer=reviewer, value="include")
    record_decision(record=conflicted, stage="ta", reviewer=reviewer2, value="exclude")
    review_services.remove_member(membership=Membership.objects.get(user=reviewer))
    assert RecordStage.objects.get(record=open_record, stage="ta").status == S.AWAITING
    assert RecordStage.objects.get(record=settled, stage="ta").status == S.EXCLUDED
    # The conflict stays, and a lead can still resolve it.
    assert RecordStage.objects.get(record=conflicted, stage="ta").status == S.CONFLICT
    assert (
        resolve_conflict(record=conflicted, stage="ta", user=lead, value="exclude")
        == S.RESOLVED_EXCLUDE
    )


def test_demoting_a_reviewer_to_advisory_releases_too(records, review, reviewer):
    record_decision(record=records[0], stage="ta", reviewer=reviewer, value="include")
    review_services.change_role(membership=Membership.objects.get(user=reviewer), role="advisory")
    assert not Decision.objects.exists()


def test_merged_duplicate_keeps_its_decisions_and_leaves_the_pool(review, lead, reviewer):
    from screening import services

    a = work(1, doi="")
    import_file(review, ris_bytes([a, work(1, doi="", id="late", year=a["year"] + 2)]), user=lead)
    late = Record.objects.get(source_id="late")
    record_decision(record=late, stage="ta", reviewer=reviewer, value="include")
    pair = late.review.duplicate_pairs.get(status="pending")
    services.decide_pair(pair=pair, user=lead, is_duplicate=True)
    assert RecordStage.objects.get(record=late, stage="ta").status == S.MERGED
    assert Decision.objects.filter(record=late).count() == 1
    with pytest.raises(DecisionError, match="merged"):
        record_decision(record=late, stage="ta", reviewer=lead, value="include")
    late.refresh_from_db()
    services.undo_merge(record=late, user=lead)
    assert RecordStage.objects.get(record=late, stage="ta").status == S.AWAITING_MORE


def test_other_methods_records_go_straight_to_full_text(review, lead):
    import_file(review, ris_bytes([work(1)]), source="Experts", kind="other")
    assert list(RecordStage.objects.values_list("stage", "status")) == [("ft", S.AWAITING)]


def test_raising_reviewers_per_record_does_not_reopen_settled_records(
    records, review, reviewer, reviewer2
):
    record = records[0]
    for person in (reviewer, reviewer2):
        record_decision(record=record, stage="ta", reviewer=person, value="exclude")
    config = review.screening
    config.reviewers_per_record = 3
    config.save()
    # A changed decision is judged with the two reviewers the record was settled by.
    _, status = record_decision(
        record=record, stage="ta", reviewer=reviewer, value="include", expected_version=1
    )
    assert status == S.CONFLICT
    # A record not yet settled needs the new number.
    other = records[1]
    for person in (reviewer, reviewer2):
        _, status = record_decision(record=other, stage="ta", reviewer=person, value="exclude")
    assert status == S.AWAITING_MORE


def test_study_keeps_a_primary_report_when_the_primary_is_excluded(
    records, review, reviewer, reviewer2, reason
):
    from screening.models import StudyReport

    first, second = records[0], records[1]
    for record in (first, second):
        for stage in ("ta", "ft"):
            for person in (reviewer, reviewer2):
                record_decision(record=record, stage=stage, reviewer=person, value="include")
    study = StudyReport.objects.get(record=first).study
    StudyReport.objects.filter(record=second).update(study=study, is_primary=False)
    Study.objects.exclude(pk=study.pk).delete()
    record_decision(
        record=first,
        stage="ft",
        reviewer=reviewer,
        value="exclude",
        reason=reason,
        expected_version=1,
    )
    assert list(study.reports.values_list("record_id", "is_primary")) == [(second.pk, True)]
