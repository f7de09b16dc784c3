"""Writes to imports and duplicates. Views and tasks call these; they never set fields
like `duplicate_of` or a pair's status themselves."""

from django.db import transaction
from django.utils import timezone

from .decisions import refresh_status
from .importers.base import ImportFileError
from .importing import inspect_upload, max_upload_bytes
from .models import DuplicatePair, ImportBatch, Record, RecordStage
from .pool import sync_pool


class UploadRejected(ValueError):
    pass


def create_import_batch(
    *, review, user, upload, source, kind, search_date=None, search_string="", run=True
):
    """Store an upload as a batch and queue its import (or wait for its column mapping);
    with run=False the caller runs it (the import_records command does, synchronously).

    Raises UploadRejected with a message naming the file and the problem.
    """
    name = upload.name.rsplit("/", 1)[-1][:255]
    if upload.size > max_upload_bytes():
        raise UploadRejected(
            f"{name} is {upload.size / 1048576:.0f} MB, larger than the "
            f"{max_upload_bytes() // 1048576} MB limit for one file. Split the export into "
            "smaller files."
        )
    if upload.size == 0:
        raise UploadRejected(f"{name} is empty.")
    try:
        inspection = inspect_upload(upload.file, name)
    except ImportFileError as exc:
        raise UploadRejected(exc.message) from exc
    upload.seek(0)
    batch = ImportBatch(
        review=review, source=source, kind=kind, search_date=search_date,
        search_string=search_string, file_name=name, file_size=upload.size,
        file_format=inspection.file_format, encoding=inspection.encoding,
        column_mapping=inspection.mapping or None, imported_by=user,
        status=(ImportBatch.Status.MAPPING if inspection.needs_mapping
                else ImportBatch.Status.QUEUED),
    )  # fmt: skip
    batch.file.save(name, upload, save=False)
    batch.save()
    if run and batch.status == ImportBatch.Status.QUEUED:
        _enqueue(batch)
    return batch, inspection


def set_column_mapping(*, batch, mapping):
    """Save the user's column choices and queue the import."""
    claimed = ImportBatch.objects.filter(pk=batch.pk, status=ImportBatch.Status.MAPPING).update(
        column_mapping=mapping, status=ImportBatch.Status.QUEUED
    )
    if claimed:
        _enqueue(batch)
    return bool(claimed)


def _enqueue(batch):
    from .tasks import import_batch

    transaction.on_commit(lambda: import_batch.delay(batch_id=batch.pk))


@transaction.atomic
def decide_pair(*, pair, user, is_duplicate):
    """A person's decision on a queued pair. "Duplicate" merges the later record's cluster
    into the earlier one's; "not duplicate" keeps both."""
    pair = DuplicatePair.objects.select_for_update().get(pk=pair.pk)
    if pair.status != DuplicatePair.Status.PENDING:
        return pair
    if is_duplicate:
        _merge(pair.record_a_id, pair.record_b_id)
        sync_pool(pair.review)
    pair.status = (DuplicatePair.Status.CONFIRMED if is_duplicate
                   else DuplicatePair.Status.REJECTED)  # fmt: skip
    pair.decided_by = user
    pair.decided_at = timezone.now()
    pair.save(update_fields=["status", "decided_by", "decided_at"])
    return pair


def _root(record_id):
    return (
        Record.objects.filter(pk=record_id).values_list("duplicate_of_id", flat=True).get()
        or record_id
    )


def _merge(a_id, b_id):
    keep, drop = sorted((_root(a_id), _root(b_id)))
    if keep == drop:
        return
    # Everything that pointed at the dropped root follows it, so roots stay flat.
    Record.objects.filter(duplicate_of_id=drop).update(duplicate_of_id=keep)
    Record.objects.filter(pk=drop).update(duplicate_of_id=keep)


@transaction.atomic
def undo_merge(*, record, user):
    """Make a merged record stand on its own again. Its screening decisions stay with it."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    root = record.duplicate_of_id
    if root is None:
        return record
    record.duplicate_of = None
    record.save(update_fields=["duplicate_of"])
    # Its stage rows come back with the status its own decisions give; none: it joins.
    for row in RecordStage.objects.select_for_update().filter(record=record):
        refresh_status(row)
    sync_pool(record.review)
    DuplicatePair.objects.filter(
        status__in=[DuplicatePair.Status.MERGED, DuplicatePair.Status.CONFIRMED],
        record_a_id__in=[record.pk, root],
        record_b_id__in=[record.pk, root],
    ).update(status=DuplicatePair.Status.UNDONE, decided_by=user, decided_at=timezone.now())
    return record
