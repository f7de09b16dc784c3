import logging
from datetime import timedelta

from celery import shared_task
from django.db.models import Q
from django.utils import timezone

from .importing import run_import
from .models import ImportBatch

logger = logging.getLogger(__name__)


@shared_task(soft_time_limit=50 * 60, time_limit=55 * 60)
def import_batch(*, batch_id):
    """Run an upload's import. Idempotent: a redelivered task finds the batch finished (or
    running elsewhere) and does nothing; a crashed run left nothing behind (one transaction)."""
    # A run whose worker died mid-import rolled back; after the time limit it may run again.
    stale = timezone.now() - timedelta(hours=1)
    claimed = (
        ImportBatch.objects.filter(pk=batch_id)
        .filter(
            Q(status=ImportBatch.Status.QUEUED)
            | Q(status=ImportBatch.Status.RUNNING, started_at__lt=stale)
        )
        .update(status=ImportBatch.Status.RUNNING, started_at=timezone.now())
    )
    if not claimed:
        logger.info("Import batch %s is not queued; nothing to do.", batch_id)
        return
    batch = ImportBatch.objects.select_related("review").get(pk=batch_id)
    run_import(batch)


@shared_task(acks_late=True, soft_time_limit=10 * 60, time_limit=11 * 60)
def rank_review(*, ranking_id):
    """Run a queued ranking (screening.ranking): re-ranks the review's title/abstract queue.
    Harmless when redelivered: a ranking runs only from "queued"."""
    from .ranking import run

    ranking = run(ranking_id)
    return None if ranking is None else ranking.status
