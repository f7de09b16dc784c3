"""Forms of the screening settings page. They check what a lead typed; the writes (and the
checks that need the database's current state) are in screening.settings_services."""

from django import forms

from reviewapp.models import Role, User

from .settings_services import (
    MAX_REASONS,
    MAX_REVIEWERS,
    MAX_TERMS,
    MIN_REVIEWERS,
    REASON_MAX_LENGTH,
    TERM_MAX_LENGTH,
    SettingsError,
    clean_terms,
)


class ReviewerChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        # Names only: the settings page never shows members' email addresses.
        return obj.display_name


class ScreeningSettingsForm(forms.Form):
    reviewers_per_record = forms.TypedChoiceField(
        label="Reviewers per record",
        choices=[(n, str(n)) for n in range(MIN_REVIEWERS, MAX_REVIEWERS + 1)],
        coerce=int,
        widget=forms.RadioSelect,
        help_text="How many reviewers screen each record independently. Two is usual (dual "
        "screening). A change applies to records not yet settled; lowering it settles "
        "records that already have enough decisions.",
    )
    blind = forms.BooleanField(
        label="Blind screening",
        required=False,
        help_text="Reviewers see nobody else's decision on a record until it is settled.",
    )
    eligibility_criteria = forms.CharField(
        label="Eligibility criteria",
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Shown beside every record while screening. Plain text; blank lines "
        "separate paragraphs.",
    )
    adjudicators = ReviewerChoiceField(
        label="Adjudicators",
        queryset=User.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Reviewers who may resolve conflicts. Leads always may.",
    )

    def __init__(self, *args, review, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the review's reviewers are offered, and only they pass validation; the
        # service checks membership again when it saves.
        field = self.fields["adjudicators"]
        field.queryset = User.objects.filter(
            memberships__review=review, memberships__role=Role.REVIEWER
        ).order_by("name", "email", "pk")
        # Read the reviewers once (rendering a queryset's choices queries on every pass).
        field.choices = [(user.pk, field.label_from_instance(user)) for user in field.queryset]
        self.has_reviewers = bool(field.choices)

    @classmethod
    def initial_for(cls, config):
        return {
            "reviewers_per_record": config.reviewers_per_record,
            "blind": config.blind,
            "eligibility_criteria": config.eligibility_criteria,
            "adjudicators": [user.pk for user in config.adjudicators.all()],
        }


class ReasonTextForm(forms.Form):
    """Rename a reason (the page labels each row's field with the reason it renames)."""

    text = forms.CharField(label="New wording", max_length=REASON_MAX_LENGTH)


class ReasonAddForm(forms.Form):
    text = forms.CharField(
        label="New exclusion reason",
        max_length=REASON_MAX_LENGTH,
        help_text="As reviewers will see it when they exclude a report at full text. It is "
        "added at the end of the list.",
    )


class ReasonMoveForm(forms.Form):
    direction = forms.ChoiceField(choices=[("up", "Up"), ("down", "Down")])


def _lines(value):
    return [line for line in value.splitlines() if line.strip()]


class ReasonListForm(forms.Form):
    """The whole list as text, one reason per line."""

    lines = forms.CharField(
        label="Exclusion reasons, one per line",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text="The order of the lines is the order of the list. A line you leave as it "
        "is keeps its reason (and the decisions that use it); a line you remove removes its "
        "reason, which is refused for reasons already used. At most "
        f"{MAX_REASONS} reasons of {REASON_MAX_LENGTH} characters.",
    )

    def clean_lines(self):
        return _lines(self.cleaned_data["lines"])


TERMS_HELP = (
    "One term per line. A term can be a phrase; end a word with * to match every word that "
    "starts with it (stigma* matches stigmatising). Letter case is ignored and repeats are "
    f"kept once. At most {MAX_TERMS} terms in the two lists together, each of up to "
    f"{TERM_MAX_LENGTH} characters."
)


class HighlightTermsForm(forms.Form):
    include = forms.CharField(
        label="Include terms",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Words that suggest a record belongs in the review. " + TERMS_HELP,
    )
    exclude = forms.CharField(
        label="Exclude terms",
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Words that suggest a record does not belong. " + TERMS_HELP,
    )

    def _terms(self, name):
        try:
            return clean_terms(self.cleaned_data[name].splitlines())
        except SettingsError as exc:
            raise forms.ValidationError(str(exc)) from exc

    def clean_include(self):
        return self._terms("include")

    def clean_exclude(self):
        return self._terms("exclude")
