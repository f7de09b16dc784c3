"""The import pipeline: read an uploaded export, store its entries as records, deduplicate.

A file imports completely or not at all: every write happens in one transaction, and any
problem (ImportFileError from a parser, or anything unexpected) rolls it back. Entries are
streamed and written in chunks, so memory stays bounded however large the file is.
"""

import json
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .dedup import AUTO_MERGE_THRESHOLD, blocking_keys, find_pairs, prepare
from .importers import bibtex, endnote_xml, pubmed, ris, tabular, wos
from .importers.base import ImportFileError
from .importers.decode import detect_encoding, open_text
from .importers.detect import detect_format
from .importers.normalise import normalise_entry
from .models import DuplicatePair, ImportBatch, Record
from .pool import sync_pool

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
TEXT_PARSERS = {
    "ris": ris.parse,
    "pubmed": pubmed.parse,
    "wos": wos.parse,
    "wos-tab": wos.parse_tab,
    "endnote-xml": endnote_xml.parse,
    "bibtex": bibtex.parse,
}
TABULAR = {"csv", "tsv", "xlsx"}
KEY_FIELDS = ("key_doi", "key_pmid", "key_title", "key_alt")
RECORD_FIELDS = (
    "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi",
    "pmid", "url", "keywords", "language", "publication_type",
)  # fmt: skip
DEDUP_FIELDS = ("title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
                "doi", "pmid", "publication_type")  # fmt: skip
SKIP_REASON = "no title and no abstract"


@dataclass
class Inspection:
    """What an upload turned out to be, before anything is imported."""

    file_format: str
    encoding: str = ""
    columns: list = field(default_factory=list)
    mapping: dict = field(default_factory=dict)

    @property
    def needs_mapping(self):
        return self.file_format in TABULAR and tabular.needs_mapping(self.mapping)


def inspect_upload(binary, filename):
    """Recognise the format from the content; for spreadsheets, read the columns and guess
    which holds what. Raises ImportFileError naming the problem."""
    binary.seek(0)
    first_bytes = binary.read(8)
    binary.seek(0)
    if first_bytes.startswith(b"PK\x03\x04"):
        fmt, encoding = detect_format("", filename, first_bytes), ""
    else:
        encoding = detect_encoding(binary)
        binary.seek(0)
        head = binary.read(65536).decode(encoding, errors="replace")
        binary.seek(0)
        fmt = detect_format(head.lstrip("\ufeff"), filename, first_bytes)
    inspection = Inspection(file_format=fmt, encoding=encoding)
    if fmt in TABULAR:
        with _source(binary, fmt, filename) as source:
            inspection.columns = tabular.read_columns(source, fmt=fmt, filename=filename)
        inspection.mapping = tabular.suggest_mapping(inspection.columns)
    return inspection


class _source:
    """The stream a parser reads: text (universal newlines) or, for XLSX, the binary file.
    Detaching on exit leaves the underlying file open for its owner to close."""

    def __init__(self, binary, fmt, filename):
        self.binary, self.fmt, self.filename = binary, fmt, filename
        self.text = None

    def __enter__(self):
        self.binary.seek(0)
        if self.fmt == "xlsx":
            return self.binary
        self.text, _ = open_text(self.binary, filename=self.filename)
        return self.text

    def __exit__(self, *exc):
        if self.text is not None:
            self.text.detach()


def _entries(source, batch):
    fmt, name = batch.file_format, batch.file_name
    if fmt in TABULAR:
        return tabular.parse(source, filename=name, fmt=fmt, mapping=batch.column_mapping)
    return TEXT_PARSERS[fmt](source, filename=name)


def _progress_key(batch_id):
    return f"import-progress:{batch_id}"


def read_progress(batch_id):
    return cache.get(_progress_key(batch_id))


def run_import(batch):
    """Import `batch.file` into `batch.review`. Returns the batch with its summary filled in.

    On failure the batch is marked failed with the parser's message and nothing is written.
    """
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.RUNNING, started_at=timezone.now(), error=""
    )
    try:
        with batch.file.open("rb") as binary, transaction.atomic():
            summary = _import(batch, binary)
    except ImportFileError as exc:
        return _fail(batch, exc.message)
    except UnicodeDecodeError as exc:
        return _fail(
            batch,
            f"{batch.file_name}: the text encoding could not be read ({exc.reason}"
            f" at byte {exc.start}). Save the file as UTF-8 and try again.",
        )
    except Exception:
        logger.exception("Import of batch %s failed unexpectedly", batch.pk)
        _fail(
            batch,
            f"{batch.file_name}: the import failed unexpectedly and nothing was "
            "imported. The error has been logged; please tell the team.",
        )
        raise
    finally:
        cache.delete(_progress_key(batch.pk))
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.DONE, finished_at=timezone.now(), **summary
    )
    batch.refresh_from_db()
    return batch


