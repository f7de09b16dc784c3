"""The import pipeline: read an uploaded export, store its entries as records, deduplicate.

A file imports completely or not at all: every write happens in one transaction, and any
problem (ImportFileError from a parser, or anything unexpected) rolls it back. Entries are
streamed and written in chunks, so memory stays bounded however large the file is.
"""

import io
import json
import json.encoder as json_encoder
import logging
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
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
# The ids of a review's records whose `key` column holds one of an array of values.
PG_KEY_QUERY = (
    "SELECT r.id FROM unnest(%s::text[]) AS v(value) CROSS JOIN LATERAL"
    " (SELECT id FROM {table} WHERE review_id = %s AND {key} = v.value OFFSET 0) AS r"
)
SQLITE_KEY_QUERY = "SELECT id FROM {table} WHERE review_id = %s AND {key} IN ({marks})"
CANDIDATE_COLUMNS = ("id", "duplicate_of_id", *DEDUP_FIELDS, *KEY_FIELDS)
# Values per "IN (...)" list on SQLite, well below its limit on bound parameters.
SQLITE_PARAMS = 2000


def _parts(values, size=SQLITE_PARAMS):
    return [values[n : n + size] for n in range(0, len(values), size)]


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
        self.text, _ = open_text(_unwrap(self.binary), filename=self.filename)
        return self.text

    def __exit__(self, *exc):
        if self.text is not None:
            self.text.detach()


def _unwrap(binary):
    """The file object under Django's File wrappers. A text stream checks its buffer's
    `closed` once per line, and File.closed costs two Python calls per check (1.8 million
    for a 100,000-record RIS file); both share one file object, so positions stay in step."""
    inner = binary
    while isinstance(inner, File):
        inner = getattr(inner, "file", None)
    return inner if isinstance(inner, io.IOBase) else binary


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
    _tune_transaction()
    return _import_entries(batch, binary)


