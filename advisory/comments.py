"""Comments, their edits and withdrawals, and the lead's "you said, we did" responses.

Each comment is stored with the notifications it owes in one transaction; the emails go
after the commit (advisory.notifications), so a failed send never loses the comment, and a
comment that failed to save never sends anything.
"""

from django.db import transaction
from django.utils import timezone

from reviewapp.models import Membership, Role

from .models import Comment, CommentEdit, CommentResponse, Notification, Preference

MAX_LENGTH = 5000


class CommentError(ValueError):
    """A comment that cannot be saved; the message says why, in plain words."""


def _clean(body):
    body = (body or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise CommentError("Write something before sending.")
    if len(body) > MAX_LENGTH:
        raise CommentError(
            f"Your comment is {len(body):,} characters long. Please keep it under "
            f"{MAX_LENGTH:,}, or split it into two comments."
        )
    return body


def _wants_email(membership):
    try:
        frequency = membership.advisory_preference.frequency
    except Preference.DoesNotExist:
        frequency = Preference.Frequency.IMMEDIATE
    return frequency != Preference.Frequency.NONE


def _owed(comment):
    """The Notifications a new comment owes: its parent's author (a reply), and the leads
    (a new comment), never the author themselves."""
    owed = {}
    members = {
        m.user_id: m
        for m in Membership.objects.filter(review_id=comment.review_id).select_related(
            "advisory_preference"
        )
    }
    parent = comment.parent
    if parent is not None and parent.author_id and not parent.withdrawn:
        member = members.get(parent.author_id)
        if member and parent.author_id != comment.author_id and _wants_email(member):
            owed[parent.author_id] = Notification.Kind.REPLY
    for user_id, member in members.items():
        if member.role == Role.LEAD and user_id != comment.author_id and _wants_email(member):
            owed.setdefault(user_id, Notification.Kind.NEW_COMMENT)
    return [Notification(user_id=uid, comment=comment, kind=kind) for uid, kind in owed.items()]


@transaction.atomic
def post_comment(*, shared_theme, author, body, shared_excerpt=None, parent=None):
    body = _clean(body)
    if shared_excerpt is not None and shared_excerpt.shared_theme_id != shared_theme.pk:
        raise CommentError("That excerpt is not part of this theme.")
    if parent is not None:
        if parent.shared_theme_id != shared_theme.pk:
            raise CommentError("That comment is not part of this theme.")
        shared_excerpt = parent.shared_excerpt
    comment = Comment.objects.create(
        review_id=shared_theme.review_id,
        shared_theme=shared_theme,
        shared_excerpt=shared_excerpt,
        parent=parent,
        author=author,
        body=body,
    )
    notifications = Notification.objects.bulk_create(_owed(comment))
    ids = [n.pk for n in notifications if n.pk]
    if ids:
        from .notifications import queue_immediate

        transaction.on_commit(lambda: queue_immediate(ids))
    return comment


def _own(comment, user):
    if comment.author_id != user.pk:
        raise CommentError("You can only change your own comments.")
    if comment.withdrawn:
        raise CommentError("This comment has been withdrawn.")


@transaction.atomic
def edit_comment(*, comment, user, body):
    _own(comment, user)
    body = _clean(body)
    if body == comment.body:
        return comment
    CommentEdit.objects.create(comment=comment, body=comment.body)
    comment.body = body
    comment.edited_at = timezone.now()
    comment.save(update_fields=["body", "edited_at"])
    return comment


@transaction.atomic
def withdraw_comment(*, comment, user):
    """The comment's place in the thread stays (replies keep their context); its text, and
    every earlier version of it, are gone."""
    _own(comment, user)
    comment.edits.all().delete()
    comment.body = ""
    comment.withdrawn_at = timezone.now()
    comment.save(update_fields=["body", "withdrawn_at"])
    return comment


@transaction.atomic
def respond(*, comment, author, text, changed, revision=None):
    """Record (or update) what the team did about `comment`."""
    text = (text or "").strip()
    if not text:
        raise CommentError("Say what changed, or why nothing did.")
    if revision is not None and revision.review_id != comment.review_id:
        raise CommentError("That revision belongs to another review.")
    response, created = CommentResponse.objects.get_or_create(
        comment=comment,
        defaults={"author": author, "text": text, "changed": changed, "revision": revision},
    )
    if not created:
        response.author, response.text = author, text
        response.changed, response.revision = changed, revision
        response.updated_at = timezone.now()
        response.save()
    return response
