"""Care features on every page, in a real browser: the text size buttons (with and without
script), axe and reflow at "Larger", the session warning with "Stay signed in", and
comment drafts kept in the tab (static/js/app.js, static/js/session.js)."""

import re

import pytest
from playwright.sync_api import expect

from coding.codebook import create_code
from coding.documents import add_document
from reviewapp.models import Role
from screening.models import Study
from tests.factories import PASSWORD, MembershipFactory
from tests.screening.factories import import_file, ris_bytes, work

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT_FONT_SIZE = "getComputedStyle(document.documentElement).fontSize"
SIDEWAYS_SCROLL = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture
def advisory_member():
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm review")
    return MembershipFactory(review=lead.review, role=Role.ADVISORY, user__name="Ada Advisor")


def text_size_button(page, label):
    group = page.get_by_role("banner").get_by_role("group", name="Text size:")
    return group.get_by_role("button", name=label, exact=True)


def choose_larger(page, live_server):
    page.context.add_cookies([{"name": "text_size", "value": "larger", "url": live_server.url}])


# --- Text size ---------------------------------------------------------------------------


def test_text_size_buttons_apply_at_once_and_are_remembered(page, assert_accessible):
    page.goto("/accounts/login/")
    assert page.evaluate(ROOT_FONT_SIZE) == "16px"
    expect(text_size_button(page, "Standard")).to_have_attribute("aria-pressed", "true")
    page.evaluate("window.__marker = 'same page'")

    text_size_button(page, "Larger").click()
    expect(page.locator("html")).to_have_class("text-larger")
    assert page.evaluate(ROOT_FONT_SIZE) == "24px"
    expect(text_size_button(page, "Larger")).to_have_attribute("aria-pressed", "true")
    expect(text_size_button(page, "Standard")).to_have_attribute("aria-pressed", "false")
    expect(text_size_button(page, "Larger")).to_be_focused()
    assert page.evaluate("window.__marker") == "same page"
    assert_accessible(page)

    text_size_button(page, "Large").click()
    assert page.evaluate(ROOT_FONT_SIZE) == "20px"
    # The background post set the cookie: a new page load keeps the choice.
    expect(page.locator("html")).to_have_class("text-large")
    page.wait_for_function("document.cookie.includes('text_size=large')")
    page.goto("/help/")
    assert page.evaluate(ROOT_FONT_SIZE) == "20px"
    expect(text_size_button(page, "Large")).to_have_attribute("aria-pressed", "true")


