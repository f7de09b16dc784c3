"""Adding documents to a study and revising their text.

A version's text never changes once saved: excerpts point into it by offset, so a change of
text would silently move every passage. Revising a document adds a version; excerpts made on
earlier versions stay where they were made, and the document page shows the latest.
"""

from django.db import transaction
from django.db.models import Max

from .models import Document, DocumentVersion

MAX_TEXT_LENGTH = 5_000_000


class DocumentError(ValueError):
    """A document that cannot be added or revised; the message says why."""


def _check(text):
    if not text or not text.strip():
        raise DocumentError("The document has no text.")
    if len(text) > MAX_TEXT_LENGTH:
        raise DocumentError(
            f"The text is {len(text):,} characters long; the limit is {MAX_TEXT_LENGTH:,}."
        )


@transaction.atomic
def add_document(*, study, title, text, source, user, file_name=""):
    _check(text)
    document = Document.objects.create(
        review_id=study.review_id,
        study=study,
        title=(title or study.label)[:300],
        source=source,
        created_by=user,
    )
    _add_version(document, text, user, number=1, file_name=file_name, note="First version")
    return document


def _add_version(document, text, user, *, number, file_name="", note=""):
    return DocumentVersion.objects.create(
        document=document,
        number=number,
        text=text,
        length=len(text),
        sha256=DocumentVersion.digest(text),
        file_name=file_name[:255],
        note=note[:500],
        created_by=user,
    )


@transaction.atomic
def revise_document(*, document, text, user, note="", file_name=""):
    """Add a version with `text`. Returns the new version, or the current one unchanged when
    the text is the same (no empty versions)."""
    _check(text)
    # Lock the document so two revisions at once get distinct numbers.
    Document.objects.select_for_update().filter(pk=document.pk).first()
    latest = document.versions.order_by("-number").first()
    if latest is not None and latest.sha256 == DocumentVersion.digest(text):
        return latest
    number = (document.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    return _add_version(document, text, user, number=number, file_name=file_name, note=note)


def latest_version(document):
    return document.versions.order_by("-number").first()
