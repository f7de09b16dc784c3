"""Celery tasks for exports. Exports never run in a web request.

`run_export` is acks_late (a worker that dies mid-export leaves the message to be delivered
again) and time-limited; exports.jobs.claim makes a redelivered or duplicate message harmless
and counts attempts. Redis redelivers only after its visibility timeout (an hour by
default), so `requeue_stale_exports`, run by beat every minute, queues again the jobs whose
heartbeat stopped.
"""

import logging

from celery import shared_task
from django.conf import settings

from . import jobs
from .models import ExportJob

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True, soft_time_limit=55 * 60,
             time_limit=60 * 60)  # fmt: skip
def run_export(*, job_id):
    job = jobs.run(job_id)
    if job is None:
        logger.info("Export job %s is not ours to run; nothing to do.", job_id)
        return None
    return job.status


@shared_task
def requeue_stale_exports():
    """Queue again each running job whose worker was lost (its heartbeat stopped)."""
    queued = 0
    for job in jobs.stale_jobs():
        if job.attempts >= jobs.MAX_ATTEMPTS:
            jobs.give_up_if_exhausted(job.pk)
            continue
        updated = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING,
                                           heartbeat_at=job.heartbeat_at).update(
            status=ExportJob.Status.QUEUED, message="Restarting after its worker was lost"
        )  # fmt: skip
        if updated:
            run_export.delay(job_id=job.pk)
            queued += 1
    return queued


@shared_task
def expire_exports():
    return jobs.expire_old_files(settings.EXPORTS_MAX_AGE_DAYS)
