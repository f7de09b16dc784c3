"""Which records are in which stage's pool. Records enter title/abstract screening when they
survive deduplication; records found by other methods (experts, citation searching) go
straight to full text, as in PRISMA 2020's right-hand column."""

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from .models import ImportBatch, Record, RecordStage, Stage
from .models.decisions import StageStatus

# Multiplicative hashing spreads record ids over the key space: a fixed "random" order that
# costs nothing to compute and is the same for every reviewer.
ORDER_MULTIPLIER = 2654435761
ORDER_MODULUS = 2**31


def random_order_key(record_id):
    return (record_id * ORDER_MULTIPLIER) % ORDER_MODULUS


def entry_stage(batch_kind):
    return Stage.FT if batch_kind == ImportBatch.Kind.OTHER else Stage.TA


@transaction.atomic
def sync_pool(review):
    """Give every kept record without a stage row its first stage row; mark rows of records
    that were merged into another as merged. Returns how many rows were created."""
    missing = (
        Record.objects.filter(review=review, duplicate_of=None)
        .exclude(Exists(RecordStage.objects.filter(record=OuterRef("pk"))))
        .values_list("pk", "batch__kind")
    )
    rows = [
        RecordStage(review=review, record_id=pk, stage=entry_stage(kind),
                    order_key=random_order_key(pk))
        for pk, kind in missing.iterator(chunk_size=5000)
    ]  # fmt: skip
    RecordStage.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    merged = RecordStage.objects.filter(review=review, record__duplicate_of__isnull=False).exclude(
        status=StageStatus.MERGED
    )
    merged.update(status=StageStatus.MERGED, updated_at=timezone.now())
    return len(rows)
