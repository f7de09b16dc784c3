"""The review archive (exports.writers.archive) and its restore (exports.restore): a fully
populated review goes out and comes back as a new review with every row and file equal;
hostile archives are refused before anything is written."""

import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import zipfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import models
from django.urls import include, path, reverse
from django.utils import timezone

from advisory.models import Comment, CommentEdit, Preference, Redaction, SharedExcerpt
from coding.models import Code, CodingConfig, Document, Memo, ThemeRevision
from exports import urls_restore
from exports.registry import get_format, no_progress
from exports.restore import RestoreError, restore_archive
from exports.writers.archive import (
    LEFT_OUT,
    MANIFEST,
    TABLES,
    USERS_MEMBER,
    columns,
    file_fields,
    is_user_model,
    many_to_many,
)
from reviewapp.models import Invitation, Membership, Review, Role, User
from screening.decisions import record_decision
from screening.fulltexts import attach_pdf
from screening.models import (
    FullText,
    HighlightTerm,
    ImportBatch,
    Record,
    RecordStage,
    ScreenerCursor,
    ScreeningConfig,
    Stage,
)

from ..screening.factories import import_file, ris_bytes, work

# The restore page, whether or not reviewapp/urls.py includes it yet (base.html needs the
# rest of the site's names).
urlpatterns = [*urls_restore.urlpatterns, path("", include("reviewapp.urls"))]

PDF = b"%PDF-1.4\n% a full text\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def export(review):
    out = io.BytesIO()
    get_format("archive").write(review, out, progress=no_progress, options={})
    return out.getvalue()


def members_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def rebuild(data, *, replace=None, add=None, manifest=None, rehash=True):
    """A copy of an archive with members replaced or added; `manifest(dict)` edits the
    manifest; with `rehash` the manifest's checksums are made to match (a forger's copy)."""
    contents = members_of(data)
    contents.update(replace or {})
    contents.update(add or {})
    meta = json.loads(contents.pop(MANIFEST))
    if rehash:
        meta["members"] = {
            name: {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}
            for name, body in contents.items()
        }
    if manifest:
        manifest(meta)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in contents.items():
            zf.writestr(name, body)
        zf.writestr(MANIFEST, json.dumps(meta))
    return out.getvalue()


def jsonl(rows):
    return "".join(json.dumps(row) + "\n" for row in rows).encode()


def rows_in(data, member):
    return [json.loads(line) for line in members_of(data)[member].decode().splitlines()]


def state(media):
    """Everything a restore could create: row counts of every archived table, accounts,
    and the files in storage."""
    counts = {t.label: t.model._base_manager.count() for t in TABLES}
    counts["users"] = User.objects.count()
    counts["files"] = sorted(str(p) for p in Path(media).rglob("*") if p.is_file())
    return counts


@pytest.fixture
def small(review, lead, reviewer, advisory):
    """A small review with a search file, a duplicate, decisions and a code tree."""
    import_file(review, ris_bytes([work(1), work(2), work(3), work(2)]), user=lead)
    for record in Record.objects.filter(review=review, duplicate_of=None)[:2]:
        record_decision(record=record, stage="ta", reviewer=reviewer, value="include")
    theme = Code.objects.create(review=review, name="Theme", created_by=lead)
    Code.objects.create(review=review, name="Code", parent=theme, created_by=lead)
    return review


# Which models the archive holds


def review_models():
    """Every model whose rows belong to a review: a ForeignKey to Review, or to such a
    model, at any depth."""
    found = {Review}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            if model not in found and any(
                f.is_relation and f.related_model in found for f in model._meta.concrete_fields
            ):
                found.add(model)
                changed = True
    return found


def test_every_model_holding_review_data_is_archived_or_left_out_with_a_reason():
    archived = {t.model for t in TABLES}
    left_out = {apps.get_model(label) for label in LEFT_OUT}
    forgotten = sorted(m._meta.label for m in review_models() - archived - left_out)
    assert forgotten == [], (
        f"{forgotten} hold a review's data but are not in exports.writers.archive.TABLES "
        "(nor in LEFT_OUT, with the reason): a restored review would lose them."
    )
    assert archived & left_out == set()
    assert all(LEFT_OUT.values())