def _fail(batch, message):
    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.FAILED,
        finished_at=timezone.now(),
        error=message,
        entries_read=0,
        records_added=0,
        duplicates_merged=0,
        pairs_queued=0,
        skipped=[],
    )
    batch.refresh_from_db()
    return batch


def _import(batch, binary):
    # The first write of the transaction: on SQLite it takes the write lock that
    # RecordWriter relies on when it assigns ids.
    ImportBatch.objects.filter(pk=batch.pk).update(entries_read=0)
    size = batch.file_size or 1
    writer = RecordWriter(batch)
    deduper = ChunkDeduplicator(batch.review_id)
    entries_read = 0
    skipped = []
    with _source(binary, batch.file_format, batch.file_name) as source:
        for entry in _entries(source, batch):
            entries_read += 1
            normalise_entry(entry)
            if entry.is_empty:
                skipped.append(
                    {
                        "position": entry.position,
                        "line": entry.line,
                        "source_id": entry.source_id,
                        "reason": SKIP_REASON,
                    }
                )
                continue
            writer.add(entry)
            if writer.pending >= CHUNK_SIZE:
                deduper.process(writer.flush())
                _report(batch.pk, entries_read, binary.tell() / size)
        deduper.process(writer.flush())
    # New records join the screening pool in the same transaction: all or nothing.
    sync_pool(batch.review)
    return {
        "entries_read": entries_read,
        "records_added": writer.written,
        "duplicates_merged": deduper.merged,
        "pairs_queued": deduper.queued,
        "skipped": skipped,
    }


def _report(batch_id, entries, fraction):
    cache.set(
        _progress_key(batch_id), {"entries": entries, "fraction": min(fraction, 0.99)}, timeout=3600
    )


class RecordWriter:
    """Collects entries and writes them in chunks: COPY on PostgreSQL (about 3x faster than
    bulk_create for this), bulk_create elsewhere. Returns the written rows for dedup."""

    def __init__(self, batch):
        self.batch = batch
        self.rows = []
        self.written = 0
        self.next_id = None

    @property
    def pending(self):
        return len(self.rows)

    def add(self, entry):
        values = {name: getattr(entry, name) for name in RECORD_FIELDS}
        fields = prepare(values)
        keys = blocking_keys(fields)
        self.rows.append((entry, values, fields, keys))

    def flush(self):
        """Write the collected rows; return [(id, DedupFields, keys)] for deduplication."""
        rows, self.rows = self.rows, []
        if not rows:
            return []
        postgres = connection.vendor == "postgresql"
        ids = self._copy(rows) if postgres else self._insert(rows)
        self.written += len(rows)
        return [(pk, fields, keys) for pk, (_, _, fields, keys) in zip(ids, rows, strict=True)]

    def _insert(self, rows):
        """Plain executemany: the ORM's per-object work costs more than the insert itself
        at this scale. Ids are assigned here; the caller holds SQLite's write lock (the
        batch row was updated first in the same transaction), so nobody else inserts."""
        table = Record._meta.db_table
        if self.next_id is None:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
                self.next_id = cursor.fetchone()[0] + 1
        ids = list(range(self.next_id, self.next_id + len(rows)))
        self.next_id += len(rows)
        columns = ", ".join(self.COPY_COLUMNS)
        marks = ", ".join(["%s"] * len(self.COPY_COLUMNS))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                [self._values(pk, row) for pk, row in zip(ids, rows, strict=True)],
            )
        return ids

    COPY_COLUMNS = ("id", "review_id", "batch_id", "position", "source_id", *RECORD_FIELDS,
                    "raw", *KEY_FIELDS)  # fmt: skip
    JSON_COLUMNS = {"authors", "keywords", "raw"}

    def _copy(self, rows):
        table = Record._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns = ", ".join(self.COPY_COLUMNS)
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:  # noqa: S608
                for pk, row in zip(ids, rows, strict=True):
                    copy.write_row(self._values(pk, row))
        return ids

    def _values(self, pk, row):
        entry, values, _, keys = row
        return (
            pk, self.batch.review_id, self.batch.pk, entry.position, entry.source_id,
            *(_json(values[n]) if n in self.JSON_COLUMNS else _text(values[n])
              for n in RECORD_FIELDS),
            _encode_json(entry.raw),
            *(keys[k] for k in KEY_FIELDS),
        )  # fmt: skip


