"""Recording screening decisions and deriving each record's status from them.

Call `record_decision`, `withdraw_decision` and `resolve_conflict`; never write Decision,
Resolution or RecordStage.status directly. `derive_status` is the one place the outcome
rules live (Covidence's, which teams know):

Title/abstract: all include, include with maybe, or all maybe -> on to full text; all
exclude -> excluded; any include-or-maybe against an exclude -> conflict.
Full text: all include -> included; all exclude with the same reason -> excluded; differing
decisions, or excludes with different reasons -> conflict.
"""

from django.db import transaction
from django.utils import timezone

from reviewapp.models import Review

from .models import (
    Decision,
    DecisionHistory,
    DecisionValue,
    FullText,
    RecordStage,
    Resolution,
    ScreeningConfig,
    Stage,
    Study,
    StudyReport,
)
from .models.decisions import INCLUDE_STATUSES, OPEN_STATUSES, StageStatus
from .pool import random_order_key

SETTLED_BY_DECISIONS = (StageStatus.INCLUDED, StageStatus.EXCLUDED, StageStatus.CONFLICT)


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says why, for the reviewer."""


class StaleDecision(DecisionError):
    """The decision changed since the page showed it (another tab, another device)."""


def config_for(review):
    """The review's screening settings (a Review or its id), created with the defaults.

    A Review fetched with its settings (`get_review_for(..., related=["screening"])`)
    costs no query."""
    if isinstance(review, Review) and Review.screening.is_cached(review):
        try:
            return review.screening
        except ScreeningConfig.DoesNotExist:
            pass  # not created yet
    review_id = getattr(review, "pk", review)
    config, _ = ScreeningConfig.objects.get_or_create(review_id=review_id)
    return config


def derive_status(stage, values, needed, resolution=None, not_retrieved=False):
    """The status of a record at a stage. `values` are (value, reason_id) of its decisions."""
    if resolution is not None:
        if resolution.value == DecisionValue.EXCLUDE:
            return StageStatus.RESOLVED_EXCLUDE
        return StageStatus.RESOLVED_INCLUDE
    if stage == Stage.FT and not_retrieved:
        return StageStatus.NOT_RETRIEVED
    if not values:
        return StageStatus.AWAITING
    if len(values) < needed:
        return StageStatus.AWAITING_MORE
    kinds = {value for value, _ in values}
    if kinds == {DecisionValue.EXCLUDE}:
        if stage == Stage.FT and len({reason for _, reason in values}) > 1:
            return StageStatus.CONFLICT
        return StageStatus.EXCLUDED
    if DecisionValue.EXCLUDE in kinds:
        return StageStatus.CONFLICT
    return StageStatus.INCLUDED


def _history(decision, action, at):
    DecisionHistory.objects.create(
        review_id=decision.review_id, record_id=decision.record_id, stage=decision.stage,
        reviewer_id=decision.reviewer_id, value=decision.value,
        reason_text=decision.reason.text if decision.reason_id else "", note=decision.note,
        version=decision.version, action=action, at=at,
    )  # fmt: skip


def _locked_stage(record, stage):
    row = (
        RecordStage.objects.select_for_update()
        .select_related("record")
        .defer("record__raw")
        .filter(record=record, stage=stage)
        .first()
    )
    if row is None:
        raise DecisionError("This record is not in this stage.")
    return row


def lock_stage_row(review, record_id, stage):
    """The stage row (with its record) of one of `review`'s records, locked until the end of
    the caller's transaction, or None. Hand it to `record_decision(locked_row=...)`."""
    return (
        RecordStage.objects.select_for_update()
        .select_related("record")
        .defer("record__raw")
        .filter(review=review, record_id=record_id, stage=stage)
        .first()
    )


