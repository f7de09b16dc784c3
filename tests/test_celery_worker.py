"""A real Celery worker process, a real Redis broker: a task enqueued here runs there."""

import os
import subprocess
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from reviewapp.celery import app as celery_app
from reviewapp.models import Invitation, Role
from reviewapp.tasks import send_invitation_email

from .factories import ReviewFactory

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def media():
    """Keeps the test settings' MEDIA_ROOT (not a folder per test): the worker process, which
    writes and reads the files too, knows only that one."""


def database_url():
    db = connection.settings_dict
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip(
            "a worker process cannot reach the in-memory SQLite test database; "
            "this test runs on PostgreSQL (DATABASE_URL), as in CI"
        )
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def worker_queue():
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set: no broker to send tasks through (CI sets it)")
    url = database_url()
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "reviewapp.settings.test",
        "DATABASE_URL": url,
        "REDIS_URL": settings.REDIS_URL,
    }
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "reviewapp",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=info",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        yield queue, worker
    finally:
        celery_app.conf.task_always_eager = eager
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


def test_task_runs_in_a_real_worker_through_redis(worker_queue):
    queue, worker = worker_queue
    invitation = Invitation.objects.create(
        review=ReviewFactory(),
        email="far@example.org",
        role=Role.REVIEWER,
        expires_at=timezone.now() + timedelta(days=3),
    )
    result = send_invitation_email.apply_async(kwargs={"invitation_id": invitation.pk}, queue=queue)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        invitation.refresh_from_db()
        if invitation.sent_at is not None:
            break
        assert worker.poll() is None, f"worker died: {worker.stdout.read()}"
        time.sleep(0.2)
    assert invitation.sent_at is not None, "the worker did not run the task within 60 s"
    worker.terminate()
    log = worker.communicate(timeout=20)[0]
    assert result.id in log and "succeeded" in log