def test_tables_come_after_the_tables_they_point_at():
    seen = set()
    for table in TABLES:
        for field in columns(table.model):
            target = field.related_model if field.is_relation else None
            if target is None or target in (Review, table.model) or is_user_model(target):
                continue
            assert target in seen, f"{table.label}.{field.name} points at a later table"
        for field in many_to_many(table.model):
            assert is_user_model(field.related_model) or field.related_model in seen
        seen.add(table.model)


def test_no_archived_field_is_overwritten_when_saved():
    # auto_now / auto_now_add would replace the archived value with the time of restore.
    for table in TABLES:
        for field in columns(table.model):
            assert not getattr(field, "auto_now", False), (table.label, field.name)
            assert not getattr(field, "auto_now_add", False), (table.label, field.name)


# The whole round trip


def populate_beyond_the_demo(review):
    """Rows of every table the demo leaves empty, and the awkward cases: files, a pending
    invitation (left out), a self-reference to a later row, many-to-many links."""
    lead = User.objects.get(email="lead@demo.example")
    reviewer = User.objects.get(email="reviewer1@demo.example")
    advisory = User.objects.get(email="advisory@demo.example")
    from screening.models import Ranking, StopDecision

    if not Ranking.objects.filter(review=review).exists():
        Ranking.objects.create(review=review, status="done", model_name="test model",
                               settings={"C": 1.0}, training_includes=3, training_excludes=40,
                               records_ranked=1000, seconds=0.2)  # fmt: skip
    StopDecision.objects.create(review=review, decided_by=lead, note="Enough evidence.",
                                evidence={"p_value": 0.01})  # fmt: skip
    record = (
        Record.objects.filter(review=review, duplicate_of=None, stages__stage=Stage.FT)
        .exclude(stages__status="merged")
        .order_by("pk")
        .first()
    )
    attach_pdf(record, SimpleUploadedFile("Smith 2019.pdf", PDF), lead)
    config = ScreeningConfig.objects.get(review=review)
    config.adjudicators.add(reviewer)
    HighlightTerm.objects.create(review=review, user=reviewer, term="harm*", kind="include")
    ScreenerCursor.objects.create(review=review, user=reviewer, stage=Stage.TA, order_key=12345)
    CodingConfig.objects.create(review=review, comparison_open=True,
                                comparison_opened_at=timezone.now())  # fmt: skip
    first_code = Code.objects.filter(review=review).order_by("pk").first()
    later = Code.objects.create(review=review, name="Added later", created_by=lead)
    first_code.parent = later  # a self-reference to a row with a higher id
    first_code.save(update_fields=["parent"])
    Memo.objects.create(review=review, code=later, author=lead, text="Why this code exists")
    Memo.objects.create(review=review, document=Document.objects.filter(review=review).first(),
                        author=reviewer, text="A note on the document — “quoted”")  # fmt: skip
    ThemeRevision.objects.create(
        review=review, theme=later, theme_name=later.name, author=lead, reason="Test",
        before={}, after={"name": "x"},
    )  # fmt: skip
    shared = SharedExcerpt.objects.filter(shared_theme__review=review).first()
    Redaction.objects.create(shared_excerpt=shared, start=0, end=3, replacement="[name]")
    comment = Comment.objects.filter(review=review).first()
    CommentEdit.objects.create(comment=comment, body="The first wording")
    Preference.objects.create(
        membership=Membership.objects.get(review=review, user=advisory),
        fold_content_notes=True, frequency="daily",
    )  # fmt: skip
    now = timezone.now()
    Invitation.objects.create(review=review, email="joined@example.org", role=Role.REVIEWER,
                              invited_by=lead, expires_at=now + timedelta(days=3),
                              accepted_at=now, accepted_by=reviewer)  # fmt: skip
    Invitation.objects.create(review=review, email="revoked@example.org", role=Role.ADVISORY,
                              invited_by=lead, expires_at=now + timedelta(days=3),
                              revoked_at=now)  # fmt: skip
    Invitation.objects.create(review=review, email="pending@example.org", role=Role.ADVISORY,
                              invited_by=lead, expires_at=now + timedelta(days=3))  # fmt: skip


