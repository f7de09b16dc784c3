"""Restoring a review archive (exports.writers.archive) as a new review.

`restore_archive` checks the whole archive before it writes anything: that it is a ZIP,
that its member names are safe and its sizes sane (no zip bombs), that its manifest names a
format this version reads, that every member matches the manifest's checksum, that every
row parses and points only at rows the archive holds. Then, in one transaction, it creates
a new review: every row gets a new id (the same archive can be restored twice), relations
are rewritten through the id maps, files are copied into storage under names nobody else
uses, and the restoring user becomes a lead. On any error nothing is left behind: the
transaction rolls back and the files already copied are deleted.

People are matched by email address; someone the server does not know gets an account
without a usable password (they set one with "Forgot your password?").
"""

import hashlib
import io
import json
import os
import posixpath
import re
import uuid
import zipfile
import zlib
from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.core.files import File
from django.core.validators import validate_email
from django.db import DatabaseError, models, transaction
from django.utils.text import slugify

from reviewapp.models import Membership, Review, Role

from .writers.archive import (
    FORMAT_NAME,
    FORMAT_VERSION,
    MANIFEST,
    TABLES,
    USER_FIELDS,
    USERS_MEMBER,
    columns,
    file_member,
    is_user_model,
    many_to_many,
)

BATCH = 1000
READ_BUFFER = 1024 * 1024
MANIFEST_MAX_BYTES = 64 * 1024 * 1024
# One row; a document version's text is the longest thing a row holds.
LINE_MAX_CHARS = 64 * 1024 * 1024
# Below this size a member's compression ratio says nothing (a small file of repeated rows
# compresses very well); above it, a ratio past the limit is a zip bomb.
RATIO_FLOOR_BYTES = 1024 * 1024
SLUG_SUFFIX = "-restored"
DRIVE_RE = re.compile(r"^[A-Za-z]:")


class RestoreError(Exception):
    """An archive that cannot be restored; the message says why, for the person restoring."""


def limits():
    """(largest member, largest total, highest compression ratio, most members): settings
    ARCHIVE_MAX_MEMBER_MB, ARCHIVE_MAX_UNPACKED_MB, ARCHIVE_MAX_RATIO, ARCHIVE_MAX_MEMBERS."""
    return (
        getattr(settings, "ARCHIVE_MAX_MEMBER_MB", 2048) * 1024 * 1024,
        getattr(settings, "ARCHIVE_MAX_UNPACKED_MB", 20480) * 1024 * 1024,
        getattr(settings, "ARCHIVE_MAX_RATIO", 200),
        getattr(settings, "ARCHIVE_MAX_MEMBERS", 200_000),
    )


def restore_archive(path_or_file, *, user, log=None, keep_members=True):
    """Restore the archive at `path_or_file` (a path, or a binary file open for reading)
    as a new review with `user` as a lead (None: only the archive's own memberships).
    With keep_members=False only `user` is a member of the new review: the others' work is
    restored (their decisions and excerpts name them), but nobody is put into a review by
    someone who may not lead them (an uploaded archive can be forged).
    Returns the new Review; raises RestoreError, having created nothing. `log(line)` hears
    what was done beyond the rows themselves (accounts created)."""
    with _opened(path_or_file) as source, _open_zip(source) as zf:
        plan = _Check(zf).run()
        restorer = _Restorer(zf, plan, user, log or (lambda line: None), keep_members)
        try:
            with transaction.atomic():
                return restorer.run()
        except DatabaseError as exc:
            restorer.delete_copied_files()
            raise RestoreError(
                f"The archive's rows could not be saved, so nothing was restored ({exc})."
            ) from exc
        except OSError as exc:
            restorer.delete_copied_files()
            raise RestoreError(
                "The archive's files could not be copied into storage, so nothing was "
                f"restored ({exc.strerror or exc}). Check the server's free space."
            ) from exc
        except BaseException:
            restorer.delete_copied_files()
            raise


