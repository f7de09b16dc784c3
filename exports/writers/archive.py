"""The review archive: everything a review holds, in one ZIP from which exports.restore
builds a new review with nothing lost.

Layout (format_version 1):
  manifest.json                            format, versions, row counts per table, and the
                                           SHA-256 and size of every other member
  data/reviewapp.user.jsonl                the people the rows name: id, email, name only
  data/<app>.<model>.jsonl                 one JSON object per row, in primary-key order
  files/<app>.<model>.<field>/<name>       uploaded files byte for byte (stored, not deflated)

Rows come from a serializer driven by each model's _meta (every concrete field under its
attname, so relations are ids; many-to-many fields as lists of ids), so a field added to a
model is archived without anyone remembering to. Which models are archived is TABLES below;
tests/exports/test_archive.py fails when a model that belongs to a review is in neither
TABLES nor LEFT_OUT.
"""

import base64
import datetime
import decimal
import hashlib
import importlib.metadata
import json
import uuid
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.duration import duration_iso_string

from ..registry import ExportError, register

FORMAT_NAME = "reviewapp-archive"
# Bump when an older reader could no longer restore an archive whole (a new table, a field
# whose meaning changes); exports.restore refuses archives newer than it knows.
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
USERS_MEMBER = "data/reviewapp.user.jsonl"
# Only these leave the app about a person: never password hashes, MFA secrets or sessions.
USER_FIELDS = ("id", "email", "name")
CHUNK = 1000
COPY_BUFFER = 1024 * 1024


def _pending_invitation():
    return Q(accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now())


@dataclass(frozen=True)
class Table:
    """One archived model: `review_path` leads from a row to its review; `leave_out` (a
    function returning a Q) names rows that are not archived."""

    label: str
    review_path: str
    leave_out: object = None

    @property
    def model(self):
        return apps.get_model(self.label)

    @property
    def member(self):
        return f"data/{self.model._meta.label_lower}.jsonl"

    def rows(self, review):
        rows = self.model._base_manager.filter(**{self.review_path: review.pk})
        if self.leave_out is not None:
            rows = rows.exclude(self.leave_out())
        return rows


# In restore order: every table comes after the tables it points at (self-references
# aside: exports.restore sets those in a second pass).
TABLES = [
    Table("reviewapp.Review", "pk"),
    Table("reviewapp.Membership", "review"),
    # A pending invitation is an open offer to join the original review: its link signs the
    # original ids, so it could never open the copy, and a copy that showed it as pending
    # would invite the person a second time, to a review they were never asked to. Settled
    # ones (accepted, revoked, expired) are the record of how people joined, and are kept.
    Table("reviewapp.Invitation", "review", leave_out=_pending_invitation),
    Table("screening.ScreeningConfig", "review"),
    Table("screening.ExclusionReason", "review"),
    Table("screening.HighlightTerm", "review"),
    Table("screening.ImportBatch", "review"),
    Table("screening.Record", "review"),
    Table("screening.DuplicatePair", "review"),
    Table("screening.RecordStage", "review"),
    # Where each reviewer is in the queue: RecordStage.order_key is archived unchanged, so
    # the cursors still mean the same place.
    Table("screening.ScreenerCursor", "review"),
    Table("screening.Decision", "review"),
    Table("screening.DecisionHistory", "review"),
    Table("screening.Resolution", "review"),
    Table("screening.FullText", "record__review"),
    Table("screening.Study", "review"),
    Table("screening.StudyReport", "study__review"),
    # How the queue was prioritised (a methods section cites these) and when the lead stopped.
    Table("screening.Ranking", "review"),
    Table("screening.StopDecision", "review"),
    Table("coding.CodingConfig", "review"),
    Table("coding.Document", "review"),
    Table("coding.DocumentVersion", "document__review"),
    Table("coding.Code", "review"),
    Table("coding.Excerpt", "review"),
    Table("coding.ExcerptCode", "excerpt__review"),
    Table("coding.Memo", "review"),
    Table("coding.ThemeRevision", "review"),
    Table("advisory.AdvisorySpace", "review"),
    Table("advisory.SharedTheme", "review"),
    Table("advisory.SharedExcerpt", "shared_theme__review"),
    Table("advisory.Redaction", "shared_excerpt__shared_theme__review"),
    Table("advisory.Comment", "review"),
    Table("advisory.CommentEdit", "comment__review"),
    Table("advisory.CommentResponse", "comment__review"),
    Table("advisory.Meeting", "review"),
    Table("advisory.MeetingAction", "meeting__review"),
    Table("advisory.Preference", "membership__review"),
]