def _tune_transaction():
    """Settings for the import's transaction only.

    PostgreSQL: SET LOCAL synchronous_commit = off. The commit returns before its WAL reaches
    the disk: a server crash in the next fraction of a second can lose the whole import (the
    batch then stays "running", as after a worker crash; the "done" update commits
    synchronously after it, which flushes the import's WAL too), but never corrupts the
    database or leaves half an import. SQLite is left as it is (a larger page cache made no
    measurable difference).
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")


def _import_entries(batch, binary):
    size = batch.file_size or 1
    writer = RecordWriter(batch)
    deduper = ChunkDeduplicator(batch.review_id)
    entries_read = 0
    skipped = []
    try:
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
                    # The previous chunk is stored once its COPY completes, and deduplicated
                    # before this one is written: the same order of work as writing and
                    # deduplicating each chunk in turn, but the database takes in a chunk
                    # while the next one is parsed.
                    deduper.process(writer.receive())
                    writer.send()
                    _report(batch.pk, entries_read, binary.tell() / size)
            deduper.process(writer.receive())
            deduper.process(writer.flush())
    except BaseException as exc:
        writer.abort(exc)
        raise
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
        self.sent = []  # [(id, DedupFields, keys)] of the rows last sent
        self.copying = None  # (cursor, COPY context) while a COPY is open

    @property
    def pending(self):
        return len(self.rows)

    def add(self, entry):
        # The entry's own attribute dict holds RECORD_FIELDS (and a few more that prepare()
        # and _values() do not read): no copy per entry.
        values = getattr(entry, "__dict__", None)
        if values is None or not all(name in values for name in RECORD_FIELDS):
            values = {name: getattr(entry, name) for name in RECORD_FIELDS}
        fields = prepare(values)
        keys = blocking_keys(fields)
        self.rows.append((entry, values, fields, keys))

    def flush(self):
        """Write the collected rows; return [(id, DedupFields, keys)] for deduplication."""
        self.send()
        return self.receive()

    def send(self):
        """Start writing the collected rows. On PostgreSQL the COPY stays open, its data
        streaming to the server, until receive(); nothing else may use the connection
        meanwhile (psycopg holds the connection's lock)."""
        if self.copying is not None or self.sent:
            raise RuntimeError("receive() the rows sent before sending more")
        rows, self.rows = self.rows, []
        if not rows:
            return
        postgres = connection.vendor == "postgresql"
        ids = self._copy(rows) if postgres else self._insert(rows)
        self.written += len(rows)
        self.sent = [(pk, fields, keys) for pk, (_, _, fields, keys) in zip(ids, rows, strict=True)]

    def receive(self):
        """Complete the rows last sent (their COPY ends); return [(id, DedupFields, keys)]."""
        if self.copying is not None:
            copying, self.copying = self.copying, None
            try:
                copying[1].__exit__(None, None, None)
            finally:
                copying[0].close()
        sent, self.sent = self.sent, []
        return sent

    def abort(self, exc):
        """End an open COPY with `exc` (the server discards it); the caller rolls back."""
        if self.copying is not None:
            copying, self.copying = self.copying, None
            try:
                copying[1].__exit__(type(exc), exc, exc.__traceback__)
            finally:
                copying[0].close()

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
    JSON_COLUMNS = {"authors", "keywords", "raw"}  # _values encodes these as JSON text

    def _copy(self, rows):
        """Send `rows` by COPY and leave it open (see send); returns their ids."""
        table = Record._meta.db_table
        cursor = connection.cursor()
        try:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [table, len(rows)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            columns = ", ".join(self.COPY_COLUMNS)
            context = cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN")  # noqa: S608
            copy = context.__enter__()
        except BaseException:
            cursor.close()
            raise
        self.copying = (cursor, context)
        for pk, row in zip(ids, rows, strict=True):
            copy.write_row(self._values(pk, row))
        return ids

    def _values(self, pk, row):
        # COPY_COLUMNS in order, spelt out: cheaper than a generator over the field names
        # and a set lookup per field. Text fields lose NUL characters (see _text).
        entry, values, _, keys = row
        v = values.__getitem__
        return (
            pk, self.batch.review_id, self.batch.pk, entry.position, entry.source_id,
            _text(v("title")), _text(v("abstract")), _encode_json(v("authors")),
            _text(v("year")), _text(v("journal")), _text(v("volume")), _text(v("issue")),
            _text(v("pages")), _text(v("doi")), _text(v("pmid")), _text(v("url")),
            _encode_json(v("keywords")), _text(v("language")), _text(v("publication_type")),
            _encode_json(entry.raw),
            keys["key_doi"], keys["key_pmid"], keys["key_title"], keys["key_alt"],
        )  # fmt: skip


# One encoder for the whole import: json.dumps builds a new one per call when given options.
_encode_json = json.JSONEncoder(ensure_ascii=False, default=str).encode
if json_encoder.c_make_encoder is not None:
    # What JSONEncoder.encode runs for a list or dict, made once instead of per call (the
    # same output; no circular-reference check, which parsed data cannot need): 20% less
    # time for a record's raw dict, 70% less for a short list.
    try:
        _iterencode = json_encoder.c_make_encoder(
            None, str, json_encoder.c_encode_basestring, None, ": ", ", ", False, False, True
        )
        if "".join(_iterencode({"a": ["b", 1, None]}, 0)) == '{"a": ["b", 1, null]}':

            def _encode_json(value, _plain=_encode_json):
                if type(value) is dict or type(value) is list:
                    return "".join(_iterencode(value, 0))
                return _plain(value)

    except TypeError:  # another Python's signature: keep the plain encoder
        pass


def _json(value):
    return _encode_json(value)


def _text(value):
    # PostgreSQL text cannot hold NUL characters, which do turn up in broken exports.
    if type(value) is str:
        return value.replace("\x00", "") if "\x00" in value else value
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
        """The review's other records sharing a key value with `items`, in id order.

        Raw SQL, one indexed lookup per key column for the ids, then one query for the rows:
        a single query OR-ing the four columns made SQLite scan the review's records, which
        grew with every chunk (6 s of a 100,000-record import), and the ORM's per-row work
        cost more than the lookups themselves."""
        table = Record._meta.db_table
        postgres = connection.vendor == "postgresql"
        new_ids = {pk for pk, _, _ in items}
        ids = set()
        with connection.cursor() as cursor:
            for key in KEY_FIELDS:
                values = sorted({keys[key] for _, _, keys in items if keys[key]})
                for part in _parts(values) if not postgres else [values]:
                    if not part:
                        continue
                    if postgres:
                        # One index probe per value, whatever the statistics say: within the
                        # import's transaction they still describe the table before it, and
                        # "key = ANY(...)" then made PostgreSQL read every record of the
                        # review through the review_id index (OFFSET 0 keeps the nested loop).
                        sql = PG_KEY_QUERY.format(table=table, key=key)
                        params = [part, self.review_id]
                    else:
                        marks = ", ".join(["%s"] * len(part))
                        sql = SQLITE_KEY_QUERY.format(table=table, key=key, marks=marks)
                        params = [self.review_id, *part]
                    cursor.execute(sql, params)
                    ids.update(row[0] for row in cursor.fetchall())
            ids = sorted(ids - new_ids)
            rows = []
            columns = ", ".join(CANDIDATE_COLUMNS)
            for part in _parts(ids) if not postgres else [ids]:
                if not part:
                    continue
                if postgres:
                    condition, params = "id = ANY(%s)", [part]
                else:
                    condition, params = f"id IN ({', '.join(['%s'] * len(part))})", part
                sql = f"SELECT {columns} FROM {table} WHERE {condition}"  # noqa: S608
                cursor.execute(sql, params)
                rows.extend(cursor.fetchall())
        rows.sort(key=lambda row: row[0])
        existing, roots = [], {}
        for values in rows:
            row = dict(zip(CANDIDATE_COLUMNS, values, strict=True))
            if isinstance(row["authors"], str):  # JSON text (SQLite text, PostgreSQL jsonb)
                row["authors"] = json.loads(row["authors"])
            keys = {k: row[k] for k in KEY_FIELDS}
            existing.append((row["id"], prepare(row), keys))
            roots[row["id"]] = row["duplicate_of_id"] or row["id"]
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
