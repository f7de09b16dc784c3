"""PRISMA 2020 counts, derived live from the review's data.

Every identified entry sits in exactly one path: removed as a duplicate, or kept and then
(databases) screened -> excluded / sought -> not retrieved / assessed -> excluded / included,
or (other methods) sought -> not retrieved / assessed -> excluded / included. Records still
waiting for decisions are counted in the notes, so the numbers reconcile at any moment. The
lead's decision to stop title/abstract screening early (not withdrawn) is a note too, with
the figures it was taken on.
"""

from collections import Counter

from django.db.models import Count
from django.utils import dateformat, timezone

from .models import (
    Decision,
    ExclusionReason,
    ImportBatch,
    Record,
    RecordStage,
    Resolution,
    Stage,
    StopDecision,
    Study,
    StudyReport,
)
from .models.decisions import EXCLUDE_STATUSES, OPEN_STATUSES, StageStatus
from .prisma_diagram import PrismaCounts

DATABASE = ImportBatch.Kind.DATABASE


def _sources(review):
    by_source = (
        Record.objects.filter(review=review)
        .values_list("batch__kind", "batch__source")
        .annotate(n=Count("id"))
        .order_by("batch__source")
    )
    databases, other = {}, {}
    for kind, source, n in by_source:
        target = databases if kind == DATABASE else other
        target[source] = target.get(source, 0) + n
    return databases, other


def _stage_counts(review):
    """{(stage, path, status): n} over kept records; path is the kind of the kept entry's
    import batch (database, or other methods)."""
    rows = (
        RecordStage.objects.filter(review=review, record__duplicate_of=None)
        .values_list("stage", "record__batch__kind", "status")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {(stage, kind, status): n for stage, kind, status, n in rows}


def _excluded_reasons(review):
    """Full-text exclusions per (path, reason id): an agreed exclusion counts under its
    (shared) reason, a resolved one under the resolution's reason."""
    counts = Counter()
    agreed = (
        Decision.objects.filter(
            review=review, stage=Stage.FT, record__duplicate_of=None,
            record__stages__stage=Stage.FT, record__stages__status=StageStatus.EXCLUDED,
        )
        .values_list("record_id", "record__batch__kind", "reason_id")
        .distinct()
    )  # fmt: skip
    for _record, kind, reason in agreed:
        counts[(kind, reason)] += 1
    resolved = Resolution.objects.filter(
        review=review, stage=Stage.FT, value="exclude", record__duplicate_of=None
    ).values_list("record__batch__kind", "reason_id")
    for kind, reason in resolved:
        counts[(kind, reason)] += 1
    return counts


def prisma_counts(review):
    databases, other_sources = _sources(review)
    identified = sum(databases.values()) + sum(other_sources.values())
    kept = Record.objects.filter(review=review, duplicate_of=None).count()
    stages = _stage_counts(review)

    def n(stage, kind, statuses):
        return sum(stages.get((stage, kind, s), 0) for s in statuses)

    every = list(StageStatus)
    reasons = list(ExclusionReason.objects.filter(review=review).values_list("pk", "text"))
    excluded = _excluded_reasons(review)

    def reasons_for(kind):
        return {text: excluded.get((kind, pk), 0) for pk, text in reasons}

    other = ImportBatch.Kind.OTHER
    ft_retrieved = [s for s in every if s not in (StageStatus.NOT_RETRIEVED, StageStatus.MERGED)]
    counts = PrismaCounts(
        databases=databases,
        other_sources=other_sources,
        duplicates_removed=identified - kept,
        screened=n(Stage.TA, DATABASE, [s for s in every if s != StageStatus.MERGED]),
        screening_excluded=n(Stage.TA, DATABASE, EXCLUDE_STATUSES),
        sought=n(Stage.FT, DATABASE, [s for s in every if s != StageStatus.MERGED]),
        not_retrieved=n(Stage.FT, DATABASE, [StageStatus.NOT_RETRIEVED]),
        assessed=n(Stage.FT, DATABASE, ft_retrieved),
        excluded_reasons=reasons_for(DATABASE),
        other_sought=n(Stage.FT, other, [s for s in every if s != StageStatus.MERGED]),
        other_not_retrieved=n(Stage.FT, other, [StageStatus.NOT_RETRIEVED]),
        other_assessed=n(Stage.FT, other, ft_retrieved),
        other_excluded_reasons=reasons_for(other),
        studies_included=Study.objects.filter(review=review).count(),
        reports_included=StudyReport.objects.filter(study__review=review).count(),
    )
    stopped = StopDecision.objects.filter(review=review, stage=Stage.TA, withdrawn_at=None).first()
    if stopped is not None:
        counts.notes.append(stop_note(stopped))
    waiting_ta = n(Stage.TA, DATABASE, [*OPEN_STATUSES, StageStatus.CONFLICT])
    waiting_ft = sum(n(Stage.FT, kind, [*OPEN_STATUSES, StageStatus.CONFLICT])
                     for kind in (DATABASE, other))  # fmt: skip
    if waiting_ta:
        counts.notes.append(
            f"{waiting_ta:,} record(s) still await title/abstract decisions "
            "(counted as screened, not yet excluded or sought)."
        )
    if waiting_ft:
        counts.notes.append(
            f"{waiting_ft:,} report(s) still await full-text decisions "
            "(counted as assessed, not yet excluded or included)."
        )
    return counts


def _percent(value):
    return f"{100 * value:.1f}%"


def stop_note(decision):
    """The PRISMA note for the lead's decision to stop title/abstract screening early, from
    the figures logged with it (what the lead saw when deciding)."""
    evidence = decision.evidence or {}
    estimate = evidence.get("estimate") or {}
    day = dateformat.format(timezone.localtime(decision.decided_at), "j F Y")
    unscreened = evidence.get("total", 0) - evidence.get("screened", 0)
    records = "record was" if unscreened == 1 else "records were"
    if estimate.get("recall_low") is None or estimate.get("estimated_recall") is None:
        recall = "recall could not be estimated: nothing had been included"
    else:
        confidence = f"{100 * estimate.get('confidence', 0.95):g}%"
        recall = (
            f"estimated recall {_percent(estimate['estimated_recall'])}, lower bound "
            f"{_percent(estimate['recall_low'])} at {confidence} confidence"
        )
    return (
        f"Screening stopped early on {day} on the lead's decision: {unscreened:,} {records} "
        f"not screened ({recall})."
    )
