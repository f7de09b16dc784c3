"""Who may do what inside a review. Every view inside a review starts with `get_review_for`.

A non-member gets 404 (a review's existence is never revealed); a member whose role does not
allow the action gets 403. Role rules live in the named predicates below and nowhere else.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Membership, Role


class TwoFactorRequired(Exception):
    """Raised when a review demands two-factor and the member has not set it up;
    reviewapp.middleware turns it into a redirect to the set-up page."""

    def __init__(self, review):
        super().__init__(review.slug)
        self.review = review


def is_member(membership):
    return membership is not None


def is_lead(membership):
    return membership is not None and membership.role == Role.LEAD


def is_researcher(membership):
    """Leads and reviewers: the people who import, screen and code."""
    return membership is not None and membership.role in (Role.LEAD, Role.REVIEWER)


def can_see_member_emails(membership):
    # Advisory members never see other people's email addresses (GDPR, and the group's trust).
    return is_lead(membership)


def has_two_factor(user):
    from allauth.mfa.models import Authenticator

    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def get_review_for(request, slug, need=is_member, related=()):
    """Return (review, membership) for the signed-in user, or raise 404/403.

    `need` is one of the predicates above; the membership must satisfy it. `related`: the
    review's one-to-one relations (such as "screening") to fetch in the same query.
    """
    user = request.user
    if not user.is_authenticated:
        raise Http404("No such review.")
    memberships = Membership.objects.select_related(
        "review", *(f"review__{name}" for name in related)
    )
    try:
        # get(), not first(): one membership per user per review, and first() would sort
        # (Meta.ordering joins the user table) what is one row at most.
        membership = memberships.get(review__slug=slug, user=user)
    except Membership.DoesNotExist:
        raise Http404("No such review.") from None
    review = membership.review
    if review.require_two_factor and not has_two_factor(user):
        raise TwoFactorRequired(review)
    if not need(membership):
        raise PermissionDenied("Your role in this review does not allow this.")
    return review, membership


def posted(request):
    """The submitted data on POST, else None: an empty POST must still bind (and fail) a form."""
    return request.POST if request.method == "POST" else None
