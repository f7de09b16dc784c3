"""The import pipeline: read an uploaded export, store its entries as records, deduplicate.

A file imports completely or not at all: every write happens in one transaction, and any
problem (ImportFileError from a parser, or anything unexpected) rolls it back. Entries are
streamed and written in chunks, so memory stays bounded however large the file is.

The work is shared (see screening.import_readers): a process of its own (a thread, for small
files) reads the file (decoding, parsing, normalising, blocking keys: pure Python), while the
caller's thread, which owns the database connection and the transaction, deduplicates and
stores the chunk read before, mostly in the database (SQLite without Python's GIL,
PostgreSQL in its own process).
"""

import functools
import gc
import itertools
import json
import logging
import sqlite3
import sys
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from .dedup import AUTO_MERGE_THRESHOLD, find_pairs, prepare
from .dedup.engine import shared_values
from .import_readers import EntryReader, ProcessEntryReader
from .importers import tabular
from .importers.base import ImportFileError
from .importers.decode import detect_encoding
from .importers.detect import detect_format
from .importers.rows import (
    COLUMNS,
    COPY_COLUMNS,
    COPY_NULL,
    KEY_FIELDS,
    TABULAR,
    encode_json,
    row_values,
    source,
    unwrap,
)
from .models import DuplicatePair, ImportBatch, Record, RecordStage
from .pool import STAGE_ROW_COLUMNS, first_stage, order_key_sql

logger = logging.getLogger(__name__)

CHUNK_SIZE = 2000
# pg_advisory_xact_lock(IMPORT_LOCK, review id): one import into a review at a time.
IMPORT_LOCK = 0x494D5054  # 'IMPT'
DEDUP_FIELDS = ("title", "abstract", "authors", "year", "journal", "volume", "issue", "pages",
                "doi", "pmid", "publication_type")  # fmt: skip
# The ids of a review's records whose `key` column holds one of an array of values ("NOT ..."
# lets the partial indexes of the DOI and PubMed ID keys serve).
PG_KEY_QUERY = (
    "SELECT r.id FROM unnest(%s::text[]) AS v(value) CROSS JOIN LATERAL (SELECT id FROM {table}"
    " WHERE review_id = (SELECT %s::bigint) AND {key} = v.value AND NOT ({key} = '')"
    " OFFSET 0) AS r"
)
SQLITE_KEY_QUERY = (
    "SELECT id FROM {table} WHERE review_id = ? AND {key} IN ({marks}) AND NOT ({key} = '')"
)
# The first stage rows of an array of kept records' ids (a JSON array on SQLite), as sync_pool
# would make them, in STAGE_ROW_COLUMNS order: the database makes the rows, each import chunk's
# as soon as it is deduplicated (a later chunk never merges an earlier one's records), so the
# pool grows while the file is still being read.
PG_STAGE_ROWS = (
    "INSERT INTO {table} ({columns}) SELECT %s, id, %s, %s, 0,"  # noqa: S608 (constants)
    f" {order_key_sql('id', escaped=True)}, %s FROM unnest(%s::bigint[]) AS id"
)
SQLITE_STAGE_ROWS = (
    "INSERT INTO {table} ({columns}) SELECT ?, value, ?, ?, 0,"  # noqa: S608 (constants)
    f" {order_key_sql('value')}, ? FROM json_each(?)"
)
# The PostgreSQL types of RecordWriter.PAIR_COLUMNS.
PAIR_ARRAY_TYPES = ("bigint", "bigint", "bigint", "float8", "jsonb", "text", "text", "timestamptz")
CANDIDATE_COLUMNS = ("id", "duplicate_of_id", *DEDUP_FIELDS, *KEY_FIELDS)
# Parameters per SQLite statement: about 400 records per INSERT. Fewer statements drop
# the GIL less often (see RecordWriter._insert); larger ones held 40 MB more memory.
SQLITE_PARAMS = 10_000
# Objects allocated between two collections of the youngest generation, and the GIL's switch
# interval, while an import runs (see _tuned_interpreter).
GC_THRESHOLD = 50_000
SWITCH_INTERVAL = 0.0005
PG_HAS_LZ4 = (
    "SELECT EXISTS (SELECT 1 FROM pg_settings"
    " WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals))"
)
# The foreign keys the import's writes are checked against (see _tuned_transaction).
PG_DEFERRED_FOREIGN_KEYS = """
    SELECT n.nspname, c.conname FROM pg_constraint c
    JOIN pg_namespace n ON n.oid = c.connamespace
    WHERE c.contype = 'f' AND c.condeferrable AND c.condeferred
      AND c.conrelid = ANY(%s::regclass[])
    ORDER BY 1, 2
"""


