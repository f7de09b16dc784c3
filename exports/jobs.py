"""Running an export: from a queued ExportJob to a file in export storage.

Idempotent: each run writes to a fresh temporary file and, only when the writer finished,
moves it to the job's deterministic name (replacing what an earlier run left), so a job run
twice (a redelivered task, a retry) ends with one whole file and nothing half-written is
ever offered. A run claims the job by bumping `attempts`; a job whose worker died (no
heartbeat for EXPORTS_STALE_AFTER_SECONDS) is claimed again, up to MAX_ATTEMPTS, so an
export that kills its worker every time cannot loop forever.
"""

import logging
import os
import tempfile
import time
from datetime import timedelta

from django.conf import settings
from django.core.files import File
from django.db.models import F, Q
from django.utils import timezone

from .models import ExportJob
from .registry import ExportError, get_format
from .storage import export_storage

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# A running job's heartbeat is written at least this often (seconds) while its writer
# reports progress...
HEARTBEAT_EVERY = 5


def stale_after():
    """...so one silent for this long lost its worker."""
    return timedelta(seconds=settings.EXPORTS_STALE_AFTER_SECONDS)


def file_name_for(job):
    fmt = get_format(job.format)
    stamp = job.created_at.strftime("%Y%m%d-%H%M")
    return f"{job.review.slug}-{fmt.name}-{stamp}.{fmt.extension}"


def storage_name_for(job):
    """Where the finished file goes: the same name on every run of the job."""
    return f"{job.review_id}/{job.pk}/{file_name_for(job)}"


def create_job(*, review, user, format_name, options=None):
    get_format(format_name)  # an unknown format is refused before anything is queued
    return ExportJob.objects.create(
        review=review, format=format_name, options=options or {}, requested_by=user
    )


def claim(job_id):
    """Mark the job running for this run; None when it is not ours to run (finished, or
    running with a live heartbeat elsewhere, or out of attempts)."""
    now = timezone.now()
    stale = now - stale_after()
    claimable = Q(status=ExportJob.Status.QUEUED) | Q(
        status=ExportJob.Status.RUNNING, heartbeat_at__lt=stale
    )
    claimed = (
        ExportJob.objects.filter(claimable, pk=job_id, attempts__lt=MAX_ATTEMPTS).update(
            status=ExportJob.Status.RUNNING,
            started_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
            progress=0,
            message="Starting",
            error="",
        )  # fmt: skip
    )
    if not claimed:
        give_up_if_exhausted(job_id)
        return None
    return ExportJob.objects.select_related("review").get(pk=job_id)


def give_up_if_exhausted(job_id):
    ExportJob.objects.filter(
        pk=job_id, attempts__gte=MAX_ATTEMPTS, status__in=[ExportJob.Status.QUEUED,
                                                            ExportJob.Status.RUNNING],
    ).update(
        status=ExportJob.Status.FAILED,
        finished_at=timezone.now(),
        error=f"The export stopped {MAX_ATTEMPTS} times without finishing (its worker "
        "was lost each time), so it was not tried again. Try a smaller export, or tell "
        "whoever runs the server.",
    )  # fmt: skip


class _Progress:
    """The writer's progress callback: saves progress and the heartbeat, at most every
    HEARTBEAT_EVERY seconds (a write per record would cost more than the export)."""

    def __init__(self, job):
        self.job = job
        self.last = 0.0

    def __call__(self, fraction, message=""):
        now = time.monotonic()
        if now - self.last < HEARTBEAT_EVERY and fraction < 1:
            return
        self.last = now
        ExportJob.objects.filter(pk=self.job.pk, status=ExportJob.Status.RUNNING).update(
            progress=max(0.0, min(float(fraction), 0.99)),
            message=message[:300],
            heartbeat_at=timezone.now(),
        )


def write_export(review, format_name, out, *, options=None, progress=None):
    """Write one export to the binary file `out`: the code both the task and the
    export_review command run."""
    fmt = get_format(format_name)
    fmt.write(review, out, progress=progress or (lambda fraction, message="": None),
              options=options or {})  # fmt: skip


def run(job_id):
    """Run the job if it is ours to run. Returns the job (or None)."""
    job = claim(job_id)
    if job is None:
        return None
    storage = export_storage()
    handle, temp_path = tempfile.mkstemp(prefix=f"export-{job.pk}-", suffix=".part")
    try:
        with os.fdopen(handle, "w+b") as out:
            write_export(job.review, job.format, out, options=job.options,
                         progress=_Progress(job))  # fmt: skip
            out.flush()
            size = out.tell()
            out.seek(0)
            name = storage_name_for(job)
            # Replace what an earlier run of this job left (the name is deterministic).
            if storage.exists(name):
                storage.delete(name)
            saved = storage.save(name, File(out, name=os.path.basename(name)))
    except ExportError as exc:
        return _fail(job, str(exc))
    except Exception as exc:
        logger.exception("Export job %s failed", job.pk)
        _fail(job, f"The export failed unexpectedly ({type(exc).__name__}); the error has "
              "been logged. You can try again.")  # fmt: skip
        raise
    finally:
        if os.path.exists(temp_path):
            os.unlink(temp_path)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.SUCCEEDED, progress=1.0, message="Ready", file=saved,
        file_name=file_name_for(job), size=size, finished_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )  # fmt: skip
    job.refresh_from_db()
    return job


def _fail(job, message):
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.FAILED, error=message, finished_at=timezone.now(),
        message="Failed",
    )  # fmt: skip
    job.refresh_from_db()
    return job


def retry(job):
    """Queue a failed job again (a fresh set of attempts)."""
    if job.status != ExportJob.Status.FAILED:
        raise ExportError("Only a failed export can be tried again.")
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.QUEUED, attempts=0, progress=0, error="", message="",
        started_at=None, finished_at=None, heartbeat_at=None,
    )  # fmt: skip
    job.refresh_from_db()
    return job


def stale_jobs():
    """Running jobs whose worker stopped sending a heartbeat."""
    return ExportJob.objects.filter(
        status=ExportJob.Status.RUNNING, heartbeat_at__lt=timezone.now() - stale_after()
    )


def expire_old_files(max_age_days):
    """Delete export files older than `max_age_days`; their jobs say so. Returns how many."""
    cutoff = timezone.now() - timedelta(days=max_age_days)
    storage = export_storage()
    expired = 0
    for job in ExportJob.objects.filter(status=ExportJob.Status.SUCCEEDED,
                                        finished_at__lt=cutoff):  # fmt: skip
        if job.file and storage.exists(job.file.name):
            storage.delete(job.file.name)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.EXPIRED, file="",
                                                   message="Expired")  # fmt: skip
        expired += 1
    return expired
