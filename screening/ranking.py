"""AI prioritisation in the review: ranking the title/abstract queue, and the evidence for
stopping early.

The lead chooses the queue's order (ScreeningConfig.order). In priority order, each new
decision asks for a ranking (`request_ranking`); the ranking runs on a Celery worker a few
seconds later (debounced: one waiting ranking collects every decision made meanwhile) and
never twice at once for a review. It rewrites the open records' queue positions and scores;
who must screen what is untouched (the queue still serves each record to the reviewers it
needs), and until the decisions include at least one include and one exclude the order
stays random.
"""

import logging
import threading
import time
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import stopping
from .models import Decision, Ranking, Record, RecordStage, ScreeningConfig, Stage, StopDecision
from .models.decisions import OPEN_STATUSES, StageStatus
from .pool import ORDER_MODULUS, ORDER_MULTIPLIER
from .queue import reset_cursors

logger = logging.getLogger(__name__)

INCLUDED = (StageStatus.INCLUDED, StageStatus.RESOLVED_INCLUDE)
EXCLUDED = (StageStatus.EXCLUDED, StageStatus.RESOLVED_EXCLUDE)
# A running ranking older than this lost its worker; another may start.
RUNNING_STALE = timedelta(minutes=10)


def debounce_seconds():
    return getattr(settings, "RANKING_DEBOUNCE_SECONDS", 5)


# --- the lead's choice of order ------------------------------------------------------------


def set_order(review, order):
    """Switch the title/abstract queue between random and priority order."""
    config = ScreeningConfig.objects.get_or_create(review=review)[0]
    order = ScreeningConfig.Order(order)
    if config.order == order:
        return config
    config.order = order
    config.save(update_fields=["order"])
    if order == ScreeningConfig.Order.RANDOM:
        restore_random_order(review)
    else:
        request_ranking(review.pk, Stage.TA)
    return config


def restore_random_order(review, stage=Stage.TA):
    table = RecordStage._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET order_key = (record_id * {ORDER_MULTIPLIER}) %% {ORDER_MODULUS}"  # noqa: S608
            " WHERE review_id = %s AND stage = %s",
            [review.pk, stage],
        )
        reset_cursors(review, stage)


# --- requesting and running rankings -------------------------------------------------------


def request_ranking(review_id, stage=Stage.TA):
    """Ask for a ranking soon. Cheap: one query when a ranking is already waiting (it will
    see this decision too)."""
    if Ranking.objects.filter(review_id=review_id, stage=stage,
                              status=Ranking.Status.QUEUED).exists():  # fmt: skip
        return None
    ranking = Ranking.objects.create(review_id=review_id, stage=stage)
    from .tasks import rank_review

    if getattr(settings, "RANKING_INLINE", False):  # tests: at once, in the caller
        rank_review.apply(kwargs={"ranking_id": ranking.pk})
    elif settings.CELERY_TASK_ALWAYS_EAGER:
        # The embedded default has no worker: an eager task would run inside the reviewer's
        # request. A thread keeps the ranking off their request, as a worker would.
        transaction.on_commit(lambda: _run_in_thread(ranking.pk))
    else:
        transaction.on_commit(
            lambda: rank_review.apply_async(
                kwargs={"ranking_id": ranking.pk}, countdown=debounce_seconds()
            )
        )
    return ranking


def _run_in_thread(ranking_id):
    def work():
        time.sleep(debounce_seconds())
        try:
            run(ranking_id)
        finally:
            connection.close()

    threading.Thread(target=work, name=f"ranking-{ranking_id}", daemon=True).start()


def after_decision(record, stage, config):
    """Called by record_decision: in priority order, a new title/abstract decision asks for
    a ranking once the decision is committed."""
    if stage == Stage.TA and config.order == ScreeningConfig.Order.PRIORITY:
        review_id = record.review_id
        transaction.on_commit(lambda: request_ranking(review_id, stage))


def claim(ranking_id):
    """Mark the ranking running; None if it is not ours to run now. A ranking already
    running for the review (and alive) makes this one wait: it is scheduled again."""
    with transaction.atomic():
        ranking = (
            Ranking.objects.select_for_update().filter(pk=ranking_id,
                                                       status=Ranking.Status.QUEUED).first()
        )  # fmt: skip
        if ranking is None:
            return None, False
        # Serialise claims for one review: lock its config row.
        list(ScreeningConfig.objects.select_for_update().filter(review_id=ranking.review_id))
        busy = Ranking.objects.filter(
            review_id=ranking.review_id, stage=ranking.stage, status=Ranking.Status.RUNNING,
            started_at__gt=timezone.now() - RUNNING_STALE,
        ).exists()  # fmt: skip
        if busy:
            return ranking, True
        ranking.status, ranking.started_at = Ranking.Status.RUNNING, timezone.now()
        ranking.save(update_fields=["status", "started_at"])
        return ranking, False


def training_data(review, stage=Stage.TA):
    """(record ids in the pool, {record id: outcome}, {record id: [votes]}) for training:
    settled outcomes ("include"/"exclude") and each reviewer's individual vote."""
    rows = list(
        RecordStage.objects.filter(review=review, stage=stage)
        .exclude(status=StageStatus.MERGED)
        .values_list("record_id", "status")
    )
    outcomes = {}
    for record_id, status in rows:
        if status in INCLUDED:
            outcomes[record_id] = "include"
        elif status in EXCLUDED:
            outcomes[record_id] = "exclude"
    votes = {}
    for record_id, value in Decision.objects.filter(review=review, stage=stage).values_list(
        "record_id", "value"
    ):
        votes.setdefault(record_id, []).append(value)
    return [record_id for record_id, _ in rows], outcomes, votes