# Models that belong to a review but are not review data, and why.
LEFT_OUT = {
    "advisory.Notification": "emails owed about comments: transient, and a restored copy "
    "must not email anyone",
    "exports.ExportJob": "the original's export jobs and files, which expire; not the review",
}


def table_for(model):
    for table in TABLES:
        if table.model is model:
            return table
    return None


def columns(model):
    """The concrete fields, each archived under its attname (a relation as its id)."""
    return list(model._meta.concrete_fields)


def many_to_many(model):
    """Many-to-many fields archived as id lists: those whose through model is Django's own
    (one with a model of its own, like Excerpt.codes through ExcerptCode, is a table)."""
    return [f for f in model._meta.many_to_many if f.remote_field.through._meta.auto_created]


def file_fields(model):
    return [f for f in columns(model) if isinstance(f, models.FileField)]


def file_member(model, field, name):
    return f"files/{model._meta.label_lower}.{field.name}/{name}"


def is_user_model(model):
    return model._meta.label == settings.AUTH_USER_MODEL


def app_version():
    try:
        return importlib.metadata.version("reviewapp")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def plain(value):
    """A value from .values() as JSON: exact, so the restore gets back the same value from
    the field's to_python (datetimes keep their microseconds, unlike DjangoJSONEncoder)."""
    if isinstance(value, datetime.timedelta):
        return duration_iso_string(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    raise TypeError(f"cannot archive a {type(value).__name__}")


def dump_line(row):
    return json.dumps(row, default=plain, ensure_ascii=False, separators=(",", ":")) + "\n"


class _HashingSink:
    def __init__(self, raw):
        self.raw, self.digest, self.size = raw, hashlib.sha256(), 0

    def write(self, data):
        self.digest.update(data)
        self.size += len(data)
        self.raw.write(data)


class _Archive:
    """The ZIP being written, with the checksum of each member for the manifest."""

    def __init__(self, zf, created):
        self.zf = zf
        self.date_time = created.timetuple()[:6]
        self.members = {}

    @contextmanager
    def member(self, name, *, stored=False):
        info = zipfile.ZipInfo(name, date_time=self.date_time)
        info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        # Sizes are unknown until the member is written; zip64 headers keep members over
        # 2 GB possible.
        with self.zf.open(info, "w", force_zip64=True) as raw:
            sink = _HashingSink(raw)
            yield sink
        self.members[name] = {"sha256": sink.digest.hexdigest(), "size": sink.size}


class _Writer:
    def __init__(self, review, zf, progress, created):
        self.review = review
        self.created = created
        self.archive = _Archive(zf, created)
        self.progress = progress
        self.user_ids = set()
        # Ids archived so far, of the tables others point at: a row pointing elsewhere
        # means the review changed while it was read (see _check_references).
        self.seen = {}
        self.targets = {f.related_model for t in TABLES for f in columns(t.model)
                        if f.is_relation}  # fmt: skip
        self.tables = {}
        self.files = []  # (member, storage, stored name)
        self.missing = []
        self.done = 0
        self.total = 1

    def write(self):
        counts = [table.rows(self.review).count() for table in TABLES]
        self.total = sum(counts) + 1
        for table in TABLES:
            self._write_table(table)
        self._write_users()
        self._write_files()
        self._write_manifest()
        self.progress(1.0, "Archive written")

    def _write_table(self, table):
        model = table.model
        fields = columns(model)
        names = [f.attname for f in fields]
        m2m = many_to_many(model)
        user_fields = [
            f.attname for f in fields if f.is_relation and is_user_model(f.related_model)
        ]
        user_m2m = [f.name for f in m2m if is_user_model(f.related_model)]
        with_files = file_fields(model)
        checked = [f for f in fields if f.is_relation and not is_user_model(f.related_model)]
        ids = set() if model in self.targets else None
        self_refs = set()
        written = 0
        with self.archive.member(table.member) as sink:
            for rows in _chunks(table.rows(self.review), names):
                _add_many_to_many(model, m2m, rows)
                for row in rows:
                    self.user_ids.update(row[n] for n in user_fields if row[n] is not None)
                    for name in user_m2m:
                        self.user_ids.update(row[name])
                    for field in with_files:
                        if row[field.attname]:
                            self._add_file(model, field, row[field.attname])
                    self._check_references(model, checked, row, self_refs)
                    if ids is not None:
                        ids.add(row["id"])
                sink.write("".join(dump_line(row) for row in rows).encode("utf-8"))
                written += len(rows)
                self.done += len(rows)
                self.progress(
                    0.8 * self.done / self.total, f"Archiving {model._meta.verbose_name_plural}"
                )
        if ids is not None:
            self.seen[model] = ids
            if self_refs - ids:
                self._changed(model)
        self.tables[model._meta.label_lower] = {"member": table.member, "rows": written}

    def _check_references(self, model, fields, row, self_refs):
        for field in fields:
            target = row[field.attname]
            if target is None:
                continue
            if field.related_model is model:
                self_refs.add(target)
            elif field.related_model._meta.label == "reviewapp.Review":
                if target != self.review.pk:
                    self._changed(model)
            elif target not in self.seen.get(field.related_model, ()):
                self._changed(model)

    def _changed(self, model):
        raise ExportError(
            f"The review changed while it was being archived (its "
            f"{model._meta.verbose_name_plural} point at rows archived before they were "
            "made). Export the archive again."
        )

    def _add_file(self, model, field, name):
        self.files.append((file_member(model, field, name), field.storage, name))

    def _write_users(self):
        from django.contrib.auth import get_user_model

        users = get_user_model()._base_manager.filter(pk__in=self.user_ids)
        written = 0
        with self.archive.member(USERS_MEMBER) as sink:
            for rows in _chunks(users, list(USER_FIELDS)):
                sink.write("".join(dump_line(row) for row in rows).encode("utf-8"))
                written += len(rows)
        if written != len(self.user_ids):
            raise ExportError(
                "The review changed while it was being archived (an account it names was "
                "deleted). Export the archive again."
            )
        self.tables["reviewapp.user"] = {"member": USERS_MEMBER, "rows": written}

    def _write_files(self):
        written = set()
        for n, (member, storage, name) in enumerate(self.files, 1):
            if member in written:
                continue
            written.add(member)
            try:
                source = storage.open(name, "rb")
            except FileNotFoundError:
                # The row is still archived; the restore leaves its file empty rather than
                # pointing at whatever has that name on the other server.
                self.missing.append(member)
                continue
            with source, self.archive.member(member, stored=True) as sink:
                while chunk := source.read(COPY_BUFFER):
                    sink.write(chunk)
            self.progress(0.8 + 0.19 * n / len(self.files), "Archiving uploaded files")

    def _write_manifest(self):
        manifest = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "app_version": app_version(),
            "created": self.created.isoformat(),
            "review": {
                "id": self.review.pk,
                "slug": self.review.slug,
                "title": self.review.title,
            },  # fmt: skip
            "tables": {"reviewapp.user": self.tables.pop("reviewapp.user"), **self.tables},
            "missing_files": self.missing,
            "members": self.archive.members,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        with self.archive.member(MANIFEST) as sink:
            sink.write(data)


def _chunks(queryset, names):
    """Lists of rows as dicts, CHUNK at a time in primary-key order, each from a query that
    starts after the last row seen (memory stays bounded, and no query gets slower)."""
    queryset = queryset.order_by("pk")
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        rows = list(page.values(*names)[:CHUNK])
        if not rows:
            return
        yield rows
        last = rows[-1]["id"]


def _add_many_to_many(model, fields, rows):
    """Set row[field.name] to the list of ids each many-to-many field holds."""
    if not fields:
        return
    ids = [row["id"] for row in rows]
    for field in fields:
        through = field.remote_field.through
        source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
        linked = {row_id: [] for row_id in ids}
        pairs = (
            through._base_manager.filter(**{f"{source}__in": ids})
            .order_by(target, "pk")
            .values_list(f"{source}_id", f"{target}_id")
        )
        for row_id, target_id in pairs:
            linked[row_id].append(target_id)
        for row in rows:
            row[field.name] = linked[row["id"]]


@register(
    "archive",
    label="Review archive",
    extension="zip",
    content_type="application/zip",
    group="Archive",
    description="Everything in the review (records, screening, studies, coding, the Advisory "
    "Group's space, uploaded files) in one file, from which it can be restored as a new review.",
)
def write_archive(review, out, *, progress, options):
    created = timezone.now()
    with zipfile.ZipFile(out, "w", allowZip64=True) as zf:
        _Writer(review, zf, progress, created).write()
