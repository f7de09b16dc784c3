"""Every view inside a review, for every persona: outsiders get 404, members whose role does
not allow the action get 403, anonymous visitors are sent to sign in, wrong methods get 405."""

import pytest
from django.urls import reverse

from reviewapp.models import Invitation, Membership, Role

from .factories import MembershipFactory

ALL = {"lead", "reviewer", "advisory"}
LEAD = {"lead"}


@pytest.fixture
def targets(review, personas):
    other = MembershipFactory(review=review, role=Role.REVIEWER)
    invitation = Invitation.objects.create(
        review=review,
        email="x@example.org",
        role=Role.REVIEWER,
        expires_at="2999-01-01T00:00Z",
    )
    return {"member_id": other.pk, "invitation_id": invitation.pk}


VIEWS = [
    # (method, url name, extra kwargs, POST data, roles allowed)
    ("get", "review_detail", [], {}, ALL),
    ("get", "review_settings", [], {}, LEAD),
    ("post", "review_settings", [], {"title": "Renamed"}, LEAD),
    ("get", "members", [], {}, LEAD),
    ("post", "members", [], {"email": "new@example.org", "role": "reviewer"}, LEAD),
    ("post", "member_role", ["member_id"], {"role": "advisory"}, LEAD),
    ("post", "member_remove", ["member_id"], {}, LEAD),
    ("post", "invitation_revoke", ["invitation_id"], {}, LEAD),
]


def _url(name, review, targets, extra):
    kwargs = {"slug": review.slug, **{k: targets[k] for k in extra}}
    return reverse(name, kwargs=kwargs)


@pytest.mark.parametrize("persona", ["lead", "reviewer", "advisory", "outsider"])
@pytest.mark.parametrize(("method", "name", "extra", "data", "allowed"), VIEWS)
def test_role_matrix(
    client_for, review, personas, targets, persona, method, name, extra, data, allowed
):
    client = client_for(personas[persona])
    url = _url(name, review, targets, extra)
    response = getattr(client, method)(url, data)
    if persona == "outsider":
        assert response.status_code == 404
    elif persona in allowed:
        assert response.status_code in (200, 302)
    else:
        assert response.status_code == 403


@pytest.mark.parametrize(("method", "name", "extra", "data", "allowed"), VIEWS)
def test_anonymous_is_sent_to_sign_in(client, review, targets, method, name, extra, data, allowed):
    url = _url(name, review, targets, extra)
    response = getattr(client, method)(url, data)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


@pytest.mark.parametrize(
    ("method", "name", "extra"),
    [
        ("post", "review_detail", []),
        ("delete", "members", []),
        ("get", "member_role", ["member_id"]),
        ("get", "member_remove", ["member_id"]),
        ("get", "invitation_revoke", ["invitation_id"]),
    ],
)
def test_wrong_method_is_405(client_for, review, lead, targets, method, name, extra):
    response = getattr(client_for(lead), method)(_url(name, review, targets, extra))
    assert response.status_code == 405


def test_forbidden_post_changes_nothing(client_for, review, lead, reviewer, targets):
    client_for(reviewer).post(_url("member_role", review, targets, ["member_id"]), {"role": "lead"})
    assert Membership.objects.get(pk=targets["member_id"]).role == Role.REVIEWER
    client_for(reviewer).post(_url("member_remove", review, targets, ["member_id"]))
    assert Membership.objects.filter(pk=targets["member_id"]).exists()


def test_outsider_cannot_tell_a_review_exists(client_for, outsider, review):
    existing = client_for(outsider).get(reverse("review_detail", args=[review.slug]))
    missing = client_for(outsider).get(reverse("review_detail", args=["no-such-review"]))
    assert existing.status_code == missing.status_code == 404
    assert existing.content == missing.content


def test_member_of_one_review_cannot_act_on_another(client_for, review, lead):
    other = MembershipFactory(role=Role.LEAD)
    response = client_for(lead).get(reverse("members", args=[other.review.slug]))
    assert response.status_code == 404
    # Nor can a lead reach another review's membership through their own review's URL.
    response = client_for(lead).post(reverse("member_remove", args=[review.slug, other.pk]))
    assert response.status_code == 404
    assert Membership.objects.filter(pk=other.pk).exists()
