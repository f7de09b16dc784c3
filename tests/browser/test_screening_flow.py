"""The whole screening flow in the browser: two reviewers screen with the keyboard only, a
conflict appears, the lead resolves it, the record goes through full text to inclusion, and
the PRISMA diagram on the review page shows the new numbers."""

import pytest
from playwright.sync_api import expect

from reviewapp.models import Role
from screening.models import ExclusionReason, RecordStage, Study
from tests.factories import MembershipFactory
from tests.screening.factories import import_file, ris_bytes, work

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def prisma_number(page, label):
    row = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=label,
                                                              exact=True))  # fmt: skip
    return int(row.get_by_role("cell").last.inner_text().replace(",", ""))


def screen_by_keyboard(page, user, keys):
    page.context.clear_cookies()
    sign_in(page, user.email)
    page.goto("/reviews/harm/screening/ta/")
    expect(page.locator("#record-heading")).to_be_visible()
    for key in keys:
        before = page.locator("#screen-panel").get_attribute("data-record-id")
        page.keyboard.press(key)
        expect(page.locator("#screen-panel")).not_to_have_attribute("data-record-id", before)
    expect(page.locator(".screen-notice")).to_contain_text(":")  # last decision confirmed


def test_keyboard_screening_conflict_full_text_inclusion_and_prisma(page, assert_accessible):
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm").user
    review = lead.memberships.get().review
    rita = MembershipFactory(review=review, role=Role.REVIEWER, user__name="Rita R").user
    ravi = MembershipFactory(review=review, role=Role.REVIEWER, user__name="Ravi R").user
    ExclusionReason.objects.create(review=review, text="Not peer reviewed")
    import_file(review, ris_bytes([work(1), work(2)]), user=lead)
    first, second = [r.record for r in RecordStage.objects.filter(review=review, stage="ta")
                     .order_by("order_key").select_related("record")]  # fmt: skip

    screen_by_keyboard(page, rita, ["i", "e"])
    screen_by_keyboard(page, ravi, ["e", "e"])
    assert RecordStage.objects.get(record=first, stage="ta").status == "conflict"
    assert RecordStage.objects.get(record=second, stage="ta").status == "excluded"

    # The lead resolves the conflict on the conflicts page.
    page.context.clear_cookies()
    sign_in(page, lead.email)
    page.goto("/reviews/harm/screening/conflicts/")
    assert_accessible(page)
    page.get_by_role("link", name=first.title).click()
    page.get_by_role("radio", name="Include").check()
    page.get_by_label("Why").fill("A community setting after all")
    page.get_by_role("button", name="Resolve the conflict").click()
    assert RecordStage.objects.get(record=first, stage="ta").status == "resolved_include"

    page.goto("/reviews/harm/prisma/")
    assert_accessible(page)
    assert prisma_number(page, "Records screened") == 2
    assert prisma_number(page, "Records excluded") == 1
    assert prisma_number(page, "Reports sought for retrieval") == 1
    assert prisma_number(page, "Studies included in review") == 0

    # Both reviewers include it at full text.
    for person in (rita, ravi):
        page.context.clear_cookies()
        sign_in(page, person.email)
        page.goto(f"/reviews/harm/screening/ft/{first.pk}/")
        page.get_by_role("radio", name="Include").check()
        page.get_by_role("button", name="Save decision").click()
        expect(page.locator(".messages")).to_be_visible()
    assert Study.objects.filter(review=review).count() == 1

    # The review page's diagram shows the inclusion.
    page.context.clear_cookies()
    sign_in(page, lead.email)
    page.goto("/reviews/harm/")
    figure = page.locator(".prisma-figure svg")
    expect(figure).to_contain_text("Studies included in review (n = 1)")
    expect(figure).to_contain_text("Records excluded (n = 1)")
    assert_accessible(page)
