"""Who sees what of the Advisory Group's space.

Every member of the review may enter it. Advisory members see only what the lead shared:
shared themes, their shared excerpts (redacted), comments, meetings. Researchers see the
same pages (to reply) plus the lead's management pages. Nobody here sees an email address.
"""

from django.http import Http404

from reviewapp.access import get_review_for, is_lead, is_member
from reviewapp.models import Role

from .models import AdvisorySpace, SharedExcerpt, SharedTheme


def get_advisory_review(request, slug, need=is_member):
    """(review, membership, space) for a member, else 404/403."""
    review, membership = get_review_for(request, slug, need=need)
    space, _ = AdvisorySpace.objects.get_or_create(review=review)
    return review, membership, space


def sees_unshared(membership):
    """Researchers may see themes before they are shared (to prepare them)."""
    return membership.role in (Role.LEAD, Role.REVIEWER)


def visible_themes(review, membership):
    themes = SharedTheme.objects.filter(review=review).select_related("theme")
    if not sees_unshared(membership):
        themes = themes.filter(shared=True)
    return themes.order_by("position", "theme__position", "id")


def get_theme_for(review, membership, pk):
    theme = visible_themes(review, membership).filter(pk=pk).first()
    if theme is None:
        raise Http404("No such theme.")
    return theme


def visible_excerpts(theme, membership):
    excerpts = SharedExcerpt.objects.filter(shared_theme=theme)
    if not sees_unshared(membership):
        excerpts = excerpts.filter(visible=True)
    return excerpts


def get_shared_excerpt_for(theme, pk, membership):
    shared = visible_excerpts(theme, membership).filter(pk=pk).first()
    if shared is None:
        raise Http404("No such excerpt.")
    return shared


def can_respond(membership):
    return is_lead(membership)


ROLE_NAMES = {
    Role.LEAD: "Lead researcher",
    Role.REVIEWER: "Researcher",
    Role.ADVISORY: "Advisory Group member",
}


def public_names(review, user_ids):
    """{user id: the name others see}: the member's own name, or their role. Never any part
    of an email address (User.display_name falls back to one)."""
    from reviewapp.models import Membership

    rows = Membership.objects.filter(review=review, user_id__in=set(user_ids)).values_list(
        "user_id", "user__name", "role"
    )
    names = {uid: (name or ROLE_NAMES.get(role, "Member")) for uid, name, role in rows}
    for uid in user_ids:
        names.setdefault(uid, "A former member")
    return names
