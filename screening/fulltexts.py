"""Full texts of records at the full-text stage, and the studies their reports belong to.

Views call these and never write FullText, Study or StudyReport themselves. Whether a full
text was retrieved feeds the record's full-text status, so every change to it ends with
screening.decisions.refresh_status on the locked full-text RecordStage row.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from .decisions import refresh_status
from .models import FullText, RecordStage, Stage, Study, StudyReport
from .models.decisions import StageStatus

# Every PDF starts with this header (ISO 32000-1, 7.5.2).
PDF_MAGIC = b"%PDF-"
LINK_MAX_LENGTH = 2000
REASON_MAX_LENGTH = 500
SETTLED_BY_RESOLUTION = (StageStatus.RESOLVED_INCLUDE, StageStatus.RESOLVED_EXCLUDE)


class FullTextError(ValueError):
    """A full text that cannot be attached, or a change that cannot be made; the message
    says why, for the reviewer."""


def max_upload_bytes():
    # Not in reviewapp/settings yet: 50 MB unless a deployment sets FULLTEXT_MAX_UPLOAD_MB.
    return getattr(settings, "FULLTEXT_MAX_UPLOAD_MB", 50) * 1024 * 1024


def _locked_ft_row(record):
    """The record's full-text RecordStage, locked; only such records can have full texts."""
    row = (
        RecordStage.objects.select_for_update()
        .select_related("record")
        .filter(record=record, stage=Stage.FT)
        .first()
    )
    if row is None:
        raise FullTextError("This record is not at the full-text stage.")
    if row.status == StageStatus.MERGED or row.record.duplicate_of_id is not None:
        raise FullTextError("This record was merged into another; attach the full text there.")
    return row


def _full_text_of(record):
    full_text = FullText.objects.select_for_update().filter(record=record).first()
    return full_text or FullText(record=record)


def _stamp(full_text, user):
    full_text.added_by = user
    full_text.added_at = timezone.now()


def display_name_of(upload):
    """The uploaded file's own name, without any folders a browser may send."""
    return re.split(r"[\\/]", upload.name or "")[-1][:255] or "the file"


def check_pdf(upload):
    """Refuse anything but a PDF within the size limit; the message names the file."""
    name = display_name_of(upload)
    limit = max_upload_bytes()
    if upload.size > limit:
        raise FullTextError(
            f"{name} is {upload.size / 1048576:.1f} MB, larger than the "
            f"{limit // 1048576} MB limit for a full text."
        )
    if upload.size == 0:
        raise FullTextError(f"{name} is empty.")
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    # Both the name and the content must say PDF: a renamed web page or program is refused
    # even if it ends in .pdf, and a PDF without the extension is refused too, because the
    # browser decides how to show a download by its name.
    if not name.lower().endswith(".pdf") or head != PDF_MAGIC:
        raise FullTextError(
            f"{name} is not a PDF. Upload the article as a PDF file, or add a link to it."
        )
    return name


def attach_pdf(record, upload, user):
    """Store `upload` as the record's full text, replacing an earlier file (which is deleted
    once the change is committed). Raises FullTextError, storing nothing, if it is not a PDF
    or is too large."""
    name = check_pdf(upload)
    with transaction.atomic():
        row = _locked_ft_row(record)
        full_text = _full_text_of(record)
        storage = full_text.file.storage
        old_file = full_text.file.name or ""
        # The stored name is ours (the record id); the reviewer's name is kept for display.
        full_text.file.save(f"record-{record.pk}.pdf", upload, save=False)
        new_file = full_text.file.name
        try:
            full_text.file_name = name
            full_text.not_retrieved, full_text.not_retrieved_reason = False, ""
            _stamp(full_text, user)
            full_text.save()
            refresh_status(row)
        except Exception:
            storage.delete(new_file)
            raise
        if old_file and old_file != new_file:
            # Only once the new file is committed: a rollback must not lose the old one.
            transaction.on_commit(lambda: storage.delete(old_file))
    return full_text


