"""Account rules: sign-up is by invitation unless ACCOUNT_ALLOW_OPEN_SIGNUP is on."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core import context
from django import forms
from django.conf import settings

from .invitations import pending_invitation


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request):
        if settings.ACCOUNT_ALLOW_OPEN_SIGNUP:
            return True
        return pending_invitation(request) is not None

    def clean_email(self, email):
        email = super().clean_email(email)
        request = context.request
        if settings.ACCOUNT_ALLOW_OPEN_SIGNUP or request is None:
            return email
        invitation = pending_invitation(request)
        if invitation is not None and invitation.email.lower() != email.strip().lower():
            raise forms.ValidationError(
                f"This invitation is for {invitation.email}. Sign up with that address, "
                "or ask the review's lead to invite the address you want to use."
            )
        return email

    def is_email_verified(self, request, email):
        # Following the emailed invitation link proves the invitee owns that address.
        invitation = pending_invitation(request)
        if invitation is not None and invitation.email.lower() == email.lower():
            return True
        return super().is_email_verified(request, email)