def _parts(values, size):
    return [values[n : n + size] for n in range(0, len(values), size)]


class _Link:
    """The connection of the import's transaction as the database driver gives it, and what
    the import's statements need to know of it, read once in the thread that owns it: the
    statements run in another thread (see _import_entries), where Django's `connection`
    would be another connection.

    The driver's own cursors serve the import's bulk statements: Django's cursor rewrites
    each SQLite statement's placeholders and, under DEBUG, quotes every parameter of every
    statement for its query log, which for statements carrying thousands of values costs
    more than running them.
    """

    def __init__(self):
        connection.ensure_connection()
        self.raw = connection.connection
        self.postgres = connection.vendor == "postgresql"
        self.now = connection.ops.adapt_datetimefield_value(timezone.now())
        # Parameters per SQLite statement: SQLite's limit, and at most SQLITE_PARAMS (the
        # values of a compiled statement stay bound to it in the statement cache).
        self.params_limit = (
            None
            if self.postgres
            else min(self.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), SQLITE_PARAMS)
        )

    def cursor(self):
        return self.raw.cursor()


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
        with source(unwrap(binary), fmt, filename) as stream:
            inspection.columns = tabular.read_columns(stream, fmt=fmt, filename=filename)
        inspection.mapping = tabular.suggest_mapping(inspection.columns)
    return inspection


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
    _lock_review_imports(batch.review_id)
    with _tuned_transaction(), _tuned_interpreter():
        return _import_entries(batch, binary)


