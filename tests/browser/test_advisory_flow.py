"""The Advisory Group's loop in the browser: a member reads a shared theme, folds and
unfolds a quote with a content note, comments with the keyboard only; the lead replies,
revises the theme and marks the comment addressed with that revision; the member sees the
outcome on their feedback page. axe-core checks every advisory page visited."""

import pytest
from playwright.sync_api import expect

from advisory.models import Comment, Preference, SharedExcerpt, SharedTheme
from coding.codebook import create_code
from coding.documents import add_document
from coding.excerpts import create_excerpt
from reviewapp.models import Membership, Role
from screening.models import Study
from tests.factories import MembershipFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUOTE = "She said nobody explained the personal budget to her."


@pytest.fixture
def group():
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm review",
                             user__name="Lena Lead").user  # fmt: skip
    review = Membership.objects.get(user=lead).review
    member = MembershipFactory(review=review, role=Role.ADVISORY, user__name="Ada").user
    Preference.objects.create(membership=Membership.objects.get(user=member),
                              fold_content_notes=True)  # fmt: skip
    study = Study.objects.create(review=review, label="Smith 2020")
    document = add_document(study=study, title="Findings", text=f"Intro. {QUOTE}",
                            source="paste", user=lead)  # fmt: skip
    version = document.versions.get()
    theme = create_code(review=review, user=lead, name="Information and involvement")
    start = version.text.index(QUOTE)
    excerpt = create_excerpt(version=version, coder=lead, start=start, end=start + len(QUOTE),
                             code_ids=[theme.pk])  # fmt: skip
    shared = SharedTheme.objects.create(
        review=review,
        theme=theme,
        shared=True,
        plain_title="Being told and being involved",
        plain_description="Whether people were told things.",
    )
    SharedExcerpt.objects.create(shared_theme=shared, excerpt=excerpt, visible=True,
                                 content_note="money worries")  # fmt: skip
    return {"lead": lead, "member": member, "shared": shared, "theme": theme}


def test_member_comments_lead_responds_member_sees_outcome(page, group, assert_accessible):
    shared = group["shared"]
    sign_in(page, group["member"].email)
    page.goto("/reviews/harm/advisory/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Advisory Group")
    assert_accessible(page)
    page.get_by_role("link", name="Being told and being involved").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Being told and being involved")
    assert_accessible(page)

    # The quote starts folded (the member asked for that); the summary opens it by keyboard.
    quote = page.get_by_text(QUOTE)
    expect(quote).to_be_hidden()
    summary = page.locator("#excerpt-1 summary, li[id^=excerpt-] summary").first
    summary.focus()
    page.keyboard.press("Enter")
    expect(quote).to_be_visible()
    page.keyboard.press("Enter")
    expect(quote).to_be_hidden()

    # Comment on the theme with the keyboard only.
    box = page.get_by_label("Your comment on this theme")
    box.focus()
    page.keyboard.type("Please say 'involved in decisions' rather than 'being told'.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Send comment").last).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Thank you. Your comment has been sent.")).to_be_visible()
    comment = Comment.objects.get()
    assert comment.author == group["member"]
    assert_accessible(page)

    # The lead replies, revises the theme with a reason, and responds with that revision.
    page.context.clear_cookies()
    sign_in(page, group["lead"].email)
    page.goto(f"/reviews/harm/advisory/themes/{shared.pk}/comments/?parent={comment.pk}")
    page.get_by_label("Your reply").fill("Thank you, we will change it.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_text("Thank you. Your comment has been sent.")).to_be_visible()

    page.goto(f"/reviews/harm/coding/codebook/{group['theme'].pk}/edit/")
    page.get_by_label("Name").fill("Involvement in decisions")
    page.get_by_label("Why? (optional)").fill("Advisory Group: say 'involved in decisions'.")
    page.get_by_role("button", name="Save").click()

    page.goto(f"/reviews/harm/advisory/comments/{comment.pk}/respond/")
    assert_accessible(page)
    page.get_by_label("What the team did, or why nothing changed").fill(
        "We renamed the theme 'Involvement in decisions'."
    )
    page.get_by_label("Yes, something changed").check()
    page.get_by_label("The change to the theme it led to (optional)").select_option(index=1)
    page.get_by_role("button", name="Save the response").click()
    expect(page.get_by_text("What changed:")).to_be_visible()

    # The member sees what became of the comment, and the change it led to.
    page.context.clear_cookies()
    sign_in(page, group["member"].email)
    page.goto("/reviews/harm/advisory/feedback/")
    expect(page.get_by_text("We renamed the theme 'Involvement in decisions'.")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("link", name="See the change to the theme").click()
    expect(page.get_by_text("Advisory Group: say 'involved in decisions'.")).to_be_visible()
    assert_accessible(page)


def test_every_advisory_page_passes_axe(page, group, assert_accessible):
    from advisory.comments import post_comment
    from advisory.models import Meeting, MeetingAction

    shared = group["shared"]
    comment = post_comment(shared_theme=shared, author=group["member"], body="A comment.")
    meeting = Meeting.objects.create(
        review=shared.review,
        date="2022-03-14",
        title="Workshop",
        agenda="Themes",
        notes="Notes",
        created_by=group["lead"],
    )
    MeetingAction.objects.create(meeting=meeting, text="Rename theme 1", owner=group["lead"])
    excerpt = SharedExcerpt.objects.get()
    base = "/reviews/harm/advisory/"
    member_pages = [
        "", f"themes/{shared.pk}/", f"themes/{shared.pk}/history/", "feedback/", "meetings/",
        f"meetings/{meeting.pk}/", "preferences/",
        f"themes/{shared.pk}/comments/?parent={comment.pk}", f"comments/{comment.pk}/edit/",
        f"comments/{comment.pk}/withdraw/", "/help/",
    ]  # fmt: skip
    lead_pages = [
        "manage/", "manage/summary/", f"manage/themes/{group['theme'].pk}/",
        f"manage/excerpts/{excerpt.pk}/", f"manage/excerpts/{excerpt.pk}/unshare/",
        f"comments/{comment.pk}/respond/", "meetings/new/", f"meetings/{meeting.pk}/edit/",
        "report/",
    ]  # fmt: skip
    sign_in(page, group["member"].email)
    for path in member_pages:
        page.goto(path if path.startswith("/") else base + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
    page.context.clear_cookies()
    sign_in(page, group["lead"].email)
    for path in lead_pages:
        page.goto(base + path)
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert_accessible(page)