def _texts(review, record_ids):
    wanted = set(record_ids)
    texts = {}
    records = Record.objects.filter(review=review).values_list("id", "title", "abstract",
                                                               "keywords")  # fmt: skip
    for pk, title, abstract, keywords in records.iterator(chunk_size=5000):
        if pk in wanted:
            texts[pk] = (title or "", abstract or "", keywords or [])
    return [texts[pk] for pk in record_ids]


def run(ranking_id):
    """Run a queued ranking (the Celery task's body). Returns the Ranking or None."""
    ranking, wait = claim(ranking_id)
    if ranking is None:
        return None
    if wait:
        from .tasks import rank_review

        rank_review.apply_async(kwargs={"ranking_id": ranking.pk}, countdown=debounce_seconds())
        return ranking
    review = ranking.review
    started = time.perf_counter()
    try:
        from .prioritisation import model, training

        record_ids, outcomes, votes = training_data(review, ranking.stage)
        labels = training.labels_from(outcomes, votes)
        includes = sum(1 for label, _ in labels.values() if label == 1)
        excludes = sum(1 for label, _ in labels.values() if label == 0)
        ranking.training_includes, ranking.training_excludes = includes, excludes
        ranking.model_name, ranking.settings = model.MODEL_NAME, dict(model.DEFAULT_SETTINGS)
        ranking.code_version = model.code_version()
        if not includes or not excludes:
            ranking.status = Ranking.Status.SKIPPED
            ranking.error = "Random order until there is at least one include and one exclude."
            return _finish(ranking, started)
        scores = model.score_records(_texts(review, record_ids), record_ids, labels)
        _apply(review, ranking.stage, scores)
        ranking.records_ranked = len(scores)
        ranking.status = Ranking.Status.DONE
    except Exception as exc:
        logger.exception("Ranking %s failed", ranking.pk)
        ranking.status = Ranking.Status.FAILED
        ranking.error = f"{type(exc).__name__}: {exc}"[:2000]
    return _finish(ranking, started)


def _finish(ranking, started):
    ranking.seconds = round(time.perf_counter() - started, 3)
    ranking.finished_at = timezone.now()
    ranking.save()
    return ranking


def _apply(review, stage, scores):
    """Write scores for every row, and queue positions (best first) for the open ones."""
    config = ScreeningConfig.objects.filter(review=review).first()
    if config is None or config.order != ScreeningConfig.Order.PRIORITY:
        positions = {}
    else:
        open_ids = set(
            RecordStage.objects.filter(
                review=review, stage=stage, status__in=OPEN_STATUSES
            ).values_list("record_id", flat=True)
        )
        ranked = sorted((pk for pk in scores if pk in open_ids), key=lambda pk: (-scores[pk], pk))
        positions = {pk: n for n, pk in enumerate(ranked)}
    table = RecordStage._meta.db_table
    rows = [(float(scores[pk]), positions.get(pk), review.pk, stage, pk) for pk in scores]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET score = %s, order_key = COALESCE(%s, order_key)"  # noqa: S608
            " WHERE review_id = %s AND stage = %s AND record_id = %s",
            rows,
        )
        if positions:
            reset_cursors(review, stage)


def latest_ranking(review, stage=Stage.TA):
    return (
        Ranking.objects.filter(review=review, stage=stage)
        .exclude(status__in=[Ranking.Status.QUEUED, Ranking.Status.RUNNING])
        .first()
    )


# --- stopping evidence -----------------------------------------------------------------------


def screened_sequence(review, stage=Stage.TA):
    """Settled outcomes in the order they were settled (True: include)."""
    rows = (
        RecordStage.objects.filter(review=review, stage=stage)
        .filter(Q(status__in=INCLUDED) | Q(status__in=EXCLUDED))
        .order_by("updated_at", "id")
        .values_list("status", flat=True)
    )
    return [status in INCLUDED for status in rows.iterator(chunk_size=5000)]


def stopping_evidence(review, stage=Stage.TA, *, target_recall=0.95, confidence=0.95):
    """Everything the stopping panel shows, as plain data (also what a StopDecision logs)."""
    sequence = screened_sequence(review, stage)
    total = (
        RecordStage.objects.filter(review=review, stage=stage)
        .exclude(status=StageStatus.MERGED)
        .count()
    )
    estimate = stopping.stopping_estimate(sequence, total, target_recall=target_recall,
                                          confidence=confidence)  # fmt: skip
    return {
        "total": total,
        "screened": len(sequence),
        "includes_found": sum(sequence),
        "consecutive_excludes": stopping.consecutive_excludes(sequence),
        "since_last_include": stopping.since_last_include(sequence),
        "curve": stopping.screening_curve(sequence),
        "estimate": estimate,
    }


def record_stop(review, user, note, evidence, stage=Stage.TA):
    """Log the lead's decision to stop, with the evidence they saw (without the curve)."""
    estimate = evidence["estimate"]
    snapshot = {key: value for key, value in evidence.items() if key not in ("curve", "estimate")}
    snapshot["estimate"] = {
        key: getattr(estimate, key)
        for key in (
            "p_value",
            "can_stop",
            "target_recall",
            "confidence",
            "estimated_recall",
            "recall_low",
            "recall_high",
            "method_note",
        )  # fmt: skip
        if hasattr(estimate, key)
    }
    ranking = latest_ranking(review, stage)
    if ranking is not None:
        snapshot["ranking"] = {"id": ranking.pk, "model": ranking.model_name,
                               "finished_at": ranking.finished_at.isoformat()
                               if ranking.finished_at else None}  # fmt: skip
    return StopDecision.objects.create(review=review, stage=stage, decided_by=user,
                                       note=note.strip(), evidence=snapshot)  # fmt: skip
