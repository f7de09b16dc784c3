"""Importing in the browser: upload, summary, records, the duplicates queue, and a progress
bar that updates without reloading the page."""

import pytest
from playwright.sync_api import expect

from reviewapp.models import Role
from screening.importing import run_import
from screening.models import DuplicatePair, ImportBatch, Record
from tests.factories import MembershipFactory
from tests.screening.factories import ris_bytes, work

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def lead_membership():
    return MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm review")


def test_upload_summary_records_and_duplicate_decision(
    page, lead_membership, tmp_path, assert_accessible
):
    a = work(1, doi="")
    entries = [a, work(2), work(2, id="copy"), work(1, doi="", id="late", year=a["year"] + 2)]
    export = tmp_path / "psycinfo.ris"
    export.write_bytes(ris_bytes(entries))
    sign_in(page, lead_membership.user.email)

    page.goto("/reviews/harm/imports/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Imports")
    assert_accessible(page)
    page.get_by_label("Export file").set_input_files(str(export))
    page.get_by_label("Source").fill("PsycINFO")
    page.get_by_label("Date of search").fill("2021-03-01")
    page.get_by_role("button", name="Upload and import").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Import of psycinfo.ris")
    summary = page.locator("#import-progress")
    expect(summary).to_contain_text("4 entries read")
    expect(summary).to_contain_text("4 records added")
    expect(summary).to_contain_text("1 duplicate found and merged automatically")
    expect(summary).to_contain_text("1 possible duplicate pair to check")
    assert_accessible(page)

    page.get_by_role("link", name="See this file's records").click()
    expect(page.get_by_role("status")).to_have_text("4 records.")
    page.get_by_label("Duplicates").select_option(label="Records kept (duplicates removed)")
    page.get_by_label("Search titles and abstracts").fill("study 2")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_have_text("1 record.")
    assert_accessible(page)

    page.get_by_role("navigation", name="Review").get_by_role("link", name="Duplicates").click()
    expect(page.get_by_role("status")).to_have_text("1 pair waiting for a decision.")
    assert_accessible(page)
    page.get_by_role("link", name="compare pair").click()
    year_row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name="Year"))
    expect(year_row).to_contain_text("differs")
    assert_accessible(page)
    page.get_by_role("button", name="Duplicate: merge them").click()
    expect(page.get_by_text("0 pairs waiting for a decision.")).to_be_visible()
    assert Record.objects.get(source_id="late").duplicate_of.source_id == "E1"
    assert DuplicatePair.objects.get(status="confirmed").decided_by == lead_membership.user


def test_progress_bar_turns_into_the_summary_without_a_reload(page, lead_membership, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from screening.services import create_import_batch

    upload = SimpleUploadedFile("assia.ris", ris_bytes([work(n) for n in range(1, 6)]))
    batch, _ = create_import_batch(
        review=lead_membership.review,
        user=lead_membership.user,
        upload=upload,
        source="ASSIA",
        kind="database",
        run=False,
    )
    sign_in(page, lead_membership.user.email)
    page.goto(f"/reviews/harm/imports/{batch.pk}/")
    expect(page.get_by_role("progressbar")).to_be_visible()
    page.evaluate("window.__marker = 'same page'")
    run_import(ImportBatch.objects.get(pk=batch.pk))
    expect(page.locator("#import-progress")).to_contain_text("5 records added", timeout=10_000)
    assert page.evaluate("window.__marker") == "same page"
