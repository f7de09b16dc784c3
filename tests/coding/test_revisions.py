"""Theme history: every change to a theme's name, description, codes or grouping is kept
with who, when and why, and reads as a difference."""

import pytest
from django.urls import reverse

from coding.codebook import create_code
from coding.models import ThemeRevision
from coding.revisions import changes, recording

pytestmark = pytest.mark.django_db


@pytest.fixture
def themes(review, lead):
    a = create_code(review=review, user=lead, name="Fragmented services")
    b = create_code(review=review, user=lead, name="Power over")
    buck = create_code(review=review, user=lead, name="Passing the buck", parent=a)
    return a, b, buck


def test_editing_a_theme_through_the_codebook_records_who_and_why(client_for, themes, lead,
                                                                  review):  # fmt: skip
    a = themes[0]
    response = client_for(lead).post(
        reverse("code_edit", args=[review.slug, a.pk]),
        {"name": "Fragmented and discontinuous services", "description": "Services apart.",
         "inclusion_notes": "", "exclusion_notes": "", "colour": a.colour, "parent": "",
         "reason": "The Advisory Group said continuity matters most."},
    )  # fmt: skip
    assert response.status_code == 302
    revision = ThemeRevision.objects.get()
    assert (revision.theme, revision.author) == (a, lead)
    assert revision.reason == "The Advisory Group said continuity matters most."
    assert revision.before["name"] == "Fragmented services"
    assert revision.after["name"] == "Fragmented and discontinuous services"
    labels = [c.label for c in changes(revision)]
    assert labels == ["Name", "Description"]


def test_moving_a_code_between_themes_changes_both(client_for, themes, lead, review):
    a, b, buck = themes
    with recording(review, lead, "regrouped") as result:
        from coding.codebook import move_code

        move_code(code=buck, parent=b)
    assert {r.theme for r in result.revisions} == {a, b}
    by_theme = {r.theme: changes(r)[0] for r in result.revisions}
    assert by_theme[a].removed == ["Passing the buck"]
    assert by_theme[b].added == ["Passing the buck"]


def test_nothing_changed_records_nothing_and_a_refusal_rolls_back(themes, lead, review):
    from coding.codebook import CodebookError, shift_code

    with recording(review, lead):
        pass
    with pytest.raises(CodebookError), recording(review, lead):
        shift_code(code=themes[0], direction="up")  # already first
    assert not ThemeRevision.objects.exists()


def test_move_buttons_reorder_and_record(client_for, themes, lead, review):
    a, b, buck = themes
    second = create_code(review=review, user=lead, name="Poor integration", parent=a)
    client_for(lead).post(reverse("code_move", args=[review.slug, second.pk]),
                          {"direction": "up"})  # fmt: skip
    revision = ThemeRevision.objects.get()
    change = changes(revision)[0]
    assert change.reordered and revision.theme == a


def test_word_level_difference():
    revision = ThemeRevision(before={"name": "Lack of support"},
                             after={"name": "Lack of good support"})  # fmt: skip
    (change,) = changes(revision)
    assert change.words == [("same", "Lack of"), ("ins", "good"), ("same", "support")]
