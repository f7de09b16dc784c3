"""Coding with the keyboard only: a coder tabs to the document text, selects a passage with
Shift + arrow keys (the text holds characters outside the Basic Multilingual Plane before
the passage, so UTF-16 and code-point offsets differ), ticks two codes by their number keys,
codes the passage with "c", sees the highlight, and finds the excerpt on the theme page.
axe-core checks every coding page visited."""

import pytest
from playwright.sync_api import expect

from coding.codebook import create_code
from coding.documents import add_document
from coding.models import Excerpt
from reviewapp.models import Role
from screening.models import Study
from tests.factories import MembershipFactory

from .conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = "😀 Intro 𠀋.\nStaff passed the buck between agencies. Nobody acted."
PASSAGE = "Staff passed the buck"


@pytest.fixture
def setup():
    lead = MembershipFactory(role=Role.LEAD, review__slug="harm", review__title="Harm review")
    review = lead.review
    coder = MembershipFactory(review=review, role=Role.REVIEWER, user__name="Rita Reviewer").user
    study = Study.objects.create(review=review, label="Smith 2020")
    document = add_document(study=study, title="Findings", text=TEXT, source="paste",
                            user=lead.user)  # fmt: skip
    theme = create_code(review=review, user=lead.user, name="Fragmented services")
    code = create_code(review=review, user=lead.user, name="Passing the buck", parent=theme)
    return {"review": review, "coder": coder, "document": document, "theme": theme,
            "code": code}  # fmt: skip


def test_keyboard_coding_to_theme_page(page, setup, assert_accessible):
    sign_in(page, setup["coder"].email)
    page.goto("/reviews/harm/coding/")
    assert_accessible(page)
    page.get_by_role("link", name="Findings").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Findings")
    assert_accessible(page)

    text = page.locator("#doc-text")
    text.focus()
    expect(text).to_be_focused()
    # Down to the second line, then select four words.
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Home")
    for _ in range(4):
        page.keyboard.press("Control+Shift+ArrowRight")
    expect(page.locator("#selection-status")).to_contain_text("Staff passed the buck")

    page.keyboard.press("1")  # the theme
    page.keyboard.press("2")  # the code beneath it
    expect(page.locator(f"#apply-{setup['theme'].pk}")).to_be_checked()
    expect(page.locator(f"#apply-{setup['code'].pk}")).to_be_checked()
    page.keyboard.press("c")

    mark = page.locator("mark.hl")
    expect(mark.first).to_be_visible()
    expect(page.locator("#doc-text")).to_be_focused()
    excerpt = Excerpt.objects.get()
    assert excerpt.text.strip() == PASSAGE
    assert TEXT[excerpt.start : excerpt.end].strip() == PASSAGE
    assert set(excerpt.codes.values_list("name", flat=True)) == {
        "Fragmented services",
        "Passing the buck",
    }
    marker = page.locator(f"#excerpt-{excerpt.pk}")
    expect(marker).to_have_attribute("aria-label", "Excerpt 1 by Rita Reviewer: "
                                     "Fragmented services, Passing the buck")  # fmt: skip
    assert_accessible(page)

    # The marker leads to the excerpt's details in the list.
    marker.focus()
    page.keyboard.press("Enter")
    expect(page.locator(f"#excerpt-item-{excerpt.pk}")).to_be_focused()

    page.goto(f"/reviews/harm/coding/codes/{setup['theme'].pk}/")
    expect(page.get_by_text(PASSAGE)).to_be_visible()
    assert_accessible(page)


def test_help_dialog_opens_and_closes_by_keyboard(page, setup, assert_accessible):
    sign_in(page, setup["coder"].email)
    page.goto(f"/reviews/harm/coding/documents/{setup['document'].pk}/")
    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    expect(dialog).to_be_visible()
    assert_accessible(page)
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_every_coding_page_passes_axe(page, setup, assert_accessible):
    from coding.excerpts import create_excerpt

    lead = setup["review"].memberships.get(role=Role.LEAD).user
    version = setup["document"].versions.get()
    start = TEXT.index(PASSAGE)
    for coder in (lead, setup["coder"]):
        create_excerpt(version=version, coder=coder, start=start, end=start + len(PASSAGE),
                       code_ids=[setup["code"].pk, setup["theme"].pk])  # fmt: skip
    sign_in(page, lead.email)
    code = setup["code"]
    for path, heading in [
        ("codebook/", "Codebook"),
        (f"codebook/{code.pk}/edit/", "Passing the buck"),
        (f"codebook/{code.pk}/merge/", "Passing the buck"),
        (f"codebook/{code.pk}/delete/", "Passing the buck"),
        ("codebook/import/", "codebook"),
        ("matrix/", "studies"),
        ("cooccurrence/", "o-occurrence"),
        ("agreement/", "greement"),
        (f"codes/{code.pk}/", "Passing the buck"),
        (f"documents/{setup['document'].pk}/revise/", "Findings"),
    ]:
        page.goto(f"/reviews/harm/coding/{path}")
        expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
        assert_accessible(page)
