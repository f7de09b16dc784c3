"""Sign-in by email, verification, password reset and the rate limits' configuration."""

import importlib

from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse

from reviewapp.models import User

from .factories import PASSWORD, UserFactory


def test_sign_in_is_by_email(client, db):
    user = UserFactory(email="someone@example.org")
    response = client.post(
        reverse("account_login"), {"login": "someone@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)
    assert not hasattr(User, "username") or User.username is None


def test_wrong_password_does_not_sign_in(client, db):
    UserFactory(email="someone@example.org")
    response = client.post(
        reverse("account_login"), {"login": "someone@example.org", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session


def test_open_signup_sends_a_verification_email_and_waits_for_it(client, db, settings):
    settings.ACCOUNT_ALLOW_OPEN_SIGNUP = True
    client.post(
        reverse("account_signup"),
        {"name": "Vera", "email": "vera@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert EmailAddress.objects.get(email="vera@example.org").verified is False
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["vera@example.org"]
    assert "_auth_user_id" not in client.session
    client.post(reverse("account_login"), {"login": "vera@example.org", "password": PASSWORD})
    assert "_auth_user_id" not in client.session


def test_password_reset_emails_a_link(client, db):
    UserFactory(email="forgetful@example.org")
    client.post(reverse("account_reset_password"), {"email": "forgetful@example.org"})
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_rate_limits_are_on_outside_tests():
    base = importlib.import_module("reviewapp.settings.base")
    assert base.ACCOUNT_RATE_LIMITS["login_failed"]
    assert base.ACCOUNT_RATE_LIMITS["login"]
