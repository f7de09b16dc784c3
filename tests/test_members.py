import pytest
from django.core import mail
from django.urls import reverse

from reviewapp import services
from reviewapp.models import Invitation, Membership, Role

from .factories import MembershipFactory


def test_lead_invites_by_email_and_the_email_carries_the_link(
    client_for, review, lead, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(lead).post(
            reverse("members", args=[review.slug]),
            {"email": "New.Person@Example.org", "role": "advisory"},
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role, invitation.invited_by) == (
        "New.Person@Example.org",
        Role.ADVISORY,
        lead,
    )
    assert invitation.sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["New.Person@Example.org"]
    assert "Avoidable harm review" in message.subject
    assert "/invitations/" in message.body
    # The link in the email opens the invitation.
    path = message.body.split("http://127.0.0.1:8000", 1)[1].split()[0]
    page = client_for(None).get(path)
    assert page.status_code == 200
    assert "Advisory Group member" in page.content.decode()


def test_inviting_an_existing_member_is_refused(client_for, review, lead, reviewer):
    response = client_for(lead).post(
        reverse("members", args=[review.slug]), {"email": reviewer.email.upper(), "role": "lead"}
    )
    assert response.status_code == 400
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_invalid_email_is_refused(client_for, review, lead):
    response = client_for(lead).post(
        reverse("members", args=[review.slug]), {"email": "not-an-email", "role": "reviewer"}
    )
    assert response.status_code == 400
    assert not Invitation.objects.exists()


def test_reinviting_withdraws_the_earlier_invitation(client_for, review, lead):
    client = client_for(lead)
    for role in ("reviewer", "advisory"):
        client.post(
            reverse("members", args=[review.slug]), {"email": "a@example.org", "role": role}
        )
    first, second = Invitation.objects.order_by("pk")
    assert first.revoked_at is not None
    assert second.revoked_at is None and second.role == Role.ADVISORY


def test_lead_changes_a_role(client_for, review, lead, reviewer):
    membership = Membership.objects.get(user=reviewer)
    client_for(lead).post(
        reverse("member_role", args=[review.slug, membership.pk]), {"role": "lead"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.LEAD


def test_unknown_role_is_refused(client_for, review, lead, reviewer):
    membership = Membership.objects.get(user=reviewer)
    client_for(lead).post(
        reverse("member_role", args=[review.slug, membership.pk]), {"role": "owner"}
    )
    membership.refresh_from_db()
    assert membership.role == Role.REVIEWER


def test_lead_removes_a_member(client_for, review, lead, reviewer):
    membership = Membership.objects.get(user=reviewer)
    client_for(lead).post(reverse("member_remove", args=[review.slug, membership.pk]))
    assert not Membership.objects.filter(pk=membership.pk).exists()
    assert client_for(reviewer).get(review.get_absolute_url()).status_code == 404


def test_last_lead_cannot_be_removed_or_demoted(client_for, review, lead):
    membership = Membership.objects.get(user=lead)
    client = client_for(lead)
    response = client.post(reverse("member_remove", args=[review.slug, membership.pk]), follow=True)
    assert "last lead cannot be removed" in response.content.decode()
    client.post(reverse("member_role", args=[review.slug, membership.pk]), {"role": "reviewer"})
    membership.refresh_from_db()
    assert membership.role == Role.LEAD


def test_a_review_may_have_several_leads_and_one_may_leave(client_for, review, lead):
    second = MembershipFactory(review=review, role=Role.LEAD)
    mine = Membership.objects.get(user=lead)
    response = client_for(lead).post(reverse("member_remove", args=[review.slug, mine.pk]))
    assert response["Location"] == reverse("home")
    assert list(review.memberships.values_list("pk", flat=True)) == [second.pk]
    with pytest.raises(services.LastLeadError):
        services.remove_member(membership=second)


def test_lead_withdraws_an_invitation(client_for, review, lead):
    invitation = services.invite_member(
        review=review, email="w@example.org", role=Role.REVIEWER, invited_by=lead
    )
    client_for(lead).post(reverse("invitation_revoke", args=[review.slug, invitation.pk]))
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_members_page_query_count_is_pinned(
    client_for, review, lead, queries_of, django_assert_num_queries
):
    client = client_for(lead)
    url = reverse("members", args=[review.slug])
    with_one = queries_of(client, url)
    assert with_one <= 12
    MembershipFactory.create_batch(5, review=review)
    for n in range(4):
        services.invite_member(
            review=review, email=f"p{n}@example.org", role=Role.REVIEWER, invited_by=lead
        )
    with django_assert_num_queries(with_one):
        client.get(url)