def _lock_review_imports(review_id):
    """Wait for any other import into the review to finish, and keep the next ones waiting
    until this one has: each import is deduplicated against every record imported before
    it, which an import running beside it could not see until it committed. (SQLite's
    write lock, taken above, already does this; on PostgreSQL an advisory lock held until
    the transaction ends does, and nothing else waits for it.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)", [IMPORT_LOCK, review_id & 0x7FFFFFFF]
            )


_tuning_lock = threading.Lock()
_tuned_imports = 0  # imports running in this process (threads of a development server)
_untuned = None  # (GC thresholds, switch interval, froze?) to restore after the last one


@contextmanager
def _tuned_interpreter():
    """Two process-wide settings of the interpreter, while imports run:

    - The cyclic garbage collector runs less often and leaves alone the objects that existed
      before the import (gc.freeze: Django and the app's modules). An import allocates
      millions of short-lived objects and hardly any cycles; its collections took 15% of its
      time, mostly re-scanning objects that were never garbage. Memory stays bounded: what
      the import frees, reference counting frees at once.
    - Threads take turns with the GIL every 0.5 ms instead of 5: the thread storing chunks
      lets go of it for each statement, and then waited up to 5 ms for the reader thread to
      hand it back, hundreds of times per file.
    """
    global _tuned_imports, _untuned
    with _tuning_lock:
        if _tuned_imports == 0:
            froze = gc.get_freeze_count() == 0  # not when the process froze objects itself
            _untuned = (gc.get_threshold(), sys.getswitchinterval(), froze)
            if froze:
                gc.freeze()
            gc.set_threshold(max(GC_THRESHOLD, _untuned[0][0]), *_untuned[0][1:])
            sys.setswitchinterval(min(SWITCH_INTERVAL, _untuned[1]))
        _tuned_imports += 1
    try:
        yield
    finally:
        with _tuning_lock:
            _tuned_imports -= 1
            if _tuned_imports == 0:
                thresholds, interval, froze = _untuned
                gc.set_threshold(*thresholds)
                sys.setswitchinterval(interval)
                if froze:
                    gc.unfreeze()


@contextmanager
def _tuned_transaction():
    """Settings for the import's transaction only, on PostgreSQL. (SQLite is left as it is:
    a larger page cache made no measurable difference.)

    - SET LOCAL synchronous_commit = off. The commit returns before its WAL reaches the
      disk: a server crash in the next fraction of a second can lose the whole import (the
      batch then stays "running", as after a worker crash; the "done" update commits
      synchronously after it, which flushes the import's WAL too), but never corrupts the
      database or leaves half an import.
    - The foreign keys of the rows the import writes (records, duplicate pairs, stage rows)
      are checked as each statement ends instead of at COMMIT (SET CONSTRAINTS ...
      IMMEDIATE): the same checks, but the server runs them while the reader thread parses
      the next chunk, instead of for 1.5 s after the last one with nothing else to do. No
      check can fail early that would pass at COMMIT: every row refers only to rows written
      before it (the review, the batch, records of earlier statements or of the same COPY).
      They are deferred again afterwards, for whatever else an enclosing transaction does.
    - SET LOCAL default_toast_compression = lz4, where the server has it (PostgreSQL 14 and
      later, as built by Debian and the official images). A record, with its abstract and
      the `raw` copy of every field, is too long to store uncompressed, and compressing it
      with the default pglz was a third of the server's work for each COPY; lz4 does the
      same in a fraction of the time, at a slightly lower ratio. Reading is unchanged: each
      stored value says how it was compressed.
    """
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in (Record, RecordStage, DuplicatePair)]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(PG_HAS_LZ4)
        if cursor.fetchone()[0]:
            cursor.execute("SET LOCAL default_toast_compression = lz4")
        cursor.execute(PG_DEFERRED_FOREIGN_KEYS, [tables])
        names = ", ".join(f"{quote(schema)}.{quote(name)}" for schema, name in cursor.fetchall())
        if names:
            cursor.execute(f"SET CONSTRAINTS {names} IMMEDIATE")
    yield
    if names:
        with connection.cursor() as cursor:
            cursor.execute(f"SET CONSTRAINTS {names} DEFERRED")


def _import_entries(batch, binary):
    """Read, deduplicate and store the file's chunks.

    The statements run in order in a thread of their own, on the transaction's connection
    (_Link), so that this thread's Python work overlaps the database's: while the database
    stores a chunk's records, this thread unpickles the next chunk; while it adds a chunk's
    pairs and stage rows, this thread deduplicates the next chunk against the candidates
    found for it (which needed the records written before, and nothing else).
    """
    link = _Link()
    writer = RecordWriter(batch, link)
    # A review's first import (often its largest) finds its candidates among its own
    # records only: held in memory, without a lookup per key value in the database.
    first = not Record.objects.filter(review_id=batch.review_id).exists()
    deduper = ChunkDeduplicator(batch.review_id, link, first_import=first)
    pending = []  # the statements of the chunk before that the next chunk need not wait for
    with (
        _reader(batch, binary, copy_text=link.postgres) as reader,
        _StatementRunner() as run,
    ):
        for chunk in reader:
            if chunk.rows:
                ids = run(writer.new_ids, len(chunk.rows))
                candidates = deduper.look_up(chunk.keys, run)
                for statement in pending:
                    run(*statement)
                ids = ids.result()
                # Deduplicated before it is written, against the records written before it,
                # so each record is stored once, merged or not; pairs and stage rows refer
                # to it.
                duplicate_of, pairs = deduper.decide(
                    ids, chunk.rows, chunk.keys, candidates.result()
                )
                run(writer.write, ids, chunk.rows, duplicate_of)
                # New records join the screening pool in the same transaction: all or
                # nothing.
                pending = [
                    (writer.write_pairs, pairs),
                    (writer.write_stage_rows, [pk for pk in ids if pk not in duplicate_of]),
                ]
            _report(batch.pk, chunk.entries_read, chunk.fraction)
        for statement in pending:
            run(*statement)
    return {
        "entries_read": reader.entries_read,
        "records_added": writer.written,
        "duplicates_merged": deduper.merged,
        "pairs_queued": deduper.queued,
        "skipped": reader.skipped,
    }


class _StatementRunner:
    """Runs callables in order in one thread of its own; calling it queues one and returns
    its Future. Leaving waits for every one queued (or, when leaving with an exception,
    drops those not started yet), then raises the first that failed."""

    def __enter__(self):
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-writer")
        self.futures = []
        return self

    def __call__(self, function, *args):
        for future in self.futures:  # fail fast: nothing more after a failed statement
            if future.done() and future.exception() is not None:
                raise future.exception()
        future = self.executor.submit(function, *args)
        self.futures.append(future)
        return future

    def __exit__(self, exc_type, exc, traceback):
        self.executor.shutdown(wait=True, cancel_futures=exc_type is not None)
        if exc_type is None:
            for future in self.futures:
                future.result()


def _reader(batch, binary, *, copy_text):
    """A process of its own reads files of IMPORT_READER_PROCESS_BYTES or more, a thread
    smaller ones (see screening.import_readers)."""
    if batch.file_size >= settings.IMPORT_READER_PROCESS_BYTES:
        try:
            path = batch.file.path
        except NotImplementedError:  # storage without local files: read here
            pass
        else:
            return ProcessEntryReader(batch, path, copy_text=copy_text, chunk_size=CHUNK_SIZE)
    return EntryReader(batch, binary, copy_text=copy_text, chunk_size=CHUNK_SIZE)


def _report(batch_id, entries, fraction):
    cache.set(
        _progress_key(batch_id), {"entries": entries, "fraction": min(fraction, 0.99)}, timeout=3600
    )


class RecordWriter:
    """Writes a chunk's records, then its duplicate pairs and stage rows: COPY on PostgreSQL
    (about 3x faster than bulk_create for this), multi-row INSERTs on SQLite. Statements go
    through the driver's own cursor (_Link): the ORM's per-object work costs more
    than the writes themselves at this scale."""

    COLUMNS = COLUMNS
    COPY_COLUMNS = COPY_COLUMNS
    PAIR_COLUMNS = ("review_id", "record_a_id", "record_b_id", "score", "vetoes", "explanation",
                    "status", "created_at")  # fmt: skip

    def __init__(self, batch, link):
        self.batch, self.link = batch, link
        self.written = 0
        self.next_id = None
        self.sequence = None
        self.postgres = link.postgres

    def new_ids(self, count):
        """Ids for the next `count` records, in ascending order."""
        table = Record._meta.db_table
        if self.postgres:
            with self.link.cursor() as cursor:
                if self.sequence is None:
                    # Looked up once: in the statement below it would be looked up per id.
                    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
                    (self.sequence,) = cursor.fetchone()
                cursor.execute(
                    "SELECT nextval(%s::regclass) FROM generate_series(1, %s)",
                    [self.sequence, count],
                )
                return [row[0] for row in cursor.fetchall()]
        # The caller holds SQLite's write lock (the batch row was updated first in the same
        # transaction), so nobody else inserts records until it commits.
        if self.next_id is None:
            cursor = self.link.cursor()
            try:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
                self.next_id = cursor.fetchone()[0] + 1
            finally:
                cursor.close()
        ids = list(range(self.next_id, self.next_id + count))
        self.next_id += count
        return ids

    def write(self, ids, rows, duplicate_of):
        """Store `rows` (RowBuilder's) as the records `ids`; `duplicate_of` maps the ids
        merged into another record to it."""
        get = duplicate_of.get
        table = Record._meta.db_table
        if self.postgres:
            lines = [
                f"{pk}\t{get(pk, COPY_NULL)}\t{line}\n" for pk, line in zip(ids, rows, strict=True)
            ]
            self._copy_text(table, self.COPY_COLUMNS, lines)
        else:
            for pk, row in zip(ids, rows, strict=True):
                row[0] = pk
                row[-1] = get(pk)
            self._insert(table, self.COLUMNS, rows)
        self.written += len(rows)

    def write_pairs(self, pairs):
        """Store duplicate pairs: [(record_a_id, record_b_id, PairScore, status)]."""
        if not pairs:
            return
        now = self.link.now
        review_id = self.batch.review_id
        rows = [
            (review_id, min(a, b), max(a, b), round(r.score, 4), encode_json(list(r.vetoes)),
             r.explanation[:500], status, now)
            for a, b, r, status in pairs
        ]  # fmt: skip
        table = DuplicatePair._meta.db_table
        # A pair stored before stays as it was (and, as with bulk_create(ignore_conflicts),
        # is still counted).
        if self.postgres:
            self._insert_ignoring_conflicts(table, self.PAIR_COLUMNS, rows)
        else:
            self._insert(table, self.PAIR_COLUMNS, rows, verb="INSERT OR IGNORE")

    def write_stage_rows(self, record_ids):
        """Give the kept records `record_ids`, written by write(), their first stage row."""
        if not record_ids:
            return
        table = RecordStage._meta.db_table
        if self.postgres:
            stage, status = first_stage(self.batch)
            with self.link.cursor() as cursor:
                cursor.execute(
                    PG_STAGE_ROWS.format(table=table, columns=", ".join(STAGE_ROW_COLUMNS)),
                    [self.batch.review_id, stage, status, self.link.now, record_ids],
                )
        else:
            stage, status = first_stage(self.batch)
            cursor = self.link.cursor()
            try:
                cursor.execute(
                    SQLITE_STAGE_ROWS.format(table=table, columns=", ".join(STAGE_ROW_COLUMNS)),
                    [self.batch.review_id, stage, status, self.link.now, encode_json(record_ids)],
                )
            finally:
                cursor.close()

    def _insert(self, table, columns, rows, verb="INSERT"):
        # Hundreds of rows per statement: each statement is one sqlite3_step, run without
        # the GIL, where executemany takes and drops it per row (and then waits for the
        # reader thread to hand it back).
        per = max(1, self.link.params_limit // len(columns))
        cursor = self.link.cursor()
        try:
            for start in range(0, len(rows), per):
                part = rows[start : start + per]
                sql = _sqlite_insert(verb, table, columns, len(part))
                cursor.execute(sql, list(itertools.chain.from_iterable(part)))
        finally:
            cursor.close()

    def _copy_text(self, table, columns, lines):
        """COPY `lines` (text format, each ending with a newline) into `table`."""
        with self.link.cursor() as cursor:
            names = ", ".join(columns)
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:  # noqa: S608
                copy.write("".join(lines))

    def _insert_ignoring_conflicts(self, table, columns, rows):
        # One array per column: the same statement text for every chunk, parsed and planned
        # once, where a VALUES list of the chunk's length was a new statement each time.
        names = ", ".join(columns)
        arrays = ", ".join(f"%s::{kind}[]" for kind in PAIR_ARRAY_TYPES)
        with self.link.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays})"  # noqa: S608
                " ON CONFLICT DO NOTHING",
                [list(column) for column in zip(*rows, strict=True)],
            )


@functools.lru_cache(maxsize=16)
def _sqlite_insert(verb, table, columns, count):
    row = f"({', '.join(['?'] * len(columns))})"
    return f"{verb} INTO {table} ({', '.join(columns)}) VALUES {', '.join([row] * count)}"


class ChunkDeduplicator:
    """Deduplicates each chunk, before it is written, against the review's records that share
    a blocking key with it (earlier chunks of the same file included), never the whole
    review."""

    def __init__(self, review_id, link, *, first_import=False):
        self.review_id, self.link = review_id, link
        self.merged = 0
        self.queued = 0
        # For a review's first import, {key name: {value: id, or [ids]}} of the records
        # decided so far: the only records a new one can be a duplicate of.
        self.own = {key: {} for key in KEY_FIELDS} if first_import else None

    def look_up(self, keys, run):
        """The Future of the candidate rows for records with `keys` (see decide()), from the
        database work queued on `run` (a _StatementRunner)."""
        if self.own is None:
            return run(self.candidate_rows, keys)
        return run(self.rows_by_id, self._own_candidates(keys))

    def _own_candidates(self, keys):
        ids = set()
        for name, index in self.own.items():
            get = index.get
            for row_keys in keys:
                found = get(row_keys[name]) if row_keys[name] else None
                if found is None:
                    continue
                if type(found) is int:
                    ids.add(found)
                else:
                    ids.update(found)
        return sorted(ids)

    def _remember(self, ids, keys):
        for name, index in self.own.items():
            get = index.get
            for pk, row_keys in zip(ids, keys, strict=True):
                value = row_keys[name]
                if not value:
                    continue
                found = get(value)
                if found is None:
                    index[value] = pk
                elif type(found) is int:
                    index[value] = [found, pk]
                else:
                    found.append(pk)

    def decide(self, ids, rows, keys, candidate_rows):
        """Decide the records `ids`, not written yet, against `candidate_rows` (from
        look_up(), in any order). No database work: another thread may be using
        the connection meanwhile.

        Returns ({id: id of the record it merges into} for the records merged, [(record_a_id,
        record_b_id, PairScore, status)] for the pairs to store: the merges, and one pair to
        decide per pair of groups)."""
        if not ids:
            return {}, []
        if self.own is not None:
            self._remember(ids, keys)
        existing, roots = self._candidates(candidate_rows)
        items = self._involved(ids, rows, keys, existing)
        pairs = find_pairs(items, existing) if items else []
        if not pairs:
            return {}, []
        new_ids = set(ids)
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
        stored = []
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
            stored.append((a, b, result, DuplicatePair.Status.MERGED))
        # Only new records are ever dropped into another group (see `keep, drop` above).
        duplicate_of = {pk: find(pk) for pk in parent}
        self.merged += len(duplicate_of)
        # One decision per pair of groups: the best-scoring pair stands for the rest.
        queue = {}
        for a, b, result in pairs:
            ra, rb = find(a), find(b)
            if ra == rb:
                continue
            group_pair = (min(ra, rb), max(ra, rb))
            if group_pair not in queue or result.score > queue[group_pair][2].score:
                queue[group_pair] = (a, b, result, DuplicatePair.Status.PENDING)
        self.queued += len(queue)
        return duplicate_of, stored + list(queue.values())

    @staticmethod
    def _involved(ids, rows, keys, existing):
        """The new records that share a key value with another record, new or existing, as
        items for find_pairs: (id, DedupFields, keys). The others, most of a file, have no
        candidate and are no one's, and their DedupFields are never made."""
        shared = shared_values(keys, [item_keys for _, _, item_keys in existing])
        if not shared:
            return []
        involved = []
        for pk, row, row_keys in zip(ids, rows, keys, strict=True):
            for name, values in shared:
                if row_keys[name] in values:
                    involved.append((pk, prepare(row_values(row)), row_keys))
                    break
        return involved

    def candidate_rows(self, keys):
        """The review's records sharing a value of `keys` (one dict per new record), as rows
        of CANDIDATE_COLUMNS.

        One statement: per key column, one indexed lookup per value for the ids, and the
        rows of those ids. A single lookup OR-ing the four columns made SQLite scan the
        review's records, which grew with every chunk (6 s of a 100,000-record import),
        and the ORM's per-row work cost more than the lookups themselves."""
        values = {}
        for key in KEY_FIELDS:
            found = {row_keys[key] for row_keys in keys if row_keys[key]}
            if found:
                values[key] = sorted(found)
        if not values:
            return []
        if self.link.postgres:
            return self._candidate_rows_postgresql(values)
        return self._candidate_rows_sqlite(values)

    @staticmethod
    def _candidates(rows):
        """Candidate rows as items for find_pairs, in id order, and the record each was
        merged into (itself if none)."""
        rows = sorted(rows, key=lambda row: row[0])
        existing, roots = [], {}
        for values in rows:
            row = dict(zip(CANDIDATE_COLUMNS, values, strict=True))
            if isinstance(row["authors"], str):  # JSON text (SQLite text, PostgreSQL jsonb)
                row["authors"] = json.loads(row["authors"])
            row_keys = {k: row[k] for k in KEY_FIELDS}
            existing.append((row["id"], prepare(row), row_keys))
            roots[row["id"]] = row["duplicate_of_id"] or row["id"]
        return existing, roots

    def _candidate_rows_postgresql(self, values):
        table = Record._meta.db_table
        # One index probe per value, whatever the statistics say: within the import's
        # transaction they still describe the table before it, and "key = ANY(...)" then
        # made PostgreSQL read every record of the review through the review_id index
        # (OFFSET 0 keeps the nested loop; ARRAY(...) the lookup of the ids by primary key).
        # The review id is a subquery's result, unknown to the planner: statistics in which
        # a new review has no records made every index starting with review_id look as good
        # as the key's own, and PostgreSQL probed the review's records in another key's
        # index, reading all of them for each value.
        lookups = " UNION ALL ".join(PG_KEY_QUERY.format(table=table, key=key) for key in values)
        columns = ", ".join(CANDIDATE_COLUMNS)
        sql = f"SELECT {columns} FROM {table} WHERE id = ANY(ARRAY({lookups}))"  # noqa: S608
        params = []
        for part in values.values():
            params += [part, self.review_id]
        with self.link.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def rows_by_id(self, ids):
        """The records `ids` as rows of CANDIDATE_COLUMNS."""
        if not ids:
            return []
        table = Record._meta.db_table
        columns = ", ".join(CANDIDATE_COLUMNS)
        if self.link.postgres:
            with self.link.cursor() as cursor:
                cursor.execute(
                    f"SELECT {columns} FROM {table} WHERE id = ANY(%s)",  # noqa: S608
                    [ids],
                )
                return cursor.fetchall()
        rows = []
        cursor = self.link.cursor()
        try:
            for part in _parts(ids, self.link.params_limit):
                marks = ", ".join(["?"] * len(part))
                cursor.execute(
                    f"SELECT json_group_array(json_array({columns})) FROM {table}"  # noqa: S608
                    f" WHERE id IN ({marks})",
                    part,
                )
                rows += json.loads(cursor.fetchone()[0])
        finally:
            cursor.close()
        return rows

    def _candidate_rows_sqlite(self, values):
        """The rows come back as one JSON array: fetching them one by one would take and drop
        the GIL per row, waiting for the reader thread each time."""
        table = Record._meta.db_table
        columns = ", ".join(CANDIDATE_COLUMNS)
        limit = self.link.params_limit
        lookups, params = [], []
        statements = []
        for key, found in values.items():
            for part in _parts(found, limit - 1):
                if len(params) + len(part) + 1 > limit:
                    statements.append((lookups, params))
                    lookups, params = [], []
                marks = ", ".join(["?"] * len(part))
                lookups.append(SQLITE_KEY_QUERY.format(table=table, key=key, marks=marks))
                params += [self.review_id, *part]
        statements.append((lookups, params))
        rows = {}
        cursor = self.link.cursor()
        try:
            for lookups, params in statements:
                sql = (
                    f"SELECT json_group_array(json_array({columns})) FROM {table}"  # noqa: S608
                    f" WHERE id IN ({' UNION ALL '.join(lookups)})"
                )
                cursor.execute(sql, params)
                for row in json.loads(cursor.fetchone()[0]):
                    rows[row[0]] = row
        finally:
            cursor.close()
        return list(rows.values())


def max_upload_bytes():
    return settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