def attach_link(record, url, user):
    """Record where the full text can be read: an http or https address only."""
    url = (url or "").strip()
    if len(url) > LINK_MAX_LENGTH:
        raise FullTextError(f"The link is longer than {LINK_MAX_LENGTH} characters.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise FullTextError(
            "Enter a web address starting with http:// or https:// (other kinds of link are "
            "not accepted)."
        ) from exc
    with transaction.atomic():
        row = _locked_ft_row(record)
        full_text = _full_text_of(record)
        full_text.link = url
        full_text.not_retrieved, full_text.not_retrieved_reason = False, ""
        _stamp(full_text, user)
        full_text.save()
        refresh_status(row)
    return full_text


def mark_not_retrieved(record, reason, user):
    """Record that the full text could not be obtained, and why. The record's full-text
    status becomes "not retrieved" (PRISMA: reports not retrieved)."""
    reason = (reason or "").strip()
    if not reason:
        raise FullTextError("Say why the full text could not be retrieved.")
    if len(reason) > REASON_MAX_LENGTH:
        raise FullTextError(f"Keep the reason under {REASON_MAX_LENGTH} characters.")
    with transaction.atomic():
        row = _locked_ft_row(record)
        if row.status in SETTLED_BY_RESOLUTION:
            raise FullTextError("This record's conflict has been resolved; it cannot change.")
        full_text = _full_text_of(record)
        if full_text.file:
            raise FullTextError(
                "A PDF of this record is attached, so it was retrieved. Replace the PDF "
                "instead if it is the wrong one."
            )
        full_text.not_retrieved, full_text.not_retrieved_reason = True, reason
        _stamp(full_text, user)
        full_text.save()
        status = refresh_status(row)
    return status


def undo_not_retrieved(record, user):
    """Take back "not retrieved": the record returns to full-text assessment."""
    with transaction.atomic():
        row = _locked_ft_row(record)
        full_text = FullText.objects.select_for_update().filter(record=record).first()
        if full_text is None or not full_text.not_retrieved:
            return row.status
        full_text.not_retrieved, full_text.not_retrieved_reason = False, ""
        _stamp(full_text, user)
        full_text.save(
            update_fields=["not_retrieved", "not_retrieved_reason", "added_by", "added_at"]
        )
        status = refresh_status(row)
    return status


def study_label(record):
    """First author's surname and year, as screening.decisions labels a new study."""
    author = (record.first_author.split(",")[0] if record.authors else "") or "Anon"
    return f"{author} {record.year or 'n.d.'}"


def link_report(record, study, user):
    """Move the included report `record` into `study`, a study of the same review, as a
    later (non-primary) report; with `study=None` it becomes a study of its own again.

    A study left with no reports is deleted; one that lost its primary report gets its
    earliest remaining report as primary. Returns the study the report is now in.
    """
    # `user` is accepted for the audit trail to come: StudyReport has no field for it yet.
    if study is not None and study.review_id != record.review_id:
        raise FullTextError("That study belongs to another review.")
    with transaction.atomic():
        current = (
            StudyReport.objects.filter(record=record, study__review_id=record.review_id)
            .values_list("study_id", flat=True)
            .first()
        )
        if current is None:
            raise FullTextError("Only included reports can be linked to a study.")
        if study is not None and study.pk == current:
            raise FullTextError("This report is already in that study.")
        # Every move locks the studies it touches, in id order, before their reports: two
        # moves at once wait for each other instead of deadlocking.
        ids = [current] if study is None else [current, study.pk]
        locked = {s.pk: s for s in Study.objects.select_for_update().filter(pk__in=ids)
                  .order_by("pk")}  # fmt: skip
        report = StudyReport.objects.select_for_update().filter(record=record).first()
        if report is None or report.study_id != current or len(locked) != len(ids):
            raise FullTextError("The studies changed meanwhile: reload the page and try again.")
        old_study = locked[current]
        if study is None:
            if old_study.reports.count() == 1:
                raise FullTextError("This report is already a study of its own.")
            study = Study.objects.create(review_id=record.review_id, label=study_label(record))
        report.study = study
        report.is_primary = not study.reports.exclude(pk=report.pk).exists()
        report.save(update_fields=["study", "is_primary"])
        first = old_study.reports.order_by("-is_primary", "pk").first()
        if first is None:
            old_study.delete()
        elif not first.is_primary:
            first.is_primary = True
            first.save(update_fields=["is_primary"])
    return study
