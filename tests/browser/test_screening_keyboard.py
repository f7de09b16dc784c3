"""Title/abstract screening with the keyboard only: two reviewers, five records, each next
record swapped in without a page load, focus on its heading, help, undo, and a conflict.

A decision on a prefetched record is sent after the next record is shown; its confirmation
("Included: <title>.") appears when the server has stored it, and only then does a test read
the database (`confirmed`)."""

import pytest
from playwright.sync_api import expect

from reviewapp.models import Role
from screening.decisions import config_for
from screening.models import Decision, HighlightTerm, RecordStage
from screening.models.decisions import StageStatus
from tests.factories import MembershipFactory
from tests.screening.factories import import_file, ris_bytes, work

from .conftest import PageProblems, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
WORKSPACE = "/reviews/harm/screening/ta/"


@pytest.fixture
def team():
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm review")
    review = lead.review
    a = MembershipFactory(review=review, role=Role.REVIEWER, user__name="Rita Reviewer").user
    b = MembershipFactory(review=review, role=Role.REVIEWER, user__name="Ravi Reviewer").user
    import_file(review, ris_bytes([work(n) for n in range(1, 6)]), user=lead.user)
    config = config_for(review)
    config.eligibility_criteria = "Include: adults in community settings.\nExclude: hospitals."
    config.save()
    HighlightTerm.objects.create(review=review, term="community", kind="include")
    HighlightTerm.objects.create(review=review, term="hospital*", kind="exclude")
    rows = RecordStage.objects.filter(review=review, stage="ta").order_by("order_key", "id")
    records = [row.record for row in rows.select_related("record")]
    return {"review": review, "a": a, "b": b, "records": records}


def confirmed(page, done, record):
    """Wait for the server's confirmation of a decision on `record` (it is stored by then)."""
    expect(page.locator(".screen-notice")).to_have_text(f"{done}: {record.title}.")


def mine(user):
    return list(
        Decision.objects.filter(reviewer=user).order_by("id").values_list("record_id", "value")
    )


def expect_record(page, record, announced=None):
    """The record is on screen, its heading has focus, and the page was not reloaded."""
    expect(page.locator("#screen-panel")).to_have_attribute("data-record-id", str(record.pk))
    expect(page.locator("#record-heading")).to_be_focused()
    if announced is not None:
        expect(page.locator("#screen-announcer")).to_have_text(announced)
    assert page.evaluate("window.__marker") == "same page"


def test_two_reviewers_screen_with_the_keyboard(page, browser, live_server, team,
                                                assert_accessible):  # fmt: skip
    records, a, b = team["records"], team["a"], team["b"]
    sign_in(page, a.email)
    page.goto(WORKSPACE)
    expect(page.get_by_role("heading", level=1)).to_have_text("Screen titles and abstracts")
    expect(page.locator("#screen-panel")).to_have_attribute("data-record-id", str(records[0].pk))
    expect(page.get_by_text("Include: adults in community settings.")).to_be_visible()
    expect(page.get_by_role("button", name="Include (I)")).to_be_visible()
    assert_accessible(page)
    page.evaluate("window.__marker = 'same page'")

    # i, e, m decide; each next record appears in place, announced and focused.
    page.keyboard.press("i")
    expect_record(page, records[1], f"Included. Record 2 of 5: {records[1].title}")
    expect(page.get_by_text("My progress: 1 of 5 records decided")).to_be_visible()
    page.keyboard.press("e")
    expect_record(page, records[2], f"Excluded. Record 3 of 5: {records[2].title}")
    page.keyboard.press("m")
    expect_record(page, records[3])
    confirmed(page, "Marked maybe", records[2])
    assert mine(a) == [(records[0].pk, "include"), (records[1].pk, "exclude"),
                       (records[2].pk, "maybe")]  # fmt: skip

    # u takes the last decision back and shows that record again.
    page.keyboard.press("u")
    expect_record(page, records[2], f"Decision undone. Record 3 of 5: {records[2].title}")
    assert mine(a) == [(records[0].pk, "include"), (records[1].pk, "exclude")]

    # ? opens the help; Escape closes it and focus goes back where it was.
    page.keyboard.press("?")
    help_dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Undo my last decision")
    assert_accessible(page)
    page.keyboard.press("i")  # ignored while the help is open
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    expect(page.locator("#record-heading")).to_be_focused()
    # Shortcuts stay out of the way of the browser's own (modifier keys held).
    for chord in ("Control+i", "Alt+e", "Meta+m", "Shift+I"):
        page.keyboard.press(chord)
    page.wait_for_timeout(300)
    expect(page.locator("#screen-panel")).to_have_attribute("data-record-id", str(records[2].pk))
    assert len(mine(a)) == 2

    page.keyboard.press("m")
    expect_record(page, records[3])

    # Typing in the note never triggers a shortcut; Tab then Enter on the button decides.
    page.get_by_label("Note (optional)").focus()
    page.keyboard.type("i e m n u")
    expect(page.get_by_label("Note (optional)")).to_have_value("i e m n u")
    assert len(mine(a)) == 3
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Include (I)")).to_be_focused()
    page.keyboard.press("Enter")
    expect_record(page, records[4])
    confirmed(page, "Included", records[3])
    assert Decision.objects.get(reviewer=a, record=records[3]).note == "i e m n u"

    # p opens my previous decision to revisit; n goes back to the queue.
    page.keyboard.press("p")
    expect_record(page, records[3], f"Revisiting a record you decided: {records[3].title}")
    expect(page.locator("#screen-panel")).to_contain_text("Your decision: Include")
    page.keyboard.press("n")
    expect_record(page, records[4])
    page.keyboard.press("e")
    expect(page.locator("#record-heading")).to_have_text("No more records need you at this stage")
    expect(page.locator("#record-heading")).to_be_focused()
    assert page.evaluate("window.__marker") == "same page"
    confirmed(page, "Excluded", records[4])
    assert len(mine(a)) == 5

    page.get_by_role("link", name="My decisions").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My decisions: title and abstract")
    expect(page.get_by_role("table").get_by_role("row")).to_have_count(6)
    assert_accessible(page)

    # --- The second reviewer, in a browser of their own, excludes record 1: a conflict. ---
    context = browser.new_context(base_url=live_server.url, locale="en-GB")
    other = context.new_page()
    problems = PageProblems(other)
    try:
        sign_in(other, b.email)
        other.goto(WORKSPACE)
        other.evaluate("window.__marker = 'same page'")
        expect(other.locator("#screen-panel")).to_have_attribute(
            "data-record-id", str(records[0].pk)
        )
        # Blind: Rita's include is nowhere on Ravi's screen.
        expect(other.locator("#screen-panel")).not_to_contain_text("Rita")
        other.keyboard.press("e")
        expect_record(other, records[1], f"Excluded. Record 2 of 5: {records[1].title}")
        confirmed(other, "Excluded", records[0])
    finally:
        context.close()
    assert not problems.errors, problems.errors
    status = RecordStage.objects.get(record=records[0], stage="ta").status
    assert status == StageStatus.CONFLICT


