"""Which records are in which stage's pool. Records enter title/abstract screening when they
survive deduplication; records found by other methods (experts, citation searching) go
straight to full text, as in PRISMA 2020's right-hand column."""

from django.db import connection, transaction
from django.utils import timezone

from .models import ImportBatch, Record, RecordStage, Stage
from .models.decisions import StageStatus

# Multiplicative hashing spreads record ids over the key space: a fixed "random" order that
# costs nothing to compute and is the same for every reviewer.
ORDER_MULTIPLIER = 2654435761
ORDER_MODULUS = 2**31
STAGE_ROW_COLUMNS = ("review_id", "record_id", "stage", "status", "decision_count", "order_key",
                     "updated_at")  # fmt: skip


def random_order_key(record_id):
    return (record_id * ORDER_MULTIPLIER) % ORDER_MODULUS


def order_key_sql(column, *, escaped=False):
    """random_order_key() of `column` as an SQL expression, for PostgreSQL and SQLite: the id
    reduced first, so the product fits in 64 bits. `escaped` doubles the % signs, for
    statements whose parameters are written %s."""
    percent = "%%" if escaped else "%"
    return f"(({column} {percent} {ORDER_MODULUS}) * {ORDER_MULTIPLIER}) {percent} {ORDER_MODULUS}"


@transaction.atomic
def sync_pool(review):
    """Give every kept record without a stage row its first stage row; mark rows of records
    that were merged into another as merged. Returns how many rows were created.

    One INSERT ... SELECT: after a 100,000-record import this runs inside the import's
    transaction, where building the rows in Python would cost seconds.
    """
    stage_table = RecordStage._meta.db_table
    record_table = Record._meta.db_table
    batch_table = ImportBatch._meta.db_table
    sql = f"""
        INSERT INTO {stage_table} ({", ".join(STAGE_ROW_COLUMNS)})
        SELECT r.review_id, r.id,
               CASE WHEN b.kind = %s THEN %s ELSE %s END,
               %s, 0, {order_key_sql("r.id", escaped=True)}, %s
        FROM {record_table} r JOIN {batch_table} b ON b.id = r.batch_id
        WHERE r.review_id = %s AND r.duplicate_of_id IS NULL
          AND NOT EXISTS (SELECT 1 FROM {stage_table} s WHERE s.record_id = r.id)
    """  # noqa: S608 - table names and constants are ours; values are parameters
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                ImportBatch.Kind.OTHER,
                Stage.FT,
                Stage.TA,
                StageStatus.AWAITING,
                timezone.now(),
                review.pk,
            ],
        )
        created = cursor.rowcount
    merged = RecordStage.objects.filter(review=review, record__duplicate_of__isnull=False).exclude(
        status=StageStatus.MERGED
    )
    merged.update(status=StageStatus.MERGED, updated_at=timezone.now())
    return created


def first_stage(batch):
    """(stage, status) of a new kept record of `batch`: records found by other methods go
    straight to full-text screening."""
    stage = Stage.FT if batch.kind == ImportBatch.Kind.OTHER else Stage.TA
    return stage.value, StageStatus.AWAITING.value
