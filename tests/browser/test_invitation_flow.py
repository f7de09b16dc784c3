"""End-to-end checks in a real browser: a lead creates a review and invites a reviewer, who
signs up through the invitation and joins; plus keyboard access and closed sign-up."""

import re
from urllib.parse import urlsplit

import pytest
from django.core import mail
from playwright.sync_api import expect

from reviewapp.models import Invitation, Membership, Review, Role, User
from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INVITEE = "new.reviewer@example.org"
INVITEE_PASSWORD = "a-long-and-unusual-passphrase"
TITLE = "Falls prevention in care homes"
QUESTION = "Which interventions reduce falls among older people living in care homes?"
DESCRIPTION = "A scoping review of trials and observational studies published since 2000."
LINK_RE = re.compile(r"https?://\S+/invitations/[^/\s]+/")


def sign_in(page, assert_accessible, email, password):
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign In")
    assert_accessible(page)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign In").click()


def test_lead_creates_review_and_invites_reviewer(page, live_server, settings, assert_accessible):
    # Links in emails are built from SITE_URL (the worker has no request); point it here.
    settings.SITE_URL = live_server.url
    lead = UserFactory(name="Lena Lead")

    # --- The lead signs in and lands on "My reviews". ---
    sign_in(page, assert_accessible, lead.email, PASSWORD)
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("My reviews")
    assert_accessible(page)

    # --- Creates a review. ---
    page.get_by_role("link", name="Create a review").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a review")
    assert_accessible(page)
    page.get_by_label("Title").fill(TITLE)
    page.get_by_label("Review question").fill(QUESTION)
    page.get_by_label("Description").fill(DESCRIPTION)
    page.get_by_role("button", name="Create review").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    review = Review.objects.get(title=TITLE)
    expect(page).to_have_url(f"{live_server.url}/reviews/{review.slug}/")
    expect(page.get_by_role("status")).to_contain_text("You are its lead")
    expect(page.locator(".question")).to_have_text(QUESTION)
    assert_accessible(page)

    # --- Invites a reviewer from the Members page. ---
    page.get_by_role("navigation", name="Review").get_by_role("link", name="Members").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Members")
    assert_accessible(page)
    invite_form = page.get_by_role("form", name="Invite someone")
    invite_form.get_by_label("Email address").fill(INVITEE)
    invite_form.get_by_label("Role").select_option(label="Reviewer")
    invite_form.get_by_role("button", name="Send invitation").click()

    expect(page.get_by_role("status")).to_contain_text(f"Invitation sent to {INVITEE}.")
    pending = page.get_by_role("table", name="Invitations not yet accepted")
    invitation_row = pending.get_by_role("row").filter(has_text=INVITEE)
    expect(invitation_row).to_have_count(1)
    expect(invitation_row.get_by_role("cell").nth(1)).to_have_text("Reviewer")
    page_link = invitation_row.locator(".invitation-link").input_value()
    assert urlsplit(page_link).path.startswith("/invitations/")
    assert_accessible(page)

    # --- The invitation email went to the invitee (eager Celery task, locmem backend). ---
    assert len(mail.outbox) == 1, [m.to for m in mail.outbox]
    message = mail.outbox[0]
    assert message.to == [INVITEE]
    assert TITLE in message.subject
    links = LINK_RE.findall(message.body)
    assert len(links) == 1, message.body
    email_link = links[0]
    assert email_link.startswith(f"{live_server.url}/invitations/")
    invitation = Invitation.objects.get(review=review, email=INVITEE)
    assert invitation.role == Role.REVIEWER
    assert invitation.sent_at is not None
    assert invitation.accepted_at is None

    # --- The lead signs out. ---
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    # --- The invitee follows the emailed link. ---
    page.goto(email_link)
    expect(page.get_by_role("heading", level=1)).to_have_text(f"You are invited to join “{TITLE}”")
    expect(page.get_by_role("main")).to_contain_text(INVITEE)
    assert_accessible(page)
    page.get_by_role("link", name="Create an account").click()

    # --- Signs up: the address comes prefilled from the invitation. ---
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign Up")
    email_field = page.get_by_label("Email")
    expect(email_field).to_have_value(INVITEE)
    assert_accessible(page)
    page.get_by_label("Your name").fill("Nell Newcomer")
    page.get_by_label(re.compile(r"^Password:?$")).fill(INVITEE_PASSWORD)
    page.get_by_label("Password (again)").fill(INVITEE_PASSWORD)
    page.get_by_role("button", name="Sign Up").click()

    # --- Signed in straight away (no verification email) and back on the invitation. ---
    invitation_path = urlsplit(email_link).path
    expect(page).to_have_url(f"{live_server.url}{invitation_path}")
    expect(page.get_by_role("button", name="Sign out")).to_be_attached()
    accept = page.get_by_role("button", name="Accept and join the review")
    expect(accept).to_be_visible()
    assert_accessible(page)
    assert len(mail.outbox) == 1, "no verification email should have been sent"
    accept.click()

    # --- On the review page as a reviewer. ---
    expect(page).to_have_url(f"{live_server.url}/reviews/{review.slug}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(TITLE)
    expect(page.get_by_role("status")).to_contain_text("You joined as Reviewer")
    expect(page.locator(".role-badge")).to_have_text("Your role: Reviewer")
    assert_accessible(page)

    invitee = User.objects.get(email__iexact=INVITEE)
    assert invitee.name == "Nell Newcomer"
    membership = Membership.objects.get(review=review, user=invitee)
    assert membership.role == Role.REVIEWER
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None
    assert invitation.accepted_by == invitee


def test_skip_link_is_first_tab_stop_and_moves_focus_to_main(page):
    page.goto("/accounts/login/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()

    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="Skip to main content")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()  # shown on focus, not left off-screen

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    assert urlsplit(page.url).fragment == "main"


def test_signup_without_invitation_is_closed(page, assert_accessible):
    page.goto("/accounts/signup/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign Up Closed")
    expect(page.get_by_role("main")).to_contain_text("sign up is currently closed")
    expect(page.get_by_label("Password")).to_have_count(0)
    assert_accessible(page)


def test_assert_accessible_reports_serious_and_critical_violations(page, assert_accessible):
    """The helper is not vacuous: a page with known faults fails it, with each one named."""
    page.set_content(
        '<!DOCTYPE html><html lang="en"><head><title>Faulty</title></head><body><main>'
        '<h1>Faulty</h1><img src="data:,"><input type="text"></main></body></html>'
    )
    with pytest.raises(pytest.fail.Exception) as failure:
        assert_accessible(page)
    report = str(failure.value)
    assert "image-alt (critical)" in report
    assert "label (critical)" in report
    assert "img" in report and "input" in report  # target selectors are listed
