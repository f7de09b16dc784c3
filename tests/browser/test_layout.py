"""The base layout at 400% zoom (a 1280 px window seen as 320 CSS px) and by keyboard."""

import pytest
from playwright.sync_api import expect

from reviewapp.models import Role
from tests.factories import PASSWORD, MembershipFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My reviews")


@pytest.mark.parametrize(
    "path", ["/", "/reviews/zoom/", "/reviews/zoom/members/", "/reviews/zoom/settings/"]
)
def test_pages_reflow_at_400_percent_zoom(page, path, assert_accessible):
    membership = MembershipFactory(
        role=Role.LEAD, review__slug="zoom", review__title="A review with a rather long title " * 3
    )
    MembershipFactory(review=membership.review, user__email="a.very.long.address@example.org")
    sign_in(page, membership.user.email)
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto(path)
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at 320 CSS px"
    assert_accessible(page)


def test_every_page_has_landmarks_and_a_title(page):
    membership = MembershipFactory(role=Role.LEAD, review__slug="marks", review__title="Marks")
    sign_in(page, membership.user.email)
    for path, title in [
        ("/", "My reviews"),
        ("/reviews/marks/", "Marks"),
        ("/reviews/marks/members/", "Members · Marks"),
    ]:
        page.goto(path)
        expect(page).to_have_title(f"{title} · reviewapp")
        expect(page.get_by_role("banner")).to_have_count(1)
        expect(page.get_by_role("main")).to_have_count(1)
        expect(page.get_by_role("contentinfo")).to_have_count(1)
        expect(page.get_by_role("navigation", name="Main")).to_be_visible()


def test_focus_is_visible_on_keyboard_navigation(page):
    membership = MembershipFactory(role=Role.LEAD, review__slug="focus")
    sign_in(page, membership.user.email)
    page.goto("/reviews/focus/")
    for _ in range(3):
        page.keyboard.press("Tab")
        outline = page.evaluate(
            "(() => { const s = getComputedStyle(document.activeElement);"
            " return s.outlineStyle + ' ' + s.outlineWidth; })()"
        )
        assert outline.startswith("solid") and not outline.endswith(" 0px"), outline