def record_decision(
    *,
    record,
    stage,
    reviewer,
    value,
    reason=None,
    note="",
    expected_version=None,
    config=None,
    locked_row=None,
):
    """Record (or change) `reviewer`'s decision and return (decision, status).

    The record's stage row is locked first, so two reviewers deciding at the same instant
    are serialised and a conflict between them is derived exactly once. Submitting the same
    decision twice stores it once. `expected_version` is the version the reviewer's page
    showed (0 for none): if it changed meanwhile, StaleDecision is raised rather than
    silently overwriting. `config` (the review's ScreeningConfig) saves a query when the
    caller has it.

    `locked_row`: the record's stage row, locked by `lock_stage_row` in the caller's open
    transaction, which this call then joins (no savepoint): a DecisionError rolls back the
    caller's whole transaction, so let it propagate out of the `atomic` block.
    """
    value = DecisionValue(value)
    if stage == Stage.FT and value == DecisionValue.MAYBE:
        raise DecisionError("At full text the decision is include or exclude.")
    if stage == Stage.FT and value == DecisionValue.EXCLUDE and reason is None:
        raise DecisionError("Choose the exclusion reason.")
    if reason is not None and reason.review_id != record.review_id:
        raise DecisionError("That exclusion reason belongs to another review.")
    if value != DecisionValue.EXCLUDE:
        reason = None
    note = (note or "").strip()
    if locked_row is not None and not transaction.get_connection().in_atomic_block:
        raise transaction.TransactionManagementError("locked_row needs an open transaction.")
    with transaction.atomic(savepoint=locked_row is None):
        row = locked_row or _locked_stage(record, stage)
        if row.record.duplicate_of_id is not None or row.status == StageStatus.MERGED:
            raise DecisionError("This record was merged into another; screen that one.")
        if row.status in (StageStatus.RESOLVED_INCLUDE, StageStatus.RESOLVED_EXCLUDE):
            raise DecisionError(
                "This record's conflict has been resolved; it can no longer be changed."
            )
        now = timezone.now()
        # Every decision on the record at this stage, mine among them: with the stage row
        # locked nobody else can add or change one, so this list also derives the status.
        decisions = list(Decision.objects.filter(record=record, stage=stage))
        decision = next((d for d in decisions if d.reviewer_id == reviewer.pk), None)
        current = decision.version if decision else 0
        if expected_version is not None and expected_version != current:
            raise StaleDecision(
                "Your decision on this record changed since this page was opened (perhaps in "
                "another tab). Reload to see it before changing it again."
            )
        config = config or config_for(record.review_id)
        needed = config.reviewers_per_record
        if decision is None:
            if row.decision_count >= needed:
                raise DecisionError("This record already has all the decisions it needs.")
            # The stage row is locked, so nobody else can insert this reviewer's decision
            # meanwhile: the unique constraint stays as the last line of defence.
            decision = Decision.objects.create(
                review_id=record.review_id,
                record=record,
                stage=stage,
                reviewer=reviewer,
                value=value,
                reason=reason,
                note=note,
                created_at=now,
                updated_at=now,
            )
            decisions.append(decision)
            _history(decision, DecisionHistory.Action.DECIDED, now)
        elif (decision.value, decision.reason_id, decision.note) != (
            value,
            getattr(reason, "pk", None),
            note,
        ):
            decision.value, decision.reason, decision.note = value, reason, note
            decision.version += 1
            decision.updated_at = now
            decision.save(update_fields=["value", "reason", "note", "version", "updated_at"])
            _history(decision, DecisionHistory.Action.CHANGED, now)
        values = [(d.value, d.reason_id) for d in decisions]
        status = refresh_status(row, needed=needed, values=values)
        from .ranking import after_decision

        after_decision(record, stage, config)
    return decision, status


def withdraw_decision(*, record, stage, reviewer):
    """Take back a decision (undo): the record returns to the reviewer's queue."""
    with transaction.atomic():
        row = _locked_stage(record, stage)
        if row.status in (StageStatus.RESOLVED_INCLUDE, StageStatus.RESOLVED_EXCLUDE):
            raise DecisionError(
                "This record's conflict has been resolved; it can no longer be changed."
            )
        decision = Decision.objects.filter(record=record, stage=stage, reviewer=reviewer).first()
        if decision is None:
            return refresh_status(row)
        _history(decision, DecisionHistory.Action.RELEASED, timezone.now())
        decision.delete()
        return refresh_status(row)


def resolve_conflict(*, record, stage, user, value, reason=None, note=""):
    """Settle a conflict; the resolution records who and why."""
    value = DecisionValue(value)
    if value == DecisionValue.MAYBE:
        raise DecisionError("A resolution is include or exclude.")
    if stage == Stage.FT and value == DecisionValue.EXCLUDE and reason is None:
        raise DecisionError("Choose the exclusion reason.")
    if value != DecisionValue.EXCLUDE:
        reason = None
    with transaction.atomic():
        row = _locked_stage(record, stage)
        if row.status != StageStatus.CONFLICT:
            raise DecisionError("This record is not in conflict.")
        Resolution.objects.create(
            review_id=record.review_id, record=record, stage=stage, value=value, reason=reason,
            note=(note or "").strip(), decided_by=user,
        )  # fmt: skip
        status = refresh_status(row)
        from .ranking import after_decision

        after_decision(record, stage, config_for(record.review_id))
        return status


