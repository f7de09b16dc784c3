from django import forms

from .models import Review, Role


class SignupDetailsForm(forms.Form):
    """Extra fields on allauth's sign-up form (ACCOUNT_SIGNUP_FORM_CLASS)."""

    name = forms.CharField(
        max_length=150,
        label="Your name",
        help_text="Shown to the other members of your reviews.",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )

    field_order = ["name"]

    def signup(self, request, user):
        user.name = self.cleaned_data["name"]
        user.save(update_fields=["name"])


class ReviewCreateForm(forms.ModelForm):
    slug = forms.SlugField(
        required=False,
        max_length=60,
        help_text="Short name used in the review's web address. Leave empty to make one "
        "from the title.",
    )

    class Meta:
        model = Review
        fields = ["title", "slug", "question", "description"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 5}),
        }

    def clean_slug(self):
        slug = self.cleaned_data["slug"]
        if slug and Review.objects.filter(slug=slug).exists():
            raise forms.ValidationError("Another review already uses this short name.")
        return slug


class ReviewSettingsForm(forms.ModelForm):
    class Meta:
        model = Review
        fields = ["title", "question", "description", "require_two_factor"]
        widgets = {
            "question": forms.Textarea(attrs={"rows": 3}),
            "description": forms.Textarea(attrs={"rows": 5}),
        }


class InvitationForm(forms.Form):
    email = forms.EmailField(label="Email address")
    role = forms.ChoiceField(choices=Role.choices, initial=Role.REVIEWER)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
