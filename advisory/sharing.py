"""The lead's writes that prepare what the Advisory Group sees: the plain-language summary,
each theme's plain wording and whether it is shared, and the excerpts shared under a theme
(their order, content notes and redactions).

Views call these and nothing else to change those rows. Changes to a theme's plain title or
description are recorded in its history (coding.revisions.record_change).
"""

from django.db import transaction
from django.db.models import Exists, Max, OuterRef
from django.utils import timezone

from coding.codebook import descendant_ids
from coding.models import Excerpt, ExcerptCode
from coding.revisions import record_change

from .models import SharedExcerpt, SharedTheme
from .redaction import add_redaction

PLAIN_FIELDS = ("plain_title", "plain_description")


class SharingError(ValueError):
    """A change that cannot be made; the message says why, for the lead."""


def _lock_theme(pk):
    # One share or move at a time per theme, so excerpt positions stay dense and distinct.
    list(SharedTheme.objects.select_for_update().filter(pk=pk).values_list("pk", flat=True))


def _text(value):
    # Browsers send a textarea's line breaks as CRLF; stored as LF, an unchanged description
    # compares equal to what was saved before and leaves no empty revision.
    return value.replace("\r\n", "\n").replace("\r", "\n").strip()


def update_summary(*, space, user, summary):
    space.summary = _text(summary)
    space.updated_by = user
    space.updated_at = timezone.now()
    space.save(update_fields=["summary", "updated_by", "updated_at"])
    return space


def shared_theme_for(theme):
    """The SharedTheme of a top-level code, made (unshared, with no plain wording) on first
    use. Its position stays 0, so the codebook's order of themes decides the group's order."""
    shared_theme, _ = SharedTheme.objects.get_or_create(
        theme=theme, defaults={"review_id": theme.review_id}
    )
    shared_theme.theme = theme  # already loaded; spares callers a query
    return shared_theme


@transaction.atomic
def update_shared_theme(*, shared_theme, user, plain_title, plain_description, content_note,
                        shared, reason=""):  # fmt: skip
    """Save the theme's plain wording, content note and sharing. A change to the plain title
    or description leaves a ThemeRevision (with `reason`); returns it, or None.

    `shared_at` is when the theme was last made visible: set when sharing starts, kept while
    it stays shared, cleared when sharing stops."""
    # Locked and re-read, so the revision's "before" is what was really replaced even when
    # two leads save at once.
    locked = (
        SharedTheme.objects.select_for_update(of=("self",))
        .select_related("theme")
        .get(pk=shared_theme.pk)
    )
    new = {"plain_title": plain_title.strip(), "plain_description": _text(plain_description)}
    before = {key: getattr(locked, key) for key in PLAIN_FIELDS if getattr(locked, key) != new[key]}
    after = {key: new[key] for key in before}

    locked.plain_title = new["plain_title"]
    locked.plain_description = new["plain_description"]
    locked.content_note = content_note.strip()
    if shared and not locked.shared:
        locked.shared_at = timezone.now()
    elif not shared:
        locked.shared_at = None
    locked.shared = shared
    locked.save(update_fields=[*PLAIN_FIELDS, "content_note", "shared", "shared_at"])
    revision = record_change(
        theme=locked.theme, user=user, reason=reason, before=before, after=after
    )
    for field in (*PLAIN_FIELDS, "content_note", "shared", "shared_at"):
        setattr(shared_theme, field, getattr(locked, field))
    return revision


def theme_excerpts(shared_theme):
    """Every coder's excerpts carrying the theme or a code beneath it."""
    ids = descendant_ids(shared_theme.theme)
    return Excerpt.objects.filter(review_id=shared_theme.review_id).filter(
        Exists(ExcerptCode.objects.filter(excerpt=OuterRef("pk"), code_id__in=ids))
    )


