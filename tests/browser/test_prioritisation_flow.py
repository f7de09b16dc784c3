"""AI prioritisation in the browser: with priority order on, a reviewer's next record is the
top-ranked one still needing them; the lead sees the scores and the stopping panel; axe-core
checks the pages."""

import pytest
from playwright.sync_api import expect

from screening import ranking
from screening.decisions import record_decision
from screening.models import RecordStage
from tests.factories import MembershipFactory
from tests.screening.factories import import_file, ris_bytes, work

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RELEVANT = "social care service users harm practitioners community mental health support"
OTHER = "software engineering testing compilers code review"


def test_reviewer_gets_the_top_ranked_record_and_lead_sees_scores(page, assert_accessible):
    lead = MembershipFactory(role="lead", review__slug="harm", review__title="Harm").user
    review = lead.memberships.get().review
    a = MembershipFactory(review=review, role="reviewer", user__name="Rita Reviewer").user
    b = MembershipFactory(review=review, role="reviewer", user__name="Ravi Reviewer").user
    entries = [
        work(
            n,
            title=f"{RELEVANT if n % 5 == 0 else OTHER} study {n}",
            abstract=f"{RELEVANT if n % 5 == 0 else OTHER} {n}",
        )
        for n in range(1, 31)
    ]
    import_file(review, ris_bytes(entries), user=lead)
    rows = RecordStage.objects.filter(review=review, stage="ta").select_related("record")
    records = [row.record for row in rows]
    ranking.set_order(review, "priority")
    relevant = [r for r in records if r.title.startswith("social")]
    other = [r for r in records if not r.title.startswith("social")]
    for record, value in ((relevant[0], "include"), (other[0], "exclude")):
        for reviewer in (a, b):
            record_decision(record=record, stage="ta", reviewer=reviewer, value=value)
    top = (RecordStage.objects.filter(review=review, stage="ta", status="awaiting")
           .order_by("order_key").select_related("record").first())  # fmt: skip
    assert top.record.title.startswith("social")

    sign_in(page, a.email)
    page.goto("/reviews/harm/screening/ta/")
    expect(page.locator("#screen-panel")).to_have_attribute("data-record-id", str(top.record_id))
    assert_accessible(page)

    page.context.clear_cookies()
    sign_in(page, lead.email)
    page.goto("/reviews/harm/screening/prioritisation/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    expect(
        page.get_by_role("img", name="Includes found against records screened")
        .or_(page.locator("svg[role=img]"))
        .first
    ).to_be_visible()
    expect(page.get_by_text(top.record.title).first).to_be_visible()
    assert_accessible(page)
    page.goto("/reviews/harm/records/?sort=score")
    expect(page.get_by_role("columnheader", name="Relevance")).to_be_visible()
    assert_accessible(page)