def refresh_status(row, needed=None, values=None):
    """Derive `row`'s status from its decisions and store it; move the record on (to full
    text, or into a study) or back when the outcome changes. Call inside a transaction with
    `row` locked. `needed` (reviewers per record) and `values` (the (value, reason_id) of
    every decision on the row, read after locking it) save queries when the caller has
    them."""
    if values is None:
        values = list(Decision.objects.filter(record_id=row.record_id, stage=row.stage)
                      .values_list("value", "reason_id"))  # fmt: skip
    # A resolution exists only once a conflict was resolved (resolve_conflict), which is
    # when the status says so.
    resolution = None
    if row.status in (
        StageStatus.RESOLVED_INCLUDE,
        StageStatus.RESOLVED_EXCLUDE,
        StageStatus.CONFLICT,
    ):
        resolution = Resolution.objects.filter(record_id=row.record_id, stage=row.stage).first()
    not_retrieved = (
        row.stage == Stage.FT
        and FullText.objects.filter(record_id=row.record_id, not_retrieved=True).exists()
    )
    if needed is None:
        needed = config_for(row.review_id).reviewers_per_record
    previous = row.status
    if previous in SETTLED_BY_DECISIONS and len(values) >= row.decision_count:
        # Raising "reviewers per record" mid-review does not reopen records that were
        # already settled: a changed decision is judged with the reviewers it had.
        needed = min(needed, len(values))
    if row.record.duplicate_of_id is not None:
        status = StageStatus.MERGED
    else:
        status = derive_status(row.stage, values, needed, resolution, not_retrieved)
    if (status, len(values)) != (row.status, row.decision_count):
        row.status, row.decision_count = status, len(values)
        row.updated_at = timezone.now()
        row.save(update_fields=["status", "decision_count", "updated_at"])
    # Only a change into or out of an inclusion moves the record on or back.
    if (previous in INCLUDE_STATUSES) != (status in INCLUDE_STATUSES) or status in INCLUDE_STATUSES:
        if row.stage == Stage.TA:
            _follow_ta(row)
        else:
            _follow_ft(row)
    return status


def _follow_ta(row):
    included = row.status in INCLUDE_STATUSES
    ft = RecordStage.objects.filter(record_id=row.record_id, stage=Stage.FT)
    if included:
        if not ft.exists():
            RecordStage.objects.create(
                review_id=row.review_id,
                record_id=row.record_id,
                stage=Stage.FT,
                order_key=random_order_key(row.record_id),
            )
    elif not Decision.objects.filter(record_id=row.record_id, stage=Stage.FT).exists():
        # A changed title/abstract decision takes back a full-text slot nobody has used.
        ft.filter(status=StageStatus.AWAITING).delete()


def _follow_ft(row):
    if row.status in INCLUDE_STATUSES:
        if not StudyReport.objects.filter(record_id=row.record_id).exists():
            record = row.record
            author = (record.first_author.split(",")[0] if record.authors else "") or "Anon"
            study = Study.objects.create(
                review_id=row.review_id, label=f"{author} {record.year or 'n.d.'}"
            )
            StudyReport.objects.create(study=study, record_id=row.record_id, is_primary=True)
    else:
        report = StudyReport.objects.filter(record_id=row.record_id).select_related("study")
        for item in report:
            study = item.study
            item.delete()
            remaining = study.reports.order_by("pk")
            if not remaining.exists():
                study.delete()
            elif not remaining.filter(is_primary=True).exists():
                # The study keeps a primary report: the earliest one left.
                remaining.filter(pk=remaining.first().pk).update(is_primary=True)


def release_reviewer(review, user):
    """When a reviewer leaves (or stops being a reviewer), their decisions on records that
    are still open go back to the pool, so nothing waits for someone who is gone. Settled
    records and conflicts keep their decisions: a lead can always resolve a conflict."""
    config = config_for(review)
    config.adjudicators.remove(user)
    open_decisions = Decision.objects.filter(
        review=review, reviewer=user,
        record__stages__status__in=OPEN_STATUSES,
    ).select_related("record", "reason").distinct()  # fmt: skip
    released = 0
    for decision in open_decisions:
        with transaction.atomic():
            row = _locked_stage(decision.record, decision.stage)
            if row.status not in OPEN_STATUSES:
                continue
            _history(decision, DecisionHistory.Action.RELEASED, timezone.now())
            decision.delete()
            refresh_status(row)
            released += 1
    return released
