from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.urls import reverse

from reviewapp.models import Review


def require_two_factor(review):
    Review.objects.filter(pk=review.pk).update(require_two_factor=True)


def test_member_without_two_factor_is_sent_to_set_it_up(client_for, review, reviewer):
    require_two_factor(review)
    response = client_for(reviewer).get(review.get_absolute_url(), follow=True)
    assert response.redirect_chain[0] == (reverse("mfa_activate_totp"), 302)
    assert "requires two-factor authentication" in response.content.decode()


def test_member_with_two_factor_opens_the_review(client_for, review, reviewer):
    require_two_factor(review)
    TOTP.activate(reviewer, generate_totp_secret())
    assert Authenticator.objects.filter(user=reviewer).exists()
    assert client_for(reviewer).get(review.get_absolute_url()).status_code == 200


def test_requirement_is_per_review(client_for, review, reviewer):
    from .factories import MembershipFactory

    other = MembershipFactory(user=reviewer).review
    require_two_factor(review)
    client = client_for(reviewer)
    assert client.get(other.get_absolute_url()).status_code == 200
    assert client.get(review.get_absolute_url()).status_code == 302


def test_outsider_still_gets_404_not_a_hint(client_for, review, outsider):
    require_two_factor(review)
    assert client_for(outsider).get(review.get_absolute_url()).status_code == 404


def test_user_can_turn_on_totp_through_the_page(client, reviewer):
    from allauth.mfa.totp.internal.auth import hotp_value, yield_hotp_counters_from_time

    from .factories import PASSWORD

    client.post(reverse("account_login"), {"login": reviewer.email, "password": PASSWORD})
    # allauth asks for the password again before two-factor settings change.
    assert client.get(reverse("mfa_activate_totp"))["Location"].startswith(
        reverse("account_reauthenticate")
    )
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    secret = client.session["mfa.totp.secret"]
    # Any counter in the tolerance window will do; the middle one is "now".
    counters = list(yield_hotp_counters_from_time())
    code = f"{hotp_value(secret, counters[len(counters) // 2]):06d}"
    client.post(reverse("mfa_activate_totp"), {"code": code})
    assert Authenticator.objects.filter(user=reviewer, type=Authenticator.Type.TOTP).exists()
