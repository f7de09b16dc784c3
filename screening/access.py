"""Access to screening objects inside a review (see reviewapp.access for the rules)."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404

from reviewapp.access import get_review_for, is_lead, is_researcher

from .models import Record


def can_adjudicate(membership, config):
    """Leads resolve conflicts; so do reviewers the lead names as adjudicators."""
    if is_lead(membership):
        return True
    return is_researcher(membership) and config.adjudicators.filter(pk=membership.user_id).exists()


def get_record_for(request, slug, record_id, need=is_researcher):
    """(review, membership, record) for a record of the review, or 404/403."""
    review, membership = get_review_for(request, slug, need=need)
    record = get_object_or_404(Record.objects.select_related("batch"), pk=record_id,
                               review=review)  # fmt: skip
    return review, membership, record


def require(condition, message="Your role in this review does not allow this."):
    if not condition:
        raise PermissionDenied(message)
