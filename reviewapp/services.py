"""Every write to reviews, memberships and invitations goes through these functions."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from .models import Invitation, Membership, Review, Role
from .signals import researcher_left


class LastLeadError(ValueError):
    """A review must always keep at least one lead."""


class InvitationError(ValueError):
    pass


def unique_slug(title):
    base = slugify(title)[:50] or "review"
    slug, n = base, 2
    while Review.objects.filter(slug=slug).exists():
        slug = f"{base}-{n}"
        n += 1
    return slug


@transaction.atomic
def create_review(*, user, title, slug="", question="", description=""):
    review = Review.objects.create(
        title=title,
        slug=slug or unique_slug(title),
        question=question,
        description=description,
        created_by=user,
    )
    Membership.objects.create(review=review, user=user, role=Role.LEAD)
    return review


def invite_member(*, review, email, role, invited_by):
    """Create an invitation and send its link by email (through Celery, after commit)."""
    email = email.strip()
    if Membership.objects.filter(review=review, user__email__iexact=email).exists():
        raise InvitationError(f"{email} is already a member of this review.")
    with transaction.atomic():
        # A fresh invitation replaces any earlier pending one for the same address.
        Invitation.objects.filter(
            review=review, email__iexact=email, accepted_at=None, revoked_at=None
        ).update(revoked_at=timezone.now())
        invitation = Invitation.objects.create(
            review=review,
            email=email,
            role=role,
            invited_by=invited_by,
            expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
        )
        from .tasks import send_invitation_email

        transaction.on_commit(lambda: send_invitation_email.delay(invitation_id=invitation.pk))
    return invitation


def revoke_invitation(invitation):
    Invitation.objects.filter(pk=invitation.pk, accepted_at=None).update(revoked_at=timezone.now())


def accept_invitation(*, invitation, user):
    """Make `user` a member with the invited role. The address must be exactly the invited one.

    Single use: the claim on the row succeeds once, so a double submit cannot add twice.
    """
    if user.email.lower() != invitation.email.lower():
        raise InvitationError(
            f"This invitation was sent to {invitation.email}, but you are signed in as "
            f"{user.email}. Sign out and sign in with the invited address."
        )
    with transaction.atomic():
        claimed = Invitation.objects.filter(
            pk=invitation.pk,
            accepted_at=None,
            revoked_at=None,
            expires_at__gt=timezone.now(),
        ).update(accepted_at=timezone.now(), accepted_by=user)
        if claimed != 1:
            raise InvitationError("This invitation has already been used or is no longer valid.")
        membership, _ = Membership.objects.get_or_create(
            review=invitation.review, user=user, defaults={"role": invitation.role}
        )
    return membership


def _lock_leads(review):
    return list(
        Membership.objects.select_for_update()
        .filter(review=review, role=Role.LEAD)
        .values_list("pk", flat=True)
    )


RESEARCH_ROLES = (Role.LEAD, Role.REVIEWER)


@transaction.atomic
def change_role(*, membership, role):
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}.")
    leads = _lock_leads(membership.review)
    if membership.role == Role.LEAD and role != Role.LEAD and leads == [membership.pk]:
        raise LastLeadError("A review needs at least one lead: make someone else lead first.")
    was_researcher = membership.role in RESEARCH_ROLES
    membership.role = role
    membership.save(update_fields=["role"])
    if was_researcher and role not in RESEARCH_ROLES:
        researcher_left.send(sender=Membership, review=membership.review, user=membership.user)
    return membership


@transaction.atomic
def remove_member(*, membership):
    leads = _lock_leads(membership.review)
    if membership.role == Role.LEAD and leads == [membership.pk]:
        raise LastLeadError("The last lead cannot be removed: make someone else lead first.")
    membership.delete()
    if membership.role in RESEARCH_ROLES:
        researcher_left.send(sender=Membership, review=membership.review, user=membership.user)


def update_review(*, review, fields):
    for name, value in fields.items():
        setattr(review, name, value)
    review.save(update_fields=list(fields))
    return review
