"""Thematic coding: the documents of included studies, the codebook, and the coded excerpts.

Offsets are Unicode code points into a DocumentVersion's text, which never changes once
saved: editing a document's text makes a new version, and excerpts stay anchored to the
version they were made on.
"""

import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from reviewapp.models import Review
from screening.models import Study

# Colours offered for codes: each pairs with dark text at WCAG AA contrast.
PALETTE = (
    "#fde68a", "#bfdbfe", "#bbf7d0", "#fecaca", "#ddd6fe", "#fbcfe8", "#a5f3fc", "#fed7aa",
    "#d9f99d", "#e5e7eb",
)  # fmt: skip


class CodingConfig(models.Model):
    """Per-review coding settings. While comparison is closed, coders see only their own
    coding, so each codes independently; the lead opens comparison when all are done."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="coding_config")
    comparison_open = models.BooleanField(default=False)
    comparison_opened_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"coding settings of {self.review_id}"


class Document(models.Model):
    """A text to code: one per source of a study (its full text, a supplement, notes)."""

    class Source(models.TextChoices):
        PDF = "pdf", "Full-text PDF"
        TXT = "txt", "Text file"
        DOCX = "docx", "Word document"
        PASTE = "paste", "Pasted text"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="documents")
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=300)
    source = models.CharField(max_length=10, choices=Source.choices)
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["study__label", "title", "id"]

    def __str__(self):
        return self.title

    @property
    def current(self):
        """The latest version (prefetch `versions` to avoid a query per document)."""
        versions = list(self.versions.all())
        return max(versions, key=lambda v: v.number) if versions else None


class DocumentVersion(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    text = models.TextField()
    length = models.PositiveIntegerField(help_text="Length of the text in code points.")
    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=255, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["document_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="document_version_unique")
        ]

    def __str__(self):
        return f"{self.document} v{self.number}"

    @staticmethod
    def digest(text):
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Code(models.Model):
    """A node of the codebook tree: a theme at the top, codes and sub-codes beneath."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="codes")
    # CASCADE so a review can be deleted whole; coding.codebook.delete_code deletes a code's
    # sub-codes deliberately, after saying so.
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="children"
    )
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    inclusion_notes = models.TextField("when to use", blank=True)
    exclusion_notes = models.TextField("when not to use", blank=True)
    colour = models.CharField(max_length=7, default=PALETTE[0])
    position = models.PositiveIntegerField(default=0)
    guid = models.UUIDField(default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "guid"], name="code_guid_unique"),
        ]

    def __str__(self):
        return self.name


class Excerpt(models.Model):
    """A coded passage: [start, end) in code points of one document version, by one coder."""

    version = models.ForeignKey(DocumentVersion, on_delete=models.CASCADE, related_name="excerpts")
    # Denormalised so the synthesis views filter by review and document without joins.
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="excerpts")
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="excerpts")
    coder = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="excerpts"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    text = models.TextField(help_text="The passage, copied from the version at coding time.")
    memo = models.TextField(blank=True)
    codes = models.ManyToManyField(Code, through="ExcerptCode", related_name="excerpts")
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["document_id", "start", "end", "id"]
        indexes = [
            models.Index(fields=["version", "start"], name="excerpt_version_start"),
            models.Index(fields=["review", "coder"], name="excerpt_review_coder"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(end__gt=models.F("start")),
                                   name="excerpt_not_empty"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.document_id}[{self.start}:{self.end}]"


class ExcerptCode(models.Model):
    excerpt = models.ForeignKey(Excerpt, on_delete=models.CASCADE, related_name="applied")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, related_name="applied")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["excerpt", "code"], name="excerpt_code_unique")
        ]
        indexes = [models.Index(fields=["code", "excerpt"], name="excerpt_code_by_code")]

    def __str__(self):
        return f"{self.code_id} on {self.excerpt_id}"


class Memo(models.Model):
    """A researcher's note on a code or theme, or on a document (REFI-QDA exports these as
    notes)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="memos")
    code = models.ForeignKey(Code, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="memos")  # fmt: skip
    document = models.ForeignKey(Document, on_delete=models.CASCADE, null=True, blank=True,
                                 related_name="memos")  # fmt: skip
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    guid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__isnull=False, document__isnull=True)
                | models.Q(code__isnull=True, document__isnull=False),
                name="memo_on_one_thing",
            )
        ]

    def __str__(self):
        return self.text[:50]


class ThemeRevision(models.Model):
    """One change to a theme: its name, description, codes or grouping (or, from the
    advisory pages, its plain-language wording), with who, when and why. `before` and
    `after` are snapshots (coding.revisions.snapshot) so the history reads as a difference
    even after the theme is gone."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="theme_revisions")
    theme = models.ForeignKey(
        Code, on_delete=models.SET_NULL, null=True, blank=True, related_name="revisions"
    )
    theme_name = models.CharField(max_length=200)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    reason = models.TextField(blank=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.theme_name} revised {self.created_at:%Y-%m-%d %H:%M}"