def table_rows(table, review):
    model = table.model
    names = [f.attname for f in columns(model)]
    rows = list(table.rows(review).order_by("pk").values(*names))
    for field in many_to_many(model):
        for row in rows:
            row[field.name] = sorted(
                getattr(model.objects.get(pk=row["id"]), field.name).values_list("pk", flat=True)
            )
    return rows


def assert_same_review(original, restored):
    """Every row of every archived table equal after mapping ids, and every file's bytes."""
    id_maps = {}
    for table in TABLES:
        model = table.model
        before, after = table_rows(table, original), table_rows(table, restored)
        assert len(before) == len(after), table.label
        # Rows are inserted in the archive's (primary-key) order, so new ids keep it.
        id_maps[model] = {b["id"]: a["id"] for b, a in zip(before, after, strict=True)}
        fresh = {f.attname for f in columns(model)
                 if f.unique and not f.primary_key and not f.is_relation}  # fmt: skip
        files = {f.attname: f for f in file_fields(model)}
        for old, new in zip(before, after, strict=True):
            for field in columns(model):
                key, was, now = field.attname, old[field.attname], new[field.attname]
                where = f"{table.label}.{key} of row {old['id']}"
                if field.primary_key:
                    assert now == id_maps[model][was] and now != was, where
                elif field.is_relation and field.related_model is Review:
                    assert (was, now) == (original.pk, restored.pk), where
                elif field.is_relation and not is_user_model(field.related_model):
                    assert now == (None if was is None else id_maps[field.related_model][was]), (
                        where
                    )
                elif key in files:
                    assert bool(was) == bool(now), where
                    if was:
                        storage = files[key].storage
                        assert now != was, where
                        with storage.open(was) as a, storage.open(now) as b:
                            assert a.read() == b.read(), where
                elif key in fresh:
                    assert now != was, where  # unique across the database: made anew
                else:
                    assert now == was, where  # users too: matched by email, the same accounts
            for field in many_to_many(model):
                assert new[field.name] == old[field.name]
    return id_maps


@pytest.mark.django_db
def test_demo_review_round_trips_with_nothing_lost(media):
    from reviewapp.demo import seed_demo

    original, _ = seed_demo()
    populate_beyond_the_demo(original)
    for table in TABLES:
        if table.label != "reviewapp.Invitation":
            assert table.rows(original).exists(), f"the test leaves {table.label} empty"
    assert FullText.objects.filter(record__review=original).exclude(file="").exists()
    assert ImportBatch.objects.filter(review=original).exclude(file="").exists()

    data = export(original)
    contents = members_of(data)
    manifest = json.loads(contents[MANIFEST])
    assert manifest["format"] == "reviewapp-archive"
    assert manifest["format_version"] == 1
    for name, body in contents.items():
        if name != MANIFEST:
            assert manifest["members"][name]["sha256"] == hashlib.sha256(body).hexdigest()
    assert (
        manifest["tables"]["screening.record"]["rows"]
        == Record.objects.filter(review=original).count()
    )
    # People: email and name only; no password hash anywhere in the archive.
    assert {tuple(sorted(row)) for row in rows_in(data, USERS_MEMBER)} == {("email", "id", "name")}
    assert not any(b"md5$" in body for body in contents.values())
    # Pending invitations stay with the original review.
    invited = {row["email"] for row in rows_in(data, "data/reviewapp.invitation.jsonl")}
    assert invited == {"joined@example.org", "revoked@example.org"}

    lead = User.objects.get(email="lead@demo.example")
    restored = restore_archive(io.BytesIO(data), user=lead)

    assert restored.pk != original.pk
    assert restored.slug == "demo-restored"
    assert restored.title == original.title
    assert_same_review(original, restored)
    # The restored review works as a review: the lead is a lead, RecordStage is consistent.
    assert Membership.objects.get(review=restored, user=lead).role == Role.LEAD
    assert RecordStage.objects.filter(review=restored, record__review=original).count() == 0


