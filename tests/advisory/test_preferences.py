"""Each member's settings page: how often we email them, and folding content notes."""

import pytest
from django.urls import reverse

from advisory.models import Preference
from reviewapp.models import Membership

pytestmark = pytest.mark.django_db


def page(review):
    return reverse("advisory_preferences", args=[review.slug])


def preference_of(review, user):
    return Preference.objects.get(membership=Membership.objects.get(review=review, user=user))


def test_page_shows_the_defaults_as_an_accessible_form(client_for, review, advisory):
    response = client_for(advisory).get(page(review))

    assert response.status_code == 200
    body = response.content.decode()
    assert "<legend>How often should we email you about comments?</legend>" in body
    assert '<input type="radio" name="frequency" value="immediate"' in body
    immediate = body[body.index('value="immediate"') :].split(">", 1)[0]
    assert "checked" in immediate
    assert 'aria-describedby="id_fold_content_notes_helptext"' in body
    assert "We email you when someone replies to one of your comments." in body
    # Nothing is saved just by looking.
    assert not Preference.objects.exists()


@pytest.mark.parametrize("persona", ["lead", "reviewer", "advisory"])
@pytest.mark.parametrize(
    "frequency", [Preference.Frequency.DAILY, Preference.Frequency.NONE,
                  Preference.Frequency.IMMEDIATE],
)  # fmt: skip
def test_every_member_saves_each_frequency(client_for, review, personas, persona, frequency):
    user = personas[persona]

    response = client_for(user).post(page(review), {"frequency": frequency})

    assert response.status_code == 302
    assert response.url == page(review)
    saved = preference_of(review, user)
    assert (saved.frequency, saved.fold_content_notes) == (frequency, False)


def test_folding_content_notes_is_saved_and_can_be_undone(client_for, review, advisory):
    client = client_for(advisory)

    client.post(page(review), {"frequency": "daily", "fold_content_notes": "on"})
    saved = preference_of(review, advisory)
    assert (saved.frequency, saved.fold_content_notes) == ("daily", True)

    response = client.post(page(review), {"frequency": "daily"}, follow=True)
    saved.refresh_from_db()
    assert (saved.frequency, saved.fold_content_notes) == ("daily", False)
    assert Preference.objects.count() == 1
    assert "Your settings are saved. We will email you once a day" in response.content.decode()


def test_saved_choices_are_shown_next_time(client_for, review, advisory):
    client = client_for(advisory)
    client.post(page(review), {"frequency": "none", "fold_content_notes": "on"})

    body = client.get(page(review)).content.decode()

    assert "checked" in body[body.index('value="none"') :].split(">", 1)[0]
    assert "checked" not in body[body.index('value="immediate"') :].split(">", 1)[0]
    checkbox = body[body.index('name="fold_content_notes"') :].split(">", 1)[0]
    assert "checked" in checkbox


def test_an_unknown_choice_is_refused_and_nothing_saved(client_for, review, advisory):
    response = client_for(advisory).post(page(review), {"frequency": "hourly"})

    assert response.status_code == 200
    body = response.content.decode()
    assert "There is a problem" in body
    assert 'href="#id_frequency_0"' in body  # the summary's link lands on the first choice
    assert not Preference.objects.exists()


def test_leads_are_told_they_hear_about_every_comment(client_for, review, lead):
    body = client_for(lead).get(page(review)).content.decode()
    assert "We email you when someone comments on a theme" in body


def test_outsider_gets_404_and_changes_nothing(client_for, review, outsider, advisory):
    client = client_for(outsider)
    assert client.get(page(review)).status_code == 404
    assert client.post(page(review), {"frequency": "none"}).status_code == 404
    assert not Preference.objects.exists()


def test_wrong_method_is_405(client_for, review, advisory):
    assert client_for(advisory).put(page(review)).status_code == 405