def test_text_size_buttons_work_without_script(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/help/?from=test")
        text_size_button(page, "Larger").click()
        expect(page).to_have_url(re.compile(r"/help/\?from=test$"))
        expect(page.locator("html")).to_have_class("text-larger")
        assert page.evaluate(ROOT_FONT_SIZE) == "24px"
        expect(text_size_button(page, "Larger")).to_have_attribute("aria-pressed", "true")
    finally:
        context.close()


@pytest.mark.parametrize("path", ["/help/", "/reviews/harm/", "/"])
def test_larger_text_is_accessible_and_fits(page, live_server, advisory_member, path,
                                            assert_accessible):  # fmt: skip
    sign_in(page, advisory_member.user.email)
    choose_larger(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(path)
    assert page.evaluate(ROOT_FONT_SIZE) == "24px"
    assert page.evaluate(SIDEWAYS_SCROLL) <= 0
    assert_accessible(page)


@pytest.fixture
def busy_review():
    """A review with records to screen and a document to code, and a reviewer in it."""
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm review")
    review = lead.review
    reviewer = MembershipFactory(review=review, role=Role.REVIEWER).user
    import_file(review, ris_bytes([work(n) for n in range(1, 4)]), user=lead.user)
    study = Study.objects.create(review=review, label="Smith 2020")
    text = "Staff passed the buck between agencies. " * 40
    document = add_document(study=study, title="Findings", text=text, source="paste",
                            user=lead.user)  # fmt: skip
    theme = create_code(review=review, user=lead.user, name="Fragmented services")
    create_code(review=review, user=lead.user, name="Passing the buck", parent=theme)
    return {"reviewer": reviewer, "document": document}


def test_larger_text_fits_the_screening_and_coding_workspaces(page, live_server, busy_review):
    sign_in(page, busy_review["reviewer"].email)
    choose_larger(page, live_server)
    page.set_viewport_size({"width": 1280, "height": 800})
    for path, heading in [
        ("/reviews/harm/screening/ta/", "Screen titles and abstracts"),
        (f"/reviews/harm/coding/documents/{busy_review['document'].pk}/", "Findings"),
    ]:
        page.goto(path)
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert page.evaluate(ROOT_FONT_SIZE) == "24px"
        overflow = page.evaluate(SIDEWAYS_SCROLL)
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 150% text"


# --- Session warning ---------------------------------------------------------------------

# session.js warns min(5 minutes, half the timeout) before it ends: 4 seconds here.
IDLE_TIMEOUT = 8
DIALOG_WAIT_MS = (IDLE_TIMEOUT + 4) * 1000


def test_stay_signed_in_keeps_the_session(page, settings, advisory_member, assert_accessible):
    settings.SESSION_IDLE_TIMEOUT = IDLE_TIMEOUT
    sign_in(page, advisory_member.user.email)
    page.goto("/reviews/harm/")
    help_link = page.get_by_role("banner").get_by_role("link", name="Help")
    help_link.focus()

    dialog = page.get_by_role("dialog", name="Do you want to stay signed in?")
    expect(dialog).to_be_visible(timeout=DIALOG_WAIT_MS)
    expect(dialog).to_contain_text(
        "You will be signed out in less than a minute because nothing has been sent for a "
        "while. Anything you have typed is kept in this browser tab."
    )
    stay = dialog.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    assert_accessible(page)
    stay.click()
    expect(dialog).to_be_hidden()
    expect(help_link).to_be_focused()

    # Past the first deadline (and the middleware's whole second), still signed in.
    page.wait_for_timeout((IDLE_TIMEOUT - 2) * 1000)
    page.goto("/reviews/harm/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harm review")

    # Escape keeps the session too, and keys pressed in the dialog never reach the page's
    # shortcuts (on the screening page "i" would record an Include).
    expect(dialog).to_be_visible(timeout=DIALOG_WAIT_MS)
    page.evaluate(
        "window.__keys = []; document.addEventListener('keydown', e => __keys.push(e.key))"
    )
    page.keyboard.press("i")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("window.__keys") == []
    page.wait_for_timeout((IDLE_TIMEOUT - 2) * 1000)
    page.goto("/reviews/harm/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Harm review")


def test_an_unanswered_warning_says_when_you_were_signed_out(page, settings, advisory_member):
    settings.SESSION_IDLE_TIMEOUT = 4
    sign_in(page, advisory_member.user.email)
    page.goto("/reviews/harm/")
    ended = page.get_by_role("dialog", name="You have been signed out")
    expect(ended).to_be_visible(timeout=DIALOG_WAIT_MS)
    again = ended.get_by_role("link", name="Sign in again")
    expect(again).to_be_focused()
    again.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=%2Freviews%2Fharm%2F$"))
    expect(page.get_by_text("You were signed out after a period without activity.")).to_be_visible()


# --- Drafts ------------------------------------------------------------------------------

NEW_REVIEW = "/reviews/new/"
DRAFT = "What matters most to people who use these services?"


def with_draft_key(route):
    """Serve the page with its question box marked as a draft, as comment boxes are."""
    if route.request.method != "GET":
        route.continue_()
        return
    response = route.fetch(max_redirects=0)
    html = response.text().replace(
        '<textarea name="question"', '<textarea data-draft-key="new-review-question" '
        'name="question"'
    )  # fmt: skip
    route.fulfill(response=response, body=html)


def test_a_draft_survives_a_reload_and_an_expired_session(page, advisory_member):
    page.route(f"**{NEW_REVIEW}", with_draft_key)
    sign_in(page, advisory_member.user.email)
    page.goto(NEW_REVIEW)
    question = page.get_by_label("Question")
    question.fill(DRAFT)

    page.reload()
    expect(question).to_have_value(DRAFT)
    expect(question).to_have_accessible_description(
        re.compile("the text you had not sent yet, brought back from earlier")
    )

    # The session ended while the form was open: sending it leads to the login page, and
    # the text comes back after signing in again.
    page.context.clear_cookies(name="sessionid")
    page.get_by_label("Title").fill("A new review")
    page.get_by_role("button", name="Create review").click()
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.get_by_label("Email").fill(advisory_member.user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a review")
    # Playwright routes only the first request of a redirect chain: load it once more so the
    # box is marked again (a comment box is marked by its template every time).
    page.reload()
    expect(question).to_have_value(DRAFT)

    # Sent for real: the draft is done with.
    page.get_by_label("Title").fill("A new review")
    page.get_by_role("button", name="Create review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("A new review")
    page.goto(NEW_REVIEW)
    expect(question).to_have_value("")


def test_signing_out_forgets_drafts(page, advisory_member):
    page.route(f"**{NEW_REVIEW}", with_draft_key)
    sign_in(page, advisory_member.user.email)
    page.goto(NEW_REVIEW)
    page.get_by_label("Question").fill(DRAFT)
    assert page.evaluate("sessionStorage.length") == 1
    page.get_by_role("button", name=re.compile("^Sign out")).click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    assert page.evaluate("sessionStorage.length") == 0