# One encoder for the whole import: json.dumps builds a new one per call when given options.
_encode_json = json.JSONEncoder(ensure_ascii=False, default=str).encode


def _json(value):
    return _encode_json(value)


def _text(value):
    # PostgreSQL text cannot hold NUL characters, which do turn up in broken exports.
    return value.replace("\x00", "") if isinstance(value, str) else value


class ChunkDeduplicator:
    """Deduplicates each written chunk against the review's records that share a blocking
    key with it (earlier chunks of the same file included), never the whole review."""

    def __init__(self, review_id):
        self.review_id = review_id
        self.merged = 0
        self.queued = 0

    def process(self, items):
        if not items:
            return
        existing, roots = self._candidates(items)
        pairs = find_pairs(items, existing)
        if not pairs:
            return
        new_ids = {pk for pk, _, _ in items}
        parent = {}

        def find(pk):
            root = roots.get(pk, pk)
            while root in parent:
                root = parent[root]
            return root

        # Groups linked by a vetoed pair must not be joined through a third record with few
        # details (A~B and B~C merge, but not when A and C have different DOIs).
        cannot = defaultdict(set)
        for a, b, result in pairs:
            if result.vetoes:
                cannot[find(a)].add(find(b))
                cannot[find(b)].add(find(a))
        merges = []
        for a, b, result in sorted(pairs, key=lambda p: (-p[2].score, p[0], p[1])):
            if result.score < AUTO_MERGE_THRESHOLD or result.vetoes:
                continue
            ra, rb = find(a), find(b)
            # Two groups that already existed were judged distinct before; a new record
            # that resembles both must not fuse them, so such pairs go to a person.
            if ra == rb or rb in cannot[ra] or (ra not in new_ids and rb not in new_ids):
                continue
            keep, drop = sorted((ra, rb), key=lambda r: (r in new_ids, r))
            parent[drop] = keep
            for other in cannot.pop(drop, ()):
                cannot[other].discard(drop)
                cannot[other].add(keep)
                cannot[keep].add(other)
            merges.append((a, b, result))
        updates = [(find(pk), pk) for pk in new_ids if find(pk) != pk]
        if updates:
            table = Record._meta.db_table
            with connection.cursor() as cursor:
                sql = f"UPDATE {table} SET duplicate_of_id = %s WHERE id = %s"  # noqa: S608
                cursor.executemany(sql, updates)
        self.merged += len(updates)
        self._store_pairs(merges, DuplicatePair.Status.MERGED)
        # One decision per pair of groups: the best-scoring pair stands for the rest.
        queue = {}
        for a, b, result in pairs:
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            group_pair = (min(ra, rb), max(ra, rb))
            if group_pair not in queue or result.score > queue[group_pair][2].score:
                queue[group_pair] = (a, b, result)
        self.queued += self._store_pairs(queue.values(), DuplicatePair.Status.PENDING)

    def _candidates(self, items):
        from django.db.models import Q

        condition = Q()
        for key in KEY_FIELDS:
            values = {keys[key] for _, _, keys in items if keys[key]}
            if values:
                condition |= Q(**{f"{key}__in": values})
        if not condition:
            return [], {}
        rows = (
            Record.objects.filter(condition, review_id=self.review_id)
            .exclude(pk__in=[pk for pk, _, _ in items])
            .values("pk", "duplicate_of_id", *DEDUP_FIELDS, *KEY_FIELDS)
        )
        existing, roots = [], {}
        for row in rows:
            keys = {k: row[k] for k in KEY_FIELDS}
            existing.append((row["pk"], prepare(row), keys))
            roots[row["pk"]] = row["duplicate_of_id"] or row["pk"]
        return existing, roots

    def _store_pairs(self, pairs, status):
        objs = [
            DuplicatePair(
                review_id=self.review_id,
                record_a_id=min(a, b),
                record_b_id=max(a, b),
                score=round(r.score, 4),
                vetoes=list(r.vetoes),
                explanation=r.explanation[:500],
                status=status,
            )
            for a, b, r in pairs
        ]
        DuplicatePair.objects.bulk_create(objs, batch_size=500, ignore_conflicts=True)
        return len(objs)


def max_upload_bytes():
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