def test_restoring_twice_gives_two_independent_reviews(small, lead, media):
    data = export(small)
    first = restore_archive(io.BytesIO(data), user=lead)
    second = restore_archive(io.BytesIO(data), user=lead)

    assert (first.slug, second.slug) == ("harm-restored", "harm-restored-2")
    for table in TABLES:
        a = set(table.rows(first).values_list("pk", flat=True))
        b = set(table.rows(second).values_list("pk", flat=True))
        c = set(table.rows(small).values_list("pk", flat=True))
        assert len(a) == len(b) == len(c), table.label
        assert not (a & b) and not (a & c) and not (b & c), table.label
    names = {b.file.name for b in ImportBatch.objects.filter(review__in=[small, first, second])}
    assert len(names) == 3
    # Changing one copy leaves the other alone.
    Record.objects.filter(review=first).update(title="changed")
    assert not Record.objects.filter(review=second, title="changed").exists()
    assert_same_review(small, second)


def test_restoring_user_becomes_lead_and_the_archives_members_stay(
    small, lead, reviewer, advisory, outsider
):
    restored = restore_archive(io.BytesIO(export(small)), user=outsider)

    roles = dict(Membership.objects.filter(review=restored).values_list("user__email", "role"))
    assert roles == {
        lead.email: Role.LEAD, reviewer.email: Role.REVIEWER,
        advisory.email: Role.ADVISORY, outsider.email: Role.LEAD,
    }  # fmt: skip


def test_people_unknown_here_get_an_account_without_a_password(small, reviewer):
    data = export(small)
    old_email = reviewer.email
    reviewer.email = "moved@example.org"
    reviewer.save(update_fields=["email"])
    lines = []

    restored = restore_archive(io.BytesIO(data), user=None, log=lines.append)

    created = User.objects.get(email=old_email)
    assert created.pk != reviewer.pk
    assert not created.has_usable_password()
    assert created.name == reviewer.name
    assert Membership.objects.get(review=restored, user=created).role == Role.REVIEWER
    assert old_email in lines[0]


def test_a_file_missing_from_storage_is_listed_and_restored_as_empty(small, lead):
    batch = ImportBatch.objects.get(review=small)
    batch.file.storage.delete(batch.file.name)

    data = export(small)

    manifest = json.loads(members_of(data)[MANIFEST])
    assert manifest["missing_files"] == [f"files/screening.importbatch.file/{batch.file.name}"]
    restored = restore_archive(io.BytesIO(data), user=lead)
    assert ImportBatch.objects.get(review=restored).file.name == ""


def test_an_empty_review_round_trips(review, lead):
    restored = restore_archive(io.BytesIO(export(review)), user=lead)

    assert (restored.title, restored.question) == (review.title, review.question)
    assert list(Membership.objects.filter(review=restored).values_list("user", "role")) == [
        (lead.pk, Role.LEAD)
    ]


def test_export_reports_progress(small):
    seen = []
    get_format("archive").write(small, io.BytesIO(), options={},
                                progress=lambda f, message="": seen.append(f))  # fmt: skip
    assert seen[-1] == 1.0
    assert seen == sorted(seen)


# Hostile archives: refused with a message, and nothing created


def refused(data, media, match, user=None):
    before = state(media)
    with pytest.raises(RestoreError, match=match) as caught:
        restore_archive(io.BytesIO(data), user=user)
    assert state(media) == before
    return str(caught.value)


