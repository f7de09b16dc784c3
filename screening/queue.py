"""A reviewer's next record.

A plain "first open record I have not decided" query slows down as the reviewer
progresses, because it rescans every record they decided that still awaits someone else.
Each reviewer has a cursor instead: the queue position they were last served. Records ahead
of it are almost all new to them, so the query stops after a few rows however far along
they are; when the queue runs out ahead, it wraps round once to pick up records behind the
cursor (skipped ones, or ones returned to the pool).
"""

from django.db.models import Exists, OuterRef

from .models import Decision, RecordStage, ScreenerCursor
from .models.decisions import OPEN_STATUSES


def _open_for(review, user, stage):
    mine = Decision.objects.filter(record_id=OuterRef("record_id"), stage=stage, reviewer=user)
    return (
        RecordStage.objects.filter(review=review, stage=stage, status__in=OPEN_STATUSES)
        .exclude(Exists(mine))
        .order_by("order_key", "id")
    )


def next_record_stage(review, user, stage, *, after=None):
    """The next RecordStage (with its record) that still needs `user`, or None.

    `after` skips past a queue position (the "next" key moves on without deciding).
    """
    cursor, _ = ScreenerCursor.objects.get_or_create(review=review, user=user, stage=stage)
    start = cursor.order_key if after is None else max(cursor.order_key, after)
    candidates = _open_for(review, user, stage).select_related("record")
    row = candidates.filter(order_key__gte=start).first()
    if row is None:
        row = candidates.first()
    if row is not None and row.order_key != cursor.order_key:
        ScreenerCursor.objects.filter(pk=cursor.pk).update(order_key=row.order_key)
    return row


def reset_cursors(review, stage=None):
    """After the queue order changes (re-ranking) or records return to the pool."""
    cursors = ScreenerCursor.objects.filter(review=review)
    if stage is not None:
        cursors = cursors.filter(stage=stage)
    cursors.update(order_key=-(2**62))