@transaction.atomic
def share_excerpt(*, shared_theme, excerpt_id, user):
    """Share one of the theme's excerpts, last in the theme's order. Sharing it again is
    harmless: returns (the SharedExcerpt, whether it was made now)."""
    _lock_theme(shared_theme.pk)
    if not theme_excerpts(shared_theme).filter(pk=excerpt_id).exists():
        raise SharingError("That excerpt is not coded under this theme.")
    existing = SharedExcerpt.objects.filter(shared_theme=shared_theme, excerpt_id=excerpt_id)
    if found := existing.first():
        return found, False
    top = SharedExcerpt.objects.filter(shared_theme=shared_theme).aggregate(n=Max("position"))
    shared = SharedExcerpt.objects.create(
        shared_theme=shared_theme,
        excerpt_id=excerpt_id,
        shared_by=user,
        position=0 if top["n"] is None else top["n"] + 1,
    )
    return shared, True


def update_shared_excerpt(*, shared_excerpt, content_note):
    shared_excerpt.content_note = content_note.strip()
    shared_excerpt.save(update_fields=["content_note"])
    return shared_excerpt


@transaction.atomic
def redact(*, shared_excerpt, quote, replacement="", occurrence=None):
    """advisory.redaction.add_redaction, one at a time per excerpt: its overlap check reads
    the existing redactions, and two at once could both pass it. Raises RedactionError."""
    locked = (
        SharedExcerpt.objects.select_for_update()
        .select_related("excerpt")
        .get(pk=shared_excerpt.pk)
    )
    return add_redaction(
        shared_excerpt=locked, quote=quote, replacement=replacement, occurrence=occurrence
    )


def remove_redaction(*, redaction):
    redaction.delete()


@transaction.atomic
def unshare_excerpt(*, shared_excerpt):
    """Stop sharing an excerpt the group has not commented on. Deleting a SharedExcerpt
    deletes its comments, and members' words are not the lead's to throw away, so an
    excerpt with any comment (even a withdrawn one) stays; SharingError says why."""
    # On PostgreSQL a comment being written holds a key-share lock on this row, which this
    # waits for: no comment can land between the count and the delete.
    locked = SharedExcerpt.objects.select_for_update().filter(pk=shared_excerpt.pk).first()
    if locked is None:
        return
    comments = locked.comments.count()
    if comments:
        raise SharingError(
            f"The group has written {comments} comment{'s' if comments != 1 else ''} on this "
            "excerpt. Stopping sharing would delete them, so it stays shared. You can still "
            "remove more words from it or change its content note."
        )
    locked.delete()


@transaction.atomic
def move_shared_excerpt(*, shared_excerpt, direction):
    """Swap the excerpt with its neighbour "up" or "down" in the theme's order (positions
    are renumbered 0, 1, 2, ... on the way)."""
    _lock_theme(shared_excerpt.shared_theme_id)
    siblings = list(
        SharedExcerpt.objects.filter(shared_theme_id=shared_excerpt.shared_theme_id)
        .only("id", "position")
        .order_by("position", "id")
    )
    index = next((i for i, s in enumerate(siblings) if s.pk == shared_excerpt.pk), None)
    if index is None:
        raise SharingError("That excerpt is no longer shared.")
    if direction == "up":
        if index == 0:
            raise SharingError("That excerpt is already first.")
        other = index - 1
    elif direction == "down":
        if index == len(siblings) - 1:
            raise SharingError("That excerpt is already last.")
        other = index + 1
    else:
        raise SharingError("Choose up or down.")
    siblings[index], siblings[other] = siblings[other], siblings[index]
    changed = []
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            changed.append(sibling)
    SharedExcerpt.objects.bulk_update(changed, ["position"])


def set_visible(*, shared_excerpt, visible):
    """Show the quote to the group (after checking its redactions), or hide it again."""
    shared_excerpt.visible = visible
    shared_excerpt.save(update_fields=["visible"])
    return shared_excerpt