@contextmanager
def _opened(path_or_file):
    if isinstance(path_or_file, str | os.PathLike):
        try:
            source = open(path_or_file, "rb")  # noqa: SIM115 (closed by the with below)
        except OSError as exc:
            raise RestoreError(f"Cannot read {os.fspath(path_or_file)}: {exc.strerror}.") from exc
        with source:
            yield source
    else:
        path_or_file.seek(0)
        yield path_or_file


def _open_zip(source):
    head = source.read(4)
    source.seek(0)
    if head[:2] != b"PK":
        raise RestoreError(
            "This file is not a ZIP archive, so it is not a reviewapp archive. Choose the .zip "
            "file the “Review archive” export made."
        )
    try:
        return zipfile.ZipFile(source)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
        raise RestoreError(
            "This ZIP archive is damaged or incomplete (it may have been cut short while it "
            "was downloaded or copied), so it cannot be read. Download or copy it again."
        ) from exc


def _unsafe(name):
    """Whether a member name could reach outside the folder it is unpacked into."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/"):
        return True
    if DRIVE_RE.match(name):
        return True
    return any(part in ("", ".", "..") for part in name.split("/"))


def _is_id(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _megabytes(size):
    return f"{size / 1048576:,.0f} MB"


@dataclass
class _Column:
    """How one field of an archived row is restored."""

    field: models.Field
    key: str
    # pk: a new one; review: the new review; user: the matched account; table: through
    # the target table's id map; self: likewise, in a second pass; file: copied; fresh: a
    # new value (unique across the database, so the original's cannot be reused); value:
    # the field's own to_python.
    kind: str
    target: object = None


def _columns_of(model):
    result = []
    for field in columns(model):
        target = field.related_model if field.is_relation else None
        if field.primary_key:
            kind = "pk"
        elif target is Review:
            kind = "review"
        elif target is not None and is_user_model(target):
            kind = "user"
        elif target is model:
            kind = "self"
        elif target is not None:
            kind = "table"
        elif isinstance(field, models.FileField):
            kind = "file"
        elif field.unique and model is not Review:
            if not isinstance(field, models.UUIDField):
                raise ImproperlyConfigured(
                    f"{model._meta.label}.{field.name} is unique: say "
                    "how exports.restore makes a new value for it"
                )
            kind = "fresh"
        else:
            kind = "value"
        result.append(_Column(field, field.attname, kind, target))
    return result


def _targets():
    """The models other archived rows point at: their id maps are kept."""
    targets = set()
    for table in TABLES:
        targets.update(c.target for c in _columns_of(table.model) if c.target is not None)
        targets.update(f.related_model for f in many_to_many(table.model))
    return targets


@dataclass
class _Plan:
    """What the check learnt, for the restore: the archive's people, its review's row and
    the member of each table, with their checksums."""

    manifest: dict
    review_id: int
    users: list
    members: dict
    missing_files: set
    tables: dict  # model -> member name, for the tables the archive holds


class _Check:
    """Everything that can be checked before writing, in order: the ZIP's directory, the
    manifest, every member's checksum, then every row."""

    def __init__(self, zf):
        self.zf = zf
        self.infos = {}
        self.ids = {}
        self.user_ids = set()
        self.users = []
        self.review_id = None
        self.referenced_files = set()
        self.targets = _targets()

    def run(self):
        self._check_directory()
        manifest = self._read_manifest()
        self.members = self._check_members(manifest)
        self.missing_files = self._missing_files(manifest)
        tables = self._tables(manifest)
        for name in self.members:
            self._verify_checksum(name)
        self._check_users(manifest)
        for table in TABLES:
            if table.model in tables:
                self._check_table(table.model, tables[table.model], manifest)
            elif table.model is Review:
                raise RestoreError(
                    "The archive holds no review: its data/reviewapp.review.jsonl is missing."
                )
        self._check_every_member_used(tables)
        return _Plan(manifest, self.review_id, self.users, self.members, self.missing_files, tables)

    # The ZIP itself

    def _check_directory(self):
        max_member, max_total, max_ratio, max_members = limits()
        infos = self.zf.infolist()
        if len(infos) > max_members:
            raise RestoreError(
                f"The archive holds {len(infos):,} files, more than the "
                f"{max_members:,} allowed, so it was not restored."
            )
        total = 0
        for info in infos:
            name = info.filename
            if info.is_dir() and info.file_size == 0 and not _unsafe(name.rstrip("/")):
                continue  # a folder entry, as some tools add when a ZIP is re-made
            if _unsafe(name) or _unsafe(info.orig_filename):
                raise RestoreError(
                    f"The archive holds a file with an unsafe name ({info.orig_filename!r}): "
                    "a name that is absolute or climbs out of its folder (“..”). A reviewapp "
                    "archive never does, so it was not restored."
                )
            if name in self.infos:
                raise RestoreError(f"The archive holds {name} twice, so it was not restored.")
            if info.flag_bits & 0x1:
                raise RestoreError(
                    f"{name} in the archive is encrypted; reviewapp archives never are."
                )
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
                raise RestoreError(
                    f"{name} in the archive is compressed in a way reviewapp archives never are."
                )
            if info.file_size > max_member:
                raise RestoreError(
                    f"{name} would unpack to {_megabytes(info.file_size)}, more than the "
                    f"{_megabytes(max_member)} allowed for one file of an archive. This looks "
                    "like a zip bomb, so nothing was restored."
                )
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > RATIO_FLOOR_BYTES and ratio > max_ratio:
                raise RestoreError(
                    f"{name} would unpack to {_megabytes(info.file_size)} from "
                    f"{info.compress_size:,} bytes ({ratio:,.0f} to 1; the limit is {max_ratio} "
                    "to 1). This looks like a zip bomb, so nothing was restored."
                )
            total += info.file_size
            self.infos[name] = info
        if total > max_total:
            raise RestoreError(
                f"The archive would unpack to {_megabytes(total)}, more than the "
                f"{_megabytes(max_total)} allowed. This looks like a zip bomb, so nothing was "
                "restored."
            )

    def _read_manifest(self):
        info = self.infos.get(MANIFEST)
        if info is None:
            raise RestoreError("This ZIP file is not a reviewapp archive: it has no manifest.json.")
        if info.file_size > MANIFEST_MAX_BYTES:
            raise RestoreError(
                "The archive's manifest.json is implausibly large, so it was not restored."
            )
        try:
            manifest = json.loads(self._read_small(MANIFEST))
        except (ValueError, RecursionError) as exc:
            raise RestoreError(
                "The archive's manifest.json is not valid JSON, so it was not restored."
            ) from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
            raise RestoreError(
                "This ZIP file is not a reviewapp archive: its manifest.json "
                "describes something else."
            )
        version = manifest.get("format_version")
        if not _is_id(version) or version < 1:
            raise RestoreError("The archive's manifest.json has no valid format_version.")
        if version > FORMAT_VERSION:
            raise RestoreError(
                f"This archive was made by a newer version of reviewapp: format {version}, "
                f"this one reads up to {FORMAT_VERSION}. Restore it on an up-to-date reviewapp."
            )
        return manifest

    def _read_small(self, name):
        try:
            return self.zf.read(name)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            raise self._damaged(name) from exc

    def _damaged(self, name):
        return RestoreError(
            f"{name} cannot be read: the archive is damaged (it may have been "
            "cut short while it was downloaded or copied)."
        )

    def _check_members(self, manifest):
        members = manifest.get("members")
        if not isinstance(members, dict):
            raise RestoreError("The archive's manifest.json lists no members.")
        for name, entry in members.items():
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("sha256"), str)
                and _is_id(entry.get("size"))
            ):
                raise RestoreError(f"The archive's manifest.json has no checksum for {name}.")
            if name not in self.infos:
                raise RestoreError(
                    f"The archive's manifest lists {name}, but the archive does "
                    "not hold it: it is incomplete."
                )
        for name in self.infos:
            if name != MANIFEST and name not in members:
                raise RestoreError(
                    f"The archive holds {name}, which its manifest does not "
                    "list: it was changed after it was made."
                )
        return members

    def _missing_files(self, manifest):
        missing = manifest.get("missing_files", [])
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
            raise RestoreError("The archive's manifest.json has an invalid missing_files list.")
        return set(missing)

    def _tables(self, manifest):
        """{model: member} for each table the manifest lists (users aside)."""
        listed = manifest.get("tables")
        if not isinstance(listed, dict):
            raise RestoreError("The archive's manifest.json lists no tables.")
        known = {t.model._meta.label_lower: t for t in TABLES}
        tables = {}
        for label, entry in listed.items():
            if label == "reviewapp.user":
                expected = USERS_MEMBER
            elif label in known:
                expected = known[label].member
            else:
                # Restoring without it would lose its rows.
                raise RestoreError(
                    f"The archive holds a table this version of reviewapp does "
                    f"not know ({label}), so it cannot restore it whole."
                )
            if not (
                isinstance(entry, dict)
                and entry.get("member") == expected
                and _is_id(entry.get("rows"))
                and expected in self.members
            ):
                raise RestoreError(
                    f"The archive's manifest.json describes the table {label} wrongly."
                )
            if label != "reviewapp.user":
                tables[known[label].model] = expected
        if "reviewapp.user" not in listed:
            raise RestoreError("The archive lists no people (data/reviewapp.user.jsonl).")
        return tables

    def _verify_checksum(self, name):
        expected = self.members[name]
        digest, size = hashlib.sha256(), 0
        try:
            with self.zf.open(name) as member:
                while chunk := member.read(READ_BUFFER):
                    digest.update(chunk)
                    size += len(chunk)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
            # A CRC error is a changed member as often as a damaged one; say both.
            raise RestoreError(
                f"{name} does not match its checksum: the archive was changed "
                "or damaged after it was made."
            ) from exc
        if digest.hexdigest() != expected["sha256"] or size != expected["size"]:
            raise RestoreError(
                f"{name} does not match its checksum: the archive was changed "
                "or damaged after it was made."
            )

    # The rows

    def _check_users(self, manifest):
        emails = set()
        count = 0
        for where, row in _rows(self.zf, USERS_MEMBER):
            count += 1
            if not isinstance(row, dict) or set(row) - set(USER_FIELDS):
                raise RestoreError(
                    f"{where}: a person is described wrongly (only id, email "
                    "and name are expected)."
                )
            pk, email, name = row.get("id"), row.get("email"), row.get("name", "")
            if not _is_id(pk) or pk in self.user_ids:
                raise RestoreError(f"{where}: the id is missing or repeated.")
            try:
                validate_email(email)
            except (ValidationError, TypeError) as exc:
                raise RestoreError(f"{where}: {email!r} is not an email address.") from exc
            if not isinstance(name, str) or len(name) > 150:
                raise RestoreError(f"{where}: the name is not valid.")
            if email.lower() in emails:
                raise RestoreError(f"{where}: {email} is listed twice.")
            emails.add(email.lower())
            self.user_ids.add(pk)
            self.users.append((pk, email, name))
        self._check_count("reviewapp.user", count, manifest)

    def _check_table(self, model, member, manifest):
        cols = _columns_of(model)
        m2m = many_to_many(model)
        known = {c.key for c in cols} | {f.name for f in m2m}
        required = {
            c.key for c in cols if c.kind == "pk" or (c.target is not None and not c.field.null)
        }
        ids, self_refs = set(), []
        for where, row in _rows(self.zf, member):
            if not isinstance(row, dict):
                raise RestoreError(f"{where} is not a row (a JSON object).")
            if unknown := sorted(set(row) - known):
                raise RestoreError(
                    f"{where}: {', '.join(unknown)} is not a field this version "
                    "of reviewapp knows, so the row cannot be restored whole."
                )
            if missing := sorted(required - set(row)):
                raise RestoreError(f"{where}: the row has no {', '.join(missing)}.")
            pk = row["id"]
            if not _is_id(pk) or pk in ids:
                raise RestoreError(f"{where}: the id is missing or repeated.")
            ids.add(pk)
            for col in cols:
                if col.key in row and col.kind != "pk":
                    self._check_value(model, col, row[col.key], where, self_refs)
            for field in m2m:
                self._check_links(field, row.get(field.name, []), where)
        for where, target in self_refs:
            if target not in ids:
                raise RestoreError(f"{where}: it points at row {target}, which is not in {member}.")
        if model is Review:
            about = manifest.get("review")
            if len(ids) != 1 or not isinstance(about, dict) or about.get("id") not in ids:
                raise RestoreError(f"{member} must hold exactly the archive's one review.")
            self.review_id = next(iter(ids))
        if model in self.targets:
            self.ids[model] = ids
        self._check_count(model._meta.label_lower, len(ids), manifest)

    def _check_value(self, model, col, value, where, self_refs):
        field = col.field
        if value is None:
            if not field.null:
                raise RestoreError(f"{where}: {col.key} must not be empty.")
            return
        if col.target is not None:
            if not _is_id(value):
                raise RestoreError(f"{where}: {col.key} is not an id.")
            if col.kind == "self":
                self_refs.append((where, value))
            elif col.kind == "review":
                if value != self.review_id:
                    raise RestoreError(f"{where}: {col.key} {value} is not the archive's review.")
            elif col.kind == "user":
                if value not in self.user_ids:
                    raise RestoreError(f"{where}: {col.key} {value} is not in {USERS_MEMBER}.")
            elif value not in self.ids.get(col.target, ()):
                target = col.target._meta.label_lower
                raise RestoreError(
                    f"{where}: {col.key} {value} is not in data/{target}.jsonl: "
                    "the row points at something the archive does not hold."
                )
            return
        if col.kind == "file":
            if not isinstance(value, str) or (value and _unsafe(value)):
                raise RestoreError(f"{where}: {col.key} is not a safe file name.")
            if len(value) > field.max_length:
                raise RestoreError(f"{where}: {col.key} is too long for a file name.")
            if value:
                name = file_member(model, field, value)
                if name not in self.members and name not in self.missing_files:
                    raise RestoreError(f"{where}: the archive does not hold its file {name}.")
                self.referenced_files.add(name)
            return
        try:
            parsed = field.to_python(value)
        except (ValidationError, TypeError, ValueError) as exc:
            raise RestoreError(f"{where}: {col.key} {value!r} is not valid.") from exc
        if field.max_length and isinstance(parsed, str) and len(parsed) > field.max_length:
            raise RestoreError(f"{where}: {col.key} is longer than {field.max_length} characters.")

    def _check_links(self, field, value, where):
        if not isinstance(value, list) or not all(_is_id(v) for v in value):
            raise RestoreError(f"{where}: {field.name} is not a list of ids.")
        known = (
            self.user_ids
            if is_user_model(field.related_model)
            else self.ids.get(field.related_model, ())
        )
        for target in value:
            if target not in known:
                raise RestoreError(
                    f"{where}: {field.name} names {target}, which the archive does not hold."
                )

    def _check_count(self, label, count, manifest):
        if manifest["tables"].get(label, {}).get("rows") != count:
            raise RestoreError(
                f"The archive's manifest counts a different number of rows "
                f"for {label} than it holds: it is not whole."
            )

    def _check_every_member_used(self, tables):
        used = {MANIFEST, USERS_MEMBER, *tables.values(), *self.referenced_files}
        for name in self.members:
            if name not in used:
                raise RestoreError(f"The archive holds {name}, which nothing in it refers to.")


