"""Each member's settings for one review: how often we email them about comments, and
whether content with a content note starts folded. Every member (lead, reviewer, advisory)
has this page; non-members get 404."""

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from reviewapp.access import posted
from reviewapp.models import Role

from ..access import get_advisory_review
from ..models import Preference
from ..notifications import preference_of

Frequency = Preference.Frequency

# Each choice in everyday words, with what it means in practice.
FREQUENCY_CHOICES = [
    (Frequency.IMMEDIATE, "Straight away"),
    (Frequency.DAILY, "Once a day"),
    (Frequency.NONE, "Never"),
]
FREQUENCY_HINTS = {
    Frequency.IMMEDIATE: "One email each time there is something new.",
    Frequency.DAILY: "One email in the morning listing everything new since the day before. "
    "No email on days with nothing new.",
    Frequency.NONE: "No emails. You will still see new comments and replies when you visit "
    "these pages.",
}
SAVED = {
    Frequency.IMMEDIATE: "Your settings are saved. We will email you straight away when "
    "there is something new.",
    Frequency.DAILY: "Your settings are saved. We will email you once a day when there is "
    "something new.",
    Frequency.NONE: "Your settings are saved. We will not email you about comments.",
}


class ChoiceRadios(forms.RadioSelect):
    # Django gives a group of radios no single id; the error summary links to the first.
    def id_for_label(self, id_, index="0"):
        return super().id_for_label(id_, index)


class PreferenceForm(forms.Form):
    frequency = forms.ChoiceField(
        label="How often should we email you about comments?",
        choices=FREQUENCY_CHOICES,
        widget=ChoiceRadios,
        error_messages={"required": "Choose how often we should email you."},
    )
    fold_content_notes = forms.BooleanField(
        label="Fold content that has a content note until I choose to open it",
        required=False,
        help_text="Some themes and quotes talk about upsetting things. They have a short "
        "note saying what they are about. If you tick this box, we show you only the note "
        "at first, and you open the rest when you are ready. Our emails about them leave "
        "out the words of comments too.",
    )


@transaction.atomic
def save_preferences(*, membership, frequency, fold_content_notes):
    preference, _ = Preference.objects.update_or_create(
        membership=membership,
        defaults={"frequency": frequency, "fold_content_notes": fold_content_notes},
    )
    return preference


def _what_we_email(membership):
    if membership.role == Role.LEAD:
        return "We email you when someone comments on a theme, and when someone replies to you."
    return "We email you when someone replies to one of your comments."


@require_http_methods(["GET", "POST"])
def advisory_preferences(request, slug):
    review, membership, space = get_advisory_review(request, slug)
    preference = preference_of(membership)
    form = PreferenceForm(
        posted(request),
        initial={
            "frequency": preference.frequency,
            "fold_content_notes": preference.fold_content_notes,
        },
    )
    if request.method == "POST" and form.is_valid():
        saved = save_preferences(membership=membership, **form.cleaned_data)
        messages.success(request, SAVED[saved.frequency])
        return redirect("advisory_preferences", slug=review.slug)
    frequency_choices = [
        (radio, FREQUENCY_HINTS[radio.data["value"]]) for radio in form["frequency"]
    ]
    return render(
        request,
        "advisory/preferences.html",
        {
            "review": review,
            "membership": membership,
            "space": space,
            "form": form,
            "frequency_choices": frequency_choices,
            "what_we_email": _what_we_email(membership),
        },
    )


urlpatterns = [path("preferences/", advisory_preferences, name="advisory_preferences")]
