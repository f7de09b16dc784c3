"""Who sees what in the coding workspace.

Only researchers (leads and reviewers) code; Advisory Group members never see this
workspace (they get the curated view of the advisory pages). Coding is blind until the lead
opens comparison: before that, each coder sees only their own excerpts everywhere (document
view, code pages, matrices), so no one's coding leans on another's.
"""

from django.shortcuts import get_object_or_404

from reviewapp.access import get_review_for, is_lead, is_researcher

from .models import CodingConfig, Document


def coding_config(review):
    config, _ = CodingConfig.objects.get_or_create(review=review)
    return config


def get_coding_review(request, slug, need=is_researcher):
    """(review, membership, config) for a researcher of the review, else 404/403."""
    review, membership = get_review_for(request, slug, need=need)
    return review, membership, coding_config(review)


def sees_all_coding(membership, config):
    """Whether this member may see other coders' excerpts."""
    return config.comparison_open or is_lead(membership)


def coder_filter(request, membership, config):
    """The coder whose excerpts a page shows (None: everyone's). Blind coders see only
    their own; anyone may ask for "my coding only" with ?mine=1."""
    if not sees_all_coding(membership, config) or request.GET.get("mine") == "1":
        return request.user
    return None


def get_document_for(review, document_id):
    return get_object_or_404(Document.objects.select_related("study"), pk=document_id,
                             review=review)  # fmt: skip
