from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from reviewapp import services
from reviewapp.invitations import make_token
from reviewapp.models import Invitation, Membership, Role, User

from .factories import PASSWORD, ReviewFactory, UserFactory


@pytest.fixture
def invitation(review, lead):
    return services.invite_member(
        review=review, email="invitee@example.org", role=Role.REVIEWER, invited_by=lead
    )


def accept_url(invitation):
    return reverse("invitation_accept", args=[make_token(invitation)])


def signup(client, email, name="New Person"):
    return client.post(
        reverse("account_signup"),
        {"name": name, "email": email, "password1": PASSWORD, "password2": PASSWORD},
    )


def test_open_signup_is_off_by_default(client, db):
    response = client.get(reverse("account_signup"))
    assert "Sign Up Closed" in response.content.decode()
    signup(client, "walkin@example.org")
    assert not User.objects.filter(email="walkin@example.org").exists()


def test_open_signup_setting_turns_it_on(client, db, settings):
    settings.ACCOUNT_ALLOW_OPEN_SIGNUP = True
    signup(client, "walkin@example.org")
    assert User.objects.filter(email="walkin@example.org").exists()


def test_invitee_signs_up_with_the_invited_address_and_joins(client, invitation):
    url = accept_url(invitation)
    client.get(url)
    response = signup(client, "invitee@example.org", name="Ina Invitee")
    user = User.objects.get(email="invitee@example.org")
    assert user.name == "Ina Invitee"
    # The invitation proved the address: no verification email stands in the way.
    assert user.emailaddress_set.get().verified is True
    assert response.status_code == 302
    response = client.post(url)
    assert response["Location"] == invitation.review.get_absolute_url()
    membership = Membership.objects.get(user=user)
    invitation.refresh_from_db()
    assert (membership.review, membership.role) == (invitation.review, Role.REVIEWER)
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (user, True)


def test_invitation_does_not_open_signup_for_another_address(client, invitation):
    client.get(accept_url(invitation))
    response = signup(client, "someone.else@example.org")
    assert "This invitation is for invitee@example.org" in response.content.decode()
    assert not User.objects.filter(email="someone.else@example.org").exists()


def test_existing_user_signs_in_and_accepts(client, invitation):
    user = UserFactory(email="invitee@example.org")
    client.force_login(user)
    client.post(accept_url(invitation))
    assert Membership.objects.filter(user=user, review=invitation.review).exists()


def test_signed_in_as_a_different_address_cannot_accept(client, invitation):
    other = UserFactory(email="other@example.org")
    client.force_login(other)
    page = client.get(accept_url(invitation)).content.decode()
    assert "you are signed in as other@example.org" in page
    response = client.post(accept_url(invitation))
    assert response.status_code == 400
    assert not Membership.objects.filter(user=other).exists()


def test_invitation_is_single_use(client, invitation):
    user = UserFactory(email="invitee@example.org")
    client.force_login(user)
    client.post(accept_url(invitation))
    Membership.objects.filter(user=user).update(role=Role.ADVISORY)
    response = client.post(accept_url(invitation))
    assert response.status_code == 410
    assert "already been used" in response.content.decode()
    assert Membership.objects.get(user=user).role == Role.ADVISORY


def test_expired_invitation_is_refused(client, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    response = client.get(accept_url(invitation))
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_token_older_than_max_age_is_refused(client, invitation, settings):
    settings.INVITATION_MAX_AGE_DAYS = 0
    response = client.get(accept_url(invitation))
    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_withdrawn_invitation_is_refused(client, invitation):
    services.revoke_invitation(invitation)
    response = client.get(accept_url(invitation))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()
    # Nor does it open sign-up any more.
    signup(client, "invitee@example.org")
    assert not User.objects.filter(email="invitee@example.org").exists()


def test_tampered_token_is_refused(client, invitation):
    other_review = ReviewFactory()
    forged = signing.dumps({"i": invitation.pk, "r": other_review.pk}, salt="wrong-salt")
    response = client.get(reverse("invitation_accept", args=[forged]))
    assert response.status_code == 410
    assert "not valid" in response.content.decode()


def test_token_is_scoped_to_its_review(invitation):
    from reviewapp.invitations import SALT, InvalidInvitation, read_token

    other_review = ReviewFactory()
    token = signing.dumps({"i": invitation.pk, "r": other_review.pk}, salt=SALT)
    with pytest.raises(InvalidInvitation):
        read_token(token)


def test_invitation_expiry_is_set_from_settings(invitation, settings):
    expected = invitation.created_at + timedelta(days=settings.INVITATION_MAX_AGE_DAYS)
    assert abs(invitation.expires_at - expected) < timedelta(seconds=5)