def test_workspace_reflows_at_400_percent_zoom(page, team, assert_accessible):
    sign_in(page, team["a"].email)
    page.set_viewport_size({"width": 320, "height": 640})
    for path in (WORKSPACE, "/reviews/harm/screening/", "/reviews/harm/screening/ta/mine/"):
        page.goto(path)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320 CSS px"
        assert_accessible(page)
    # Targets are at least 24 px and focus shows on the decision buttons.
    page.goto(WORKSPACE)
    box = page.get_by_role("button", name="Exclude (E)").bounding_box()
    assert box["height"] >= 24 and box["width"] >= 24
    page.get_by_role("button", name="Exclude (E)").focus()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"


def test_without_javascript_the_forms_still_work(browser, live_server, team):
    context = browser.new_context(
        base_url=live_server.url, locale="en-GB", java_script_enabled=False
    )
    page = context.new_page()
    try:
        sign_in(page, team["a"].email)
        page.goto(WORKSPACE)
        page.get_by_role("button", name="Exclude (E)").click()
        expect(page.locator("#screen-panel")).to_have_attribute(
            "data-record-id", str(team["records"][1].pk)
        )
        expect(page.get_by_role("status").first).to_contain_text("Excluded:")
    finally:
        context.close()
    assert mine(team["a"]) == [(team["records"][0].pk, "exclude")]


def test_the_servers_answer_corrects_a_prefetched_record(page, team):
    """The record fetched ahead was filled by others meanwhile: the decide answer replaces
    it with the one the queue really serves. A refused decision brings its record back with
    the reason."""
    from screening.decisions import record_decision

    records, a, b = team["records"], team["a"], team["b"]
    lead = team["review"].memberships.get(role=Role.LEAD).user
    sign_in(page, a.email)
    page.goto(WORKSPACE)
    page.wait_for_load_state("networkidle")  # the record after records[0] has been fetched
    page.evaluate("window.__marker = 'same page'")
    for person in (b, lead):
        record_decision(record=records[1], stage="ta", reviewer=person, value="include")
    page.keyboard.press("e")
    expect_record(page, records[2])
    confirmed(page, "Excluded", records[0])
    assert mine(a) == [(records[0].pk, "exclude")]

    page.wait_for_load_state("networkidle")
    # Another tab of mine decides records[2] first: this page's decision is now stale.
    record_decision(record=records[2], stage="ta", reviewer=a, value="include")
    page.keyboard.press("e")
    expect(page.get_by_role("alert")).to_contain_text("changed since this page was opened")
    expect_record(page, records[2])
    expect(page.locator("#screen-panel")).to_contain_text("Your decision: Include")
    assert mine(a) == [(records[0].pk, "exclude"), (records[2].pk, "include")]