class _HashingReader(io.RawIOBase):
    """A member read through a checksum, so the restore writes exactly the bytes the check
    passed (the archive cannot change in between unnoticed)."""

    def __init__(self, raw):
        self.raw = raw
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.digest.update(data)
        return len(data)

    def close(self):
        self.raw.close()
        super().close()


def _rows(zf, member, digests=None):
    """(where, row) for each line of a JSON Lines member; `digests[member]` gets the hash
    of what was read."""
    try:
        with zf.open(member) as raw, _HashingReader(raw) as hashing:
            text = io.TextIOWrapper(io.BufferedReader(hashing, READ_BUFFER), encoding="utf-8")
            number = 0
            while line := text.readline(LINE_MAX_CHARS + 1):
                number += 1
                where = f"{member} line {number}"
                if len(line) > LINE_MAX_CHARS:
                    raise RestoreError(f"{where} is implausibly long, so it was not restored.")
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except (ValueError, RecursionError) as exc:
                    raise RestoreError(f"{where} is not valid JSON.") from exc
                yield where, row
            if digests is not None:
                digests[member] = hashing.digest.hexdigest()
    except UnicodeDecodeError as exc:
        raise RestoreError(f"{member} is not UTF-8 text.") from exc
    except (zipfile.BadZipFile, zlib.error, EOFError) as exc:
        raise RestoreError(f"{member} cannot be read: the archive is damaged.") from exc


