"""A reviewer's next record.

A plain "first open record I have not decided" query slows down as the reviewer
progresses, because it rescans every record they decided that still awaits someone else.
Each reviewer has a cursor instead: the queue position they were last served. Records ahead
of it are almost all new to them, so the query stops after a few rows however far along
they are; when the queue runs out ahead, it wraps round once to pick up records behind the
cursor (skipped ones, or ones returned to the pool).
"""

from django.db import connection
from django.db.models import BigIntegerField, BooleanField, Exists, OuterRef, Subquery, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, Greatest

from .models import Decision, RecordStage, ScreenerCursor
from .models.decisions import OPEN_STATUSES

# Where a new cursor starts (ScreenerCursor.order_key's default): before every record.
QUEUE_START = -(2**62)


def _is_open():
    # The queue's index is partial (open rows only), and SQLite uses a partial index only
    # where the query states the index's condition literally: with the statuses passed as
    # parameters, as Django passes values, it read every open row of the review instead
    # (250 ms rather than 0.2 at 100,000 records).
    quote = connection.ops.quote_name
    statuses = ", ".join(f"'{status}'" for status in OPEN_STATUSES)
    sql = f"{quote(RecordStage._meta.db_table)}.{quote('status')} IN ({statuses})"
    return RawSQL(sql, (), output_field=BooleanField())  # noqa: S611 - our constants only


def _open_for(review, user, stage):
    mine = Decision.objects.filter(record_id=OuterRef("record_id"), stage=stage, reviewer=user)
    return (
        RecordStage.objects.filter(_is_open(), review=review, stage=stage)
        .exclude(Exists(mine))
        .order_by("order_key", "id")
    )


def next_record_stage(review, user, stage, *, after=None):
    """The next RecordStage (with its record) that still needs `user`, or None.

    `after` skips past a queue position (the "next" key moves on without deciding).
    """
    return _serve(review, user, stage, after=after, following=False)[0]


def next_record_stages(review, user, stage, *, after=None):
    """(row, following): what `next_record_stage` serves, and the record the queue will
    serve once `user` decides that one (what `record_stage_after(row)` gives), each None
    where there is none. Usually one query for both."""
    return _serve(review, user, stage, after=after, following=True)


def record_stage_after(review, user, stage, current):
    """The record the queue will serve once `user` decides `current` (a row it served),
    without moving the cursor: the next open row after it, wrapping round once."""
    rows = (
        _open_for(review, user, stage)
        .exclude(pk=current.pk)
        .select_related("record")
        .defer("record__raw")
    )
    return rows.filter(order_key__gte=current.order_key).first() or rows.first()


def _serve(review, user, stage, *, after, following):
    cursor = ScreenerCursor.objects.filter(review=review, user=user, stage=stage)
    # The cursor is read inside the query that walks the queue (one round trip, not two),
    # and comes back on each row to tell whether it has to move.
    cursor_key = Subquery(cursor.values("order_key")[:1], output_field=BigIntegerField())
    start = Coalesce(cursor_key, Value(QUEUE_START), output_field=BigIntegerField())
    if after is not None:
        start = Greatest(start, Value(after), output_field=BigIntegerField())
    candidates = (
        _open_for(review, user, stage)
        .select_related("record")
        # The source's own entry: never shown while screening, and it can be large.
        .defer("record__raw")
        .annotate(cursor_key=cursor_key)
    )
    rows = list(candidates.filter(order_key__gte=start)[:2])
    if not rows:
        # Nothing ahead: wrap round once, to skipped records or ones returned to the pool.
        rows = list(candidates[:2])
    elif len(rows) == 1 and following:
        # The last record ahead: the one after it lies behind the cursor, if anywhere.
        rows.append(candidates.exclude(pk=rows[0].pk).first())
    row = rows[0] if rows else None
    if row is not None and row.order_key != row.cursor_key:
        if row.cursor_key is None:
            _, created = ScreenerCursor.objects.get_or_create(
                review=review, user=user, stage=stage, defaults={"order_key": row.order_key}
            )
            if not created:  # made meanwhile by another request of theirs
                cursor.update(order_key=row.order_key)
        else:
            cursor.update(order_key=row.order_key)
    return row, (rows[1] if len(rows) > 1 else None)


def reset_cursors(review, stage=None):
    """After the queue order changes (re-ranking) or records return to the pool."""
    cursors = ScreenerCursor.objects.filter(review=review)
    if stage is not None:
        cursors = cursors.filter(stage=stage)
    cursors.update(order_key=QUEUE_START)
