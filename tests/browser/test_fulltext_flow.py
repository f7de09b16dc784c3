"""Full text in the browser: a reviewer uploads the PDF and includes, another excludes with a
reason, the lead resolves the conflict with the PDF on screen, and the study appears."""

import pytest
from playwright.sync_api import expect

from reviewapp.models import Role
from screening.decisions import record_decision
from screening.models import ExclusionReason, FullText, Record, RecordStage, Resolution, Study
from screening.storage import fulltext_storage
from tests.factories import MembershipFactory
from tests.screening.factories import import_file, ris_bytes, work
from tests.screening.test_fulltext_views import minimal_pdf

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NARROW = {"width": 320, "height": 640}
WIDE = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def media(settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(FullText._meta.get_field("file"), "storage", fulltext_storage())


@pytest.fixture
def team():
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm review")
    review = lead.review
    a = MembershipFactory(review=review, role=Role.REVIEWER, user__name="Rita Reviewer").user
    b = MembershipFactory(review=review, role=Role.REVIEWER, user__name="Ravi Reviewer").user
    return review, lead.user, a, b


@pytest.fixture
def record_at_full_text(team):
    review, lead, a, b = team
    import_file(review, ris_bytes([work(1, title="Peer support after crisis care")]), user=lead)
    record = Record.objects.get()
    for person in (a, b):
        record_decision(record=record, stage="ta", reviewer=person, value="include")
    ExclusionReason.objects.create(review=review, text="Not a community setting", position=1)
    ExclusionReason.objects.create(review=review, text="Not peer reviewed", position=2)
    return record


def fits_the_width(page):
    """No horizontal scrolling: the page reflows into the viewport (WCAG 1.4.10)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def switch_user(page, user):
    page.context.clear_cookies()
    sign_in(page, user.email)


def test_upload_include_exclude_resolve_and_study(
    page, team, record_at_full_text, tmp_path, assert_accessible
):
    review, lead, a, b = team
    record = record_at_full_text
    pdf = tmp_path / "peer-support.pdf"
    pdf.write_bytes(minimal_pdf())
    page.set_viewport_size(WIDE)

    # Reviewer A attaches the PDF and includes.
    sign_in(page, a.email)
    page.goto("/reviews/harm/screening/ft/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Full-text assessment")
    assert_accessible(page)
    page.get_by_role("link", name="Next record needing me").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Peer support after crisis care")
    assert_accessible(page)
    page.get_by_label("PDF of the full text").set_input_files(str(pdf))
    page.get_by_role("button", name="Upload PDF").click()
    expect(page.locator(".messages")).to_contain_text("peer-support.pdf is attached.")
    frame = page.locator("iframe[title^='Full text of record']")
    expect(frame).to_have_attribute("src", f"/reviews/harm/screening/ft/{record.pk}/file/")
    assert_accessible(page)
    page.get_by_role("radio", name="Include").check()
    page.get_by_label("Note").fill("Community peer support")
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".messages")).to_contain_text("Your decision on record")
    assert RecordStage.objects.get(record=record, stage="ft").status == "awaiting_more"

    # Reviewer B excludes with a reason: a conflict. Choosing the reason picks "Exclude".
    switch_user(page, b)
    page.goto(f"/reviews/harm/screening/ft/{record.pk}/")
    expect(page.locator("iframe[title^='Full text of record']")).to_be_attached()
    expect(page.get_by_text("Community peer support")).to_have_count(0)  # still blind
    assert_accessible(page)
    page.get_by_label("Exclusion reason").select_option(label="Not peer reviewed")
    expect(page.get_by_role("radio", name="Exclude")).to_be_checked()
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".messages")).to_contain_text("exclude (Not peer reviewed)")
    assert RecordStage.objects.get(record=record, stage="ft").status == "conflict"
    page.goto("/reviews/harm/screening/ft/")
    expect(page.get_by_role("cell", name="All decisions in; awaiting the outcome")).to_be_visible()
    assert_accessible(page)

    # The lead sees who waits and what conflicts, and resolves with the PDF on screen.
    switch_user(page, lead)
    page.goto("/reviews/harm/screening/awaiting/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Awaiting another reviewer")
    assert_accessible(page)
    page.get_by_role("navigation", name="Screening lists").get_by_role(
        "link", name="Conflicts"
    ).click()
    expect(page.get_by_role("status")).to_have_text("1 conflict to resolve.")
    assert_accessible(page)
    page.get_by_role("link", name="Peer support after crisis care").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Conflict:")
    decisions = page.get_by_role("table", name="The reviewers’ decisions, side by side")
    expect(decisions.get_by_role("row", name="Rita Reviewer")).to_contain_text("Include")
    expect(decisions.get_by_role("row", name="Ravi Reviewer")).to_contain_text("Not peer reviewed")
    expect(page.locator("iframe[title^='Full text of record']")).to_be_attached()
    assert_accessible(page)
    page.set_viewport_size(NARROW)
    assert fits_the_width(page)
    assert_accessible(page)
    page.set_viewport_size(WIDE)
    page.get_by_role("radio", name="Include").check()
    page.get_by_label("Why").fill("Peer-reviewed after all: published in a journal")
    page.get_by_role("button", name="Resolve the conflict").click()
    expect(page.locator(".messages")).to_contain_text("Conflict resolved")
    resolution = Resolution.objects.get()
    assert (resolution.value, resolution.decided_by, resolution.stage) == ("include", lead, "ft")

    page.get_by_role("navigation", name="Screening lists").get_by_role(
        "link", name="Included studies"
    ).click()
    study = Study.objects.get()
    expect(page.get_by_role("heading", level=3, name=study.label)).to_be_visible()
    expect(page.get_by_role("link", name="Peer support after crisis care")).to_be_visible()
    assert_accessible(page)


def test_the_assessment_page_reflows_at_320_pixels(
    page, team, record_at_full_text, tmp_path, assert_accessible
):
    review, lead, a, b = team
    record = record_at_full_text
    sign_in(page, a.email)
    pdf = tmp_path / "narrow.pdf"
    pdf.write_bytes(minimal_pdf())
    page.goto(f"/reviews/harm/screening/ft/{record.pk}/")
    page.get_by_label("PDF of the full text").set_input_files(str(pdf))
    page.get_by_role("button", name="Upload PDF").click()
    expect(page.locator("iframe[title^='Full text of record']")).to_be_attached()
    page.set_viewport_size(NARROW)
    assert fits_the_width(page)
    form_top = page.get_by_role("button", name="Save decision").bounding_box()["y"]
    frame_box = page.locator("iframe").bounding_box()
    assert form_top > frame_box["y"] + frame_box["height"]  # one column: the form below
    assert_accessible(page)
    page.set_viewport_size(WIDE)
    frame_box = page.locator("iframe").bounding_box()
    form_box = page.get_by_role("button", name="Save decision").bounding_box()
    assert form_box["x"] > frame_box["x"] + frame_box["width"]  # side by side
    assert frame_box["width"] > 400
    # An Advisory Group member never receives the file.
    advisory = MembershipFactory(review=review, role=Role.ADVISORY).user
    switch_user(page, advisory)
    response = page.request.get(f"/reviews/harm/screening/ft/{record.pk}/file/")
    assert response.status == 403
