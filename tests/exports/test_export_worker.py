"""A real worker dies mid-export (SIGKILL), a new worker starts, and the job still finishes
with a whole, correct file within a minute: the heartbeat shows the job was lost, the
requeue task (beat runs it every minute) queues it again, and the new worker runs it."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings

from exports import jobs
from exports.models import ExportJob
from exports.storage import export_storage
from exports.tasks import requeue_stale_exports, run_export
from reviewapp.celery import app as celery_app
from tests.factories import MembershipFactory

from . import test_formats  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]
CHUNKS = 40


@pytest.fixture(autouse=True)
def media():
    """Keeps the test settings' MEDIA_ROOT (not a folder per test): the worker process, which
    writes and reads the files too, knows only that one."""


def database_url():
    from django.db import connection

    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("a worker process cannot reach the in-memory SQLite test database; "
                    "this test runs on PostgreSQL (DATABASE_URL), as in CI")  # fmt: skip
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_worker(queue, url):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviewapp.settings.test",
           "DATABASE_URL": url, "REDIS_URL": settings.REDIS_URL}  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "reviewapp", "worker", "--pool=solo", "-Q",
         queue, "-I", "tests.exports.test_formats", "--without-gossip", "--without-mingle",
         "--loglevel=info"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip


def wait_for(condition, seconds, worker=None, what=""):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker died: {worker.stdout.read()}")
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


def test_export_survives_its_worker_being_killed(settings):
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: no broker to send tasks through (CI sets it)")
    url = database_url()
    settings.EXPORTS_STALE_AFTER_SECONDS = 4
    queue = f"test-export-{uuid.uuid4().hex[:8]}"
    lead = MembershipFactory(role="lead", review__slug="big").user
    review = lead.memberships.get().review
    job = jobs.create_job(review=review, user=lead, format_name="test-slow",
                          options={"chunks": CHUNKS, "sleep": 0.25})  # fmt: skip
    eager, default_queue = celery_app.conf.task_always_eager, celery_app.conf.task_default_queue
    celery_app.conf.task_always_eager = False
    celery_app.conf.task_default_queue = queue
    first = start_worker(queue, url)
    second = None
    try:
        run_export.apply_async(kwargs={"job_id": job.pk}, queue=queue)
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).status == "running", 30, first,
                 "the first worker to start the export")  # fmt: skip
        time.sleep(1.5)  # well into the export
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
        killed_at = time.monotonic()
        job.refresh_from_db()
        assert job.status == "running" and job.attempts == 1
        second = start_worker(queue, url)
        # Beat would run this every minute; here it runs as soon as the heartbeat is stale.
        wait_for(lambda: requeue_stale_exports() == 1, 30, second, "the job to look lost")
        wait_for(lambda: ExportJob.objects.get(pk=job.pk).status == "succeeded", 45, second,
                 "the second worker to finish the export")  # fmt: skip
        recovered_in = time.monotonic() - killed_at
    finally:
        celery_app.conf.task_always_eager = eager
        celery_app.conf.task_default_queue = default_queue
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                try:
                    worker.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    worker.kill()
    assert recovered_in < 60, f"took {recovered_in:.0f} s after the kill"
    job.refresh_from_db()
    assert job.attempts == 2
    content = export_storage().open(job.file.name).read().decode()
    assert content.splitlines() == [f"chunk {n} of review big" for n in range(CHUNKS)]
    export_storage().delete(job.file.name)
