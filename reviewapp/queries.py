"""Reads reused across reviewapp's pages."""

from django.db.models import Count

from .models import Invitation, Membership, Role


def members_of(review):
    return (
        Membership.objects.filter(review=review)
        .select_related("user")
        .order_by("role", "user__name", "user__email")
    )


def pending_invitations(review):
    from django.utils import timezone

    return Invitation.objects.filter(
        review=review, accepted_at=None, revoked_at=None, expires_at__gt=timezone.now()
    ).select_related("invited_by")


def role_counts(review):
    counts = dict(
        Membership.objects.filter(review=review)
        .order_by()
        .values_list("role")
        .annotate(n=Count("id"))
        .values_list("role", "n")
    )
    return [(label, counts.get(value, 0)) for value, label in Role.choices]


def review_standing(review, membership):
    """Where the review stands, stage by stage: a list of (stage, summary) pairs.

    Apps add their stages through reviewapp.standing (import, screening, coding, advisory).
    """
    from .standing import lines_for

    leads, reviewers, advisory = (n for _, n in role_counts(review))
    return [
        ("Team", f"{leads} lead(s), {reviewers} reviewer(s), {advisory} Advisory Group member(s)"),
        ("Pending invitations", str(pending_invitations(review).count())),
        *lines_for(review, membership),
    ]