class _Restorer:
    def __init__(self, zf, plan, user, log, keep_members=True):
        self.zf, self.plan, self.user, self.log = zf, plan, user, log
        self.keep_members = keep_members
        self.user_map = {}
        self.maps = {}
        self.copied = []
        self.file_names = {}
        self.digests = {}
        self.review = None
        self.targets = _targets()

    def run(self):
        self._match_users()
        for table in TABLES:
            member = self.plan.tables.get(table.model)
            if member is None:
                continue  # a table newer than the archive: it had no rows of it
            if table.model is Review:
                self._restore_review(member)
            else:
                self._restore_table(table.model, member)
            self._verify(member)
        if self.user is not None:
            Membership.objects.update_or_create(
                review=self.review, user=self.user, defaults={"role": Role.LEAD}
            )
            if not self.keep_members:
                others = Membership.objects.filter(review=self.review).exclude(user=self.user)
                if count := others.count():
                    others.delete()
                    self.log(f"{count} other member(s) were not added; invite them again.")
        return self.review

    def delete_copied_files(self):
        for storage, name in self.copied:
            storage.delete(name)
        self.copied = []

    def _verify(self, member):
        if self.digests.get(member) != self.plan.members[member]["sha256"]:
            raise RestoreError(
                f"{member} changed while it was being restored; nothing was restored."
            )

    def _match_users(self):
        User = get_user_model()
        created = []
        for pk, email, name in self.plan.users:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                # No password: the person proves the address is theirs by resetting it.
                user = User.objects.create_user(email=email, password=None, name=name)
                created.append(email)
            self.user_map[pk] = user.pk
        if created:
            self.log(
                f"Created {len(created)} account(s) without a password (they can set one "
                f"with “Forgot your password?”): {', '.join(created)}"
            )

    def _restore_review(self, member):
        cols = _columns_of(Review)
        ((_, row),) = _rows(self.zf, member, self.digests)
        values = self._values(Review, cols, row, [])
        values["slug"] = _new_slug(row.get("slug", ""))
        self.review = Review.objects.create(**values)

    def _restore_table(self, model, member):
        cols = _columns_of(model)
        m2m = many_to_many(model)
        id_map = {}
        later = []  # (new id, field, old id it points at): self-references, second pass
        batch = []
        for _, row in _rows(self.zf, member, self.digests):
            batch.append(row)
            if len(batch) == BATCH:
                self._insert(model, cols, m2m, batch, id_map, later)
                batch = []
        if batch:
            self._insert(model, cols, m2m, batch, id_map, later)
        if model in self.targets:
            self.maps[model] = id_map
        for start in range(0, len(later), BATCH):
            updates = {}
            for pk, field, target in later[start : start + BATCH]:
                updates.setdefault(field, []).append(
                    model(pk=pk, **{field.attname: id_map[target]})
                )
            for field, objs in updates.items():
                model._base_manager.bulk_update(objs, [field.name])

    def _insert(self, model, cols, m2m, rows, id_map, later):
        objs, pending = [], []
        for row in rows:
            self_refs = []
            objs.append(model(**self._values(model, cols, row, self_refs)))
            pending.append(self_refs)
        model._base_manager.bulk_create(objs)
        links = {field: [] for field in m2m}
        for row, obj, self_refs in zip(rows, objs, pending, strict=True):
            if obj.pk is None:
                raise RestoreError(
                    "This database cannot report the ids of new rows, which restoring needs."
                )
            id_map[row["id"]] = obj.pk
            later.extend((obj.pk, field, target) for field, target in self_refs)
            for field in m2m:
                links[field].extend((obj.pk, target) for target in row.get(field.name, []))
        for field, pairs in links.items():
            through = field.remote_field.through
            source, target = f"{field.m2m_field_name()}_id", f"{field.m2m_reverse_field_name()}_id"
            target_map = (
                self.user_map
                if is_user_model(field.related_model)
                else self.maps[field.related_model]
            )
            through._base_manager.bulk_create(
                [through(**{source: pk, target: target_map[old]}) for pk, old in pairs],
                batch_size=BATCH,
            )

    def _values(self, model, cols, row, self_refs):
        values = {}
        for col in cols:
            if col.kind == "pk" or col.key not in row:
                continue
            value = row[col.key]
            if value is None:
                values[col.key] = None
            elif col.kind == "review":
                values[col.key] = self.review.pk
            elif col.kind == "user":
                values[col.key] = self.user_map[value]
            elif col.kind == "table":
                values[col.key] = self.maps[col.target][value]
            elif col.kind == "self":
                values[col.key] = None
                self_refs.append((col.field, value))
            elif col.kind == "file":
                values[col.key] = self._copy_file(model, col.field, value) if value else ""
            elif col.kind == "fresh":
                values[col.key] = uuid.uuid4()
            else:
                values[col.key] = col.field.to_python(value)
        return values

    def _copy_file(self, model, field, name):
        member = file_member(model, field, name)
        if member in self.plan.missing_files:
            # Not in the archive (it was missing when the archive was made): empty rather
            # than pointing at whatever has that name here.
            return ""
        if member in self.file_names:
            return self.file_names[member]
        with self.zf.open(member) as raw, _HashingReader(raw) as hashing:
            content = File(hashing, name=posixpath.basename(name))
            content.size = self.zf.getinfo(member).file_size
            # save() picks a name no other file has (a suffix when the original's is taken):
            # the copy never shares a file with the original review.
            new_name = field.storage.save(name, content, max_length=field.max_length)
            self.copied.append((field.storage, new_name))
            self.digests[member] = hashing.digest.hexdigest()
        self._verify(member)
        self.file_names[member] = new_name
        return new_name


def _new_slug(original):
    base = slugify(original)[: Review._meta.get_field("slug").max_length - len(SLUG_SUFFIX) - 4]
    stem = f"{base or 'review'}{SLUG_SUFFIX}"
    slug, n = stem, 2
    while Review.objects.filter(slug=slug).exists():
        slug = f"{stem}-{n}"
        n += 1
    return slug
