"""Export jobs: who may start and download them, the run from queued to a file, failures
and retries, idempotent re-runs, lost workers, expiry, and the export_review command."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from exports import jobs
from exports.models import ExportJob
from exports.storage import export_storage
from exports.tasks import expire_exports, requeue_stale_exports

from . import test_formats  # noqa: F401  (registers the test formats)

pytestmark = pytest.mark.django_db


def start(client, review, fmt="test-slow", **data):
    with_commit = {"format": fmt, **data}
    return client.post(reverse("exports", args=[review.slug]), with_commit)


def test_lead_starts_an_export_and_downloads_it(client_for, review, lead,
                                                django_capture_on_commit_callbacks):  # fmt: skip
    client = client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = start(client, review)
    assert response.status_code == 302
    job = ExportJob.objects.get()
    assert (job.status, job.progress, job.requested_by) == ("succeeded", 1.0, lead)
    assert job.file_name.startswith("harm-test-slow-") and job.file_name.endswith(".txt")
    page = client.get(reverse("exports", args=[review.slug])).content.decode()
    assert f"Download {job.file_name}" in page
    download = client.get(reverse("export_download", args=[review.slug, job.pk]))
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content).startswith(b"chunk 0 of review harm")


def test_only_leads_see_start_or_download_exports(client_for, review, lead, reviewer, advisory,
                                                  outsider):  # fmt: skip
    job = jobs.create_job(review=review, user=lead, format_name="test-slow")
    jobs.run(job.pk)
    urls = [
        reverse("exports", args=[review.slug]),
        reverse("export_jobs", args=[review.slug]),
        reverse("export_download", args=[review.slug, job.pk]),
    ]
    for user, status in [(reviewer, 403), (advisory, 403), (outsider, 404)]:
        client = client_for(user)
        for url in urls:
            assert client.get(url).status_code == status, (user, url)
        assert start(client, review).status_code == status
        assert (
            client.post(reverse("export_delete", args=[review.slug, job.pk])).status_code == status
        )
    assert ExportJob.objects.count() == 1


def test_a_refused_export_shows_why_offers_no_file_and_can_be_retried(client_for, review, lead):
    job = jobs.create_job(review=review, user=lead, format_name="test-refused")
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "the test says no" in job.error
    assert not job.file
    assert not export_storage().exists(f"{review.pk}/{job.pk}")
    client = client_for(lead)
    page = client.get(reverse("exports", args=[review.slug])).content.decode()
    assert "the test says no" in page and "Try again" in page
    assert client.get(reverse("export_download", args=[review.slug, job.pk])).status_code == 404
    ExportJob.objects.filter(pk=job.pk).update(format="test-slow")  # the cause was fixed
    client.post(reverse("export_retry", args=[review.slug, job.pk]))
    job.refresh_from_db()
    assert job.status == "queued" and job.attempts == 0
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "succeeded"


def test_a_crash_is_logged_and_leaves_no_file(review, lead):
    job = jobs.create_job(review=review, user=lead, format_name="test-crash")
    with pytest.raises(RuntimeError):
        jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "RuntimeError" in job.error
    assert not job.file


def test_running_a_job_again_replaces_its_file(review, lead):
    job = jobs.create_job(review=review, user=lead, format_name="test-slow",
                          options={"chunks": 3})  # fmt: skip
    jobs.run(job.pk)
    job.refresh_from_db()
    first = job.file.name
    ExportJob.objects.filter(pk=job.pk).update(status="queued")
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.file.name == first
    assert export_storage().open(first).read().count(b"chunk") == 3
    assert len(export_storage().listdir(f"{review.pk}/{job.pk}")[1]) == 1


def test_a_live_running_job_is_not_run_twice(review, lead):
    job = jobs.create_job(review=review, user=lead, format_name="test-slow")
    ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=timezone.now(),
                                               attempts=1)  # fmt: skip
    assert jobs.run(job.pk) is None
    assert ExportJob.objects.get().attempts == 1


def test_a_lost_worker_s_job_is_queued_again_and_finishes(review, lead, settings):
    job = jobs.create_job(review=review, user=lead, format_name="test-slow")
    long_ago = timezone.now() - timedelta(seconds=settings.EXPORTS_STALE_AFTER_SECONDS + 5)
    ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=long_ago,
                                               attempts=1)  # fmt: skip
    assert requeue_stale_exports() == 1  # eager: runs at once
    job.refresh_from_db()
    assert (job.status, job.attempts) == ("succeeded", 2)


def test_a_job_that_keeps_killing_its_worker_stops(review, lead, settings):
    job = jobs.create_job(review=review, user=lead, format_name="test-slow")
    long_ago = timezone.now() - timedelta(seconds=settings.EXPORTS_STALE_AFTER_SECONDS + 5)
    ExportJob.objects.filter(pk=job.pk).update(status="running", heartbeat_at=long_ago,
                                               attempts=jobs.MAX_ATTEMPTS)  # fmt: skip
    assert requeue_stale_exports() == 0
    job.refresh_from_db()
    assert job.status == "failed" and "without finishing" in job.error


def test_old_files_expire(review, lead, settings):
    job = jobs.create_job(review=review, user=lead, format_name="test-slow")
    jobs.run(job.pk)
    name = ExportJob.objects.get().file.name
    ExportJob.objects.update(finished_at=timezone.now() - timedelta(days=31))
    settings.EXPORTS_MAX_AGE_DAYS = 30
    assert expire_exports() == 1
    job.refresh_from_db()
    assert job.status == "expired" and not job.file
    assert not export_storage().exists(name)


def test_jobs_fragment_shows_progress(client_for, review, lead):
    job = jobs.create_job(review=review, user=lead, format_name="test-slow")
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress=0.42)
    body = client_for(lead).get(reverse("export_jobs", args=[review.slug])).content.decode()
    assert '<progress max="100" value="42"' in body
    assert "<html" not in body


def test_unknown_format_is_refused(client_for, review, lead):
    response = start(client_for(lead), review, fmt="no-such-format")
    assert response.status_code == 400
    assert not ExportJob.objects.exists()


def test_export_review_command(review, tmp_path):
    target = tmp_path / "out.txt"
    out = StringIO()
    call_command("export_review", "--review", review.slug, "--format", "test-slow", "-o",
                 str(target), stdout=out)  # fmt: skip
    assert target.read_bytes().startswith(b"chunk 0")
    assert out.getvalue().strip() == f"{target}: test-slow, {target.stat().st_size} bytes"
    with pytest.raises(CommandError, match="Unknown format"):
        call_command("export_review", "--review", review.slug, "--format", "nope", "-o",
                     str(target))  # fmt: skip
    with pytest.raises(CommandError, match="the test says no"):
        call_command("export_review", "--review", review.slug, "--format", "test-refused",
                     "-o", str(tmp_path / "refused.txt"))  # fmt: skip
    assert not (tmp_path / "refused.txt").exists()
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".part"] == []


def test_export_storage_is_s3_when_a_bucket_is_named():
    import os
    import subprocess
    import sys
    from pathlib import Path

    # The settings alone: building the storage needs the optional s3 extra (boto3).
    code = ("from reviewapp.settings import test as s; "
            "print(s.STORAGES['exports']['BACKEND'], "
            "s.STORAGES['exports']['OPTIONS']['bucket_name'])")  # fmt: skip
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviewapp.settings.test",
           "EXPORTS_S3_BUCKET": "review-exports"}  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         cwd=Path(__file__).resolve().parents[2], check=True)  # fmt: skip
    assert out.stdout.split() == ["storages.backends.s3.S3Storage", "review-exports"]