def test_truncated_archive_is_refused(small, lead, media):
    data = export(small)
    refused(data[: len(data) // 2], media, "damaged or incomplete", lead)


def test_a_file_that_is_not_a_zip_is_refused(small, lead, media):
    refused(b"%PDF-1.4 not an archive", media, "not a ZIP archive", lead)
    refused(b"", media, "not a ZIP archive", lead)


def test_a_member_with_a_huge_compression_ratio_is_refused_as_a_zip_bomb(small, lead, media):
    bomb = rebuild(export(small), add={"files/screening.importbatch.file/x": bytes(60 << 20)})
    message = refused(bomb, media, "zip bomb", lead)
    assert "files/screening.importbatch.file/x" in message


def declare_size(data, member, size):
    """The archive with `member`'s uncompressed size in the central directory replaced."""
    name = member.encode()
    at = 0
    while True:
        at = data.index(b"PK\x01\x02", at)
        length = struct.unpack_from("<H", data, at + 28)[0]
        if data[at + 46 : at + 46 + length] == name:
            return data[: at + 24] + struct.pack("<I", size) + data[at + 28 :]
        at += 4


def test_a_member_declaring_a_huge_size_is_refused_as_a_zip_bomb(small, lead, media):
    data = declare_size(export(small), "data/screening.record.jsonl", 0xFFFFFFF0)
    message = refused(data, media, "zip bomb", lead)
    assert "data/screening.record.jsonl would unpack to 4,096 MB" in message


def test_an_archive_over_the_total_size_limit_is_refused(small, lead, media, settings):
    settings.ARCHIVE_MAX_UNPACKED_MB = 0
    refused(export(small), media, "The archive would unpack to .* zip bomb", lead)


@pytest.mark.parametrize(
    "name", ["../evil", "data/../../evil", "/etc/evil", "C:/evil", "files\\..\\evil"]
)
def test_a_member_with_an_unsafe_name_is_refused(small, lead, media, name):
    out = io.BytesIO(export(small))
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr(zipfile.ZipInfo(name), b"evil")
    with zipfile.ZipFile(out) as zf:
        assert name in zf.namelist()  # the name went in as written
    refused(out.getvalue(), media, "unsafe name", lead)


def test_an_archive_from_a_newer_version_is_refused(small, lead, media):
    newer = rebuild(export(small), manifest=lambda m: m.update(format_version=2))
    message = refused(newer, media, "newer version of reviewapp", lead)
    assert "format 2, this one reads up to 1" in message


def test_a_zip_without_a_manifest_is_refused(small, lead, media):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("data/reviewapp.review.jsonl", b"{}\n")
    refused(out.getvalue(), media, "no manifest.json", lead)


def test_tampered_rows_are_refused_by_their_checksum(small, lead, media):
    data = export(small)
    member = "data/screening.record.jsonl"
    rows = rows_in(data, member)
    rows[0]["title"] = "Something else"
    tampered = rebuild(data, replace={member: jsonl(rows)}, rehash=False)
    message = refused(tampered, media, "does not match its checksum", lead)
    assert message.startswith(member)


def test_a_forged_archive_pointing_at_a_missing_row_is_refused(small, lead, media):
    data = export(small)
    member = "data/screening.decision.jsonl"
    rows = rows_in(data, member)
    rows[0]["record_id"] = 99_999_999
    forged = rebuild(data, replace={member: jsonl(rows)})  # checksums made to match
    message = refused(forged, media, "not in data/screening.record.jsonl", lead)
    assert message.startswith(f"{member} line 1: record_id 99999999")


def test_a_forged_self_reference_to_a_missing_row_is_refused(small, lead, media):
    data = export(small)
    member = "data/coding.code.jsonl"
    rows = rows_in(data, member)
    rows[0]["parent_id"] = 99_999_999
    refused(rebuild(data, replace={member: jsonl(rows)}), media, "not in data/coding.code", lead)


def test_folder_entries_of_a_remade_zip_are_harmless(small, lead):
    out = io.BytesIO(export(small))
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr(zipfile.ZipInfo("data/"), b"")
    assert restore_archive(out, user=lead).slug == "harm-restored"


def test_a_forged_member_the_manifest_does_not_list_is_refused(small, lead, media):
    out = io.BytesIO(export(small))
    with zipfile.ZipFile(out, "a") as zf:
        zf.writestr("files/extra.bin", b"x")
    refused(out.getvalue(), media, "which its manifest does not list", lead)


def test_a_failure_while_writing_rolls_back_rows_and_copied_files(small, lead, media):
    data = export(small)
    rows = rows_in(data, "data/screening.record.jsonl")
    # Passes every check but breaks a database constraint (duplicate pairs are ordered);
    # the search file is copied before it fails.
    pairs = "data/screening.duplicatepair.jsonl"
    pair = {"id": 1, "review_id": small.pk, "record_a_id": rows[1]["id"],
            "record_b_id": rows[0]["id"], "score": 0.5}  # fmt: skip
    count = lambda m: m["tables"]["screening.duplicatepair"].update(rows=1)  # noqa: E731
    forged = rebuild(data, replace={pairs: jsonl([pair])}, manifest=count)
    refused(forged, media, "could not be saved", lead)


# The command


def test_restore_review_command_prints_the_slug_last(small, lead, tmp_path):
    archive = tmp_path / "harm.zip"
    archive.write_bytes(export(small))
    out = io.StringIO()

    call_command("restore_review", str(archive), "--user", lead.email.upper(), stdout=out)

    slug = out.getvalue().splitlines()[-1]
    assert slug == "harm-restored"
    restored = Review.objects.get(slug=slug)
    assert Membership.objects.get(review=restored, user=lead).role == Role.LEAD


def test_restore_review_command_fails_with_the_message(small, tmp_path, media):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(b"not a zip")
    before = state(media)
    with pytest.raises(CommandError, match="not a ZIP archive"):
        call_command("restore_review", str(archive), stdout=io.StringIO())
    with pytest.raises(CommandError, match="no account"):
        call_command("restore_review", str(archive), "--user", "nobody@example.org")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("restore_review", str(tmp_path / "absent.zip"))
    assert state(media) == before


def test_restore_review_command_exits_non_zero_with_the_message(tmp_path):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(b"not a zip")
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reviewapp.settings.test"}

    done = subprocess.run(
        [sys.executable, "manage.py", "restore_review", str(archive)],
        cwd=repo, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode != 0
    assert "not a ZIP archive" in done.stderr
    assert done.stdout == ""


# The upload page


@pytest.mark.urls(__name__)
def test_restore_page_shows_an_accessible_form(client_for, outsider):
    response = client_for(outsider).get(reverse("restore_review"))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'enctype="multipart/form-data"' in html
    assert '<label for="id_archive">' in html
    assert 'aria-describedby="id_archive_helptext"' in html


@pytest.mark.urls(__name__)
def test_restore_page_needs_a_signed_in_user(client_for, small):
    response = client_for(None).post(reverse("restore_review"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    assert Review.objects.count() == 1


@pytest.mark.urls(__name__)
def test_restore_page_refuses_other_methods(client_for, outsider):
    assert client_for(outsider).put(reverse("restore_review")).status_code == 405


@pytest.mark.urls(__name__)
def test_anyone_signed_in_may_restore_and_becomes_lead(client_for, small, outsider):
    upload = SimpleUploadedFile("harm.zip", export(small), content_type="application/zip")

    response = client_for(outsider).post(reverse("restore_review"), {"archive": upload})

    restored = Review.objects.get(slug="harm-restored")
    assert response.status_code == 302
    assert response["Location"] == restored.get_absolute_url()
    assert Membership.objects.get(review=restored, user=outsider).role == Role.LEAD
    assert Record.objects.filter(review=restored).count() == 4
    # A forged upload must not put other people into a review: only the restorer joins.
    assert list(Membership.objects.filter(review=restored).values_list("user", flat=True)) == [
        outsider.pk
    ]
    assert Membership.objects.filter(review=small).count() > 1


@pytest.mark.urls(__name__)
def test_restore_page_refuses_a_bad_file_with_the_message(client_for, small, outsider, media):
    data = export(small)
    upload = SimpleUploadedFile("harm.zip", data[: len(data) // 2])
    before = state(media)

    response = client_for(outsider).post(reverse("restore_review"), {"archive": upload})

    assert response.status_code == 400
    html = response.content.decode()
    assert "Nothing was restored." in html
    assert "damaged or incomplete" in html
    assert 'role="alert"' in html
    assert state(media) == before


@pytest.mark.urls(__name__)
@pytest.mark.parametrize("padding", [0, 100_000], ids=["read", "refused-from-its-length"])
def test_restore_page_refuses_an_archive_over_the_size_limit(client_for, small, outsider,
                                                             settings, media, padding):  # fmt: skip
    settings.ARCHIVE_MAX_UPLOAD_MB = 0
    upload = SimpleUploadedFile("harm.zip", export(small) + bytes(padding))
    before = state(media)

    response = client_for(outsider).post(reverse("restore_review"), {"archive": upload})

    assert response.status_code == 413
    assert "larger than the 0 MB limit" in response.content.decode()
    assert state(media) == before


def test_models_with_files_are_the_expected_ones():
    # A new FileField is archived automatically; this names them so a reviewer notices.
    with_files = {t.label for t in TABLES if file_fields(t.model)}
    assert with_files == {"screening.ImportBatch", "screening.FullText"}
    assert all(isinstance(f, models.FileField) for t in TABLES for f in file_fields(t.model))
