"""Exports in the browser: the lead starts an export, the page shows its progress bar
moving without a reload while a worker runs it, then offers the file, which downloads whole.
The worker is played by the test: it reports progress, then runs the job."""

import pytest
from playwright.sync_api import expect

from exports import jobs
from exports.models import ExportJob
from reviewapp.models import Role
from tests.exports import test_formats  # noqa: F401  (the test-slow format)
from tests.factories import MembershipFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_lead_watches_an_export_finish_and_downloads_it(page, monkeypatch, assert_accessible):
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm").user
    queued = []
    # No worker in this test: the job waits in the queue until the test runs it.
    monkeypatch.setattr("exports.views.run_export.delay", lambda **kw: queued.append(kw))
    sign_in(page, lead.email)
    page.goto("/reviews/harm/exports/")
    assert_accessible(page)
    page.get_by_label("What to export").select_option("test-slow")
    page.get_by_role("button", name="Start the export").click()
    expect(page.get_by_text("Export started: Test: slow export.")).to_be_visible()
    job = ExportJob.objects.get()
    assert queued == [{"job_id": job.pk}]
    bar = page.locator(f"#export-{job.pk} progress")
    expect(bar).to_have_attribute("value", "0")

    url_before = page.url
    ExportJob.objects.filter(pk=job.pk).update(status="running", progress=0.4)
    expect(bar).to_have_attribute("value", "40")
    ExportJob.objects.filter(pk=job.pk).update(progress=0.8)
    expect(bar).to_have_attribute("value", "80")
    ExportJob.objects.filter(pk=job.pk).update(status="queued")
    jobs.run(job.pk)
    link = page.get_by_role("link", name=f"Download {ExportJob.objects.get().file_name}")
    expect(link).to_be_visible()
    expect(page.locator("#export-announcer")).to_have_text(
        "Test: slow export is ready to download."
    )
    assert page.url == url_before  # no reload
    assert_accessible(page)

    with page.expect_download() as info:
        link.click()
    path = info.value.path()
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [f"chunk {n} of review harm" for n in range(10)]
