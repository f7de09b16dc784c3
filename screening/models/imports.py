"""Search results: import batches, records (one per imported entry) and duplicate pairs.

Every imported entry is a Record row that keeps its source's fields. Deduplication never
deletes: a duplicate points at the record that survives (`duplicate_of`), so per-source
counts, provenance and undo all stay exact. Change duplicates through screening.services.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from reviewapp.models import Review

from ..importers.rows import expand_raw
from ..storage import import_storage


class ImportBatch(models.Model):
    class Kind(models.TextChoices):
        DATABASE = "database", "Database or register search"
        OTHER = "other", "Other methods (experts, citation searching, websites)"

    class Status(models.TextChoices):
        MAPPING = "mapping", "Waiting for column mapping"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Failed"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="import_batches")
    source = models.CharField(max_length=200, help_text="Database searched, or other method.")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.DATABASE)
    search_date = models.DateField(null=True, blank=True)
    search_string = models.TextField(blank=True)
    file_name = models.CharField(max_length=255)
    file = models.FileField(storage=import_storage, upload_to="%Y/%m/", max_length=500)
    file_size = models.BigIntegerField(default=0)
    file_format = models.CharField(max_length=20, blank=True)
    encoding = models.CharField(max_length=40, blank=True)
    column_mapping = models.JSONField(null=True, blank=True)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    error = models.TextField(blank=True)
    entries_read = models.PositiveIntegerField(default=0)
    records_added = models.PositiveIntegerField(default=0)
    duplicates_merged = models.PositiveIntegerField(default=0)
    pairs_queued = models.PositiveIntegerField(default=0)
    skipped = models.JSONField(default=list, blank=True)  # [{"position", "line", "reason", ...}]

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["mapping", "queued", "running", "done", "failed"]),
                name="importbatch_status_valid",
            ),
        ]

    def __str__(self):
        return f"{self.file_name} ({self.source})"

    def get_absolute_url(self):
        return reverse("import_detail", args=[self.review.slug, self.pk])

    @property
    def skipped_count(self):
        return len(self.skipped)

    @property
    def is_finished(self):
        return self.status in (self.Status.DONE, self.Status.FAILED)


class Record(models.Model):
    """One imported entry. The normalised fields serve screening; `raw` keeps the source's."""

    # No index of its own: every index below starts with the review (one fewer to maintain
    # on a 100,000-record import).
    review = models.ForeignKey(
        Review, on_delete=models.CASCADE, related_name="records", db_index=False
    )
    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="records")
    position = models.PositiveIntegerField(help_text="1-based position of the entry in its file.")
    source_id = models.CharField(max_length=255, blank=True)
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    journal = models.TextField(blank=True)
    volume = models.CharField(max_length=50, blank=True)
    issue = models.CharField(max_length=50, blank=True)
    pages = models.CharField(max_length=50, blank=True)
    doi = models.CharField(max_length=255, blank=True)
    pmid = models.CharField(max_length=20, blank=True)
    url = models.TextField(blank=True)
    keywords = models.JSONField(default=list, blank=True)
    language = models.CharField(max_length=50, blank=True)
    publication_type = models.CharField(max_length=100, blank=True)
    raw = models.JSONField(default=dict, blank=True)
    # Indexed only where set (record_duplicate_of_idx): most records are nobody's duplicate.
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        db_index=False,
    )
    # Blocking keys (screening.dedup.keys): a new batch is compared only with records that
    # share one of these, found through the indexes below.
    key_doi = models.CharField(max_length=255, blank=True)
    key_pmid = models.CharField(max_length=255, blank=True)
    key_title = models.CharField(max_length=255, blank=True)
    key_alt = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            # Records page and screening pool: a review's records that survived deduplication.
            models.Index(fields=["review", "duplicate_of"], name="record_review_dup_idx"),
            models.Index(
                fields=["duplicate_of"],
                condition=Q(duplicate_of__isnull=False),
                name="record_duplicate_of_idx",
            ),
            # Deduplication candidates, one index per blocking key. Many exports have no
            # DOIs or PubMed IDs: those keys are indexed only where present (lookups say
            # "key <> ''" to use them).
            models.Index(
                fields=["review", "key_doi"], condition=~Q(key_doi=""), name="record_key_doi_idx"
            ),
            models.Index(
                fields=["review", "key_pmid"],
                condition=~Q(key_pmid=""),
                name="record_key_pmid_idx",
            ),
            models.Index(fields=["review", "key_title"], name="record_key_title_idx"),
            models.Index(fields=["review", "key_alt"], name="record_key_alt_idx"),
        ]

    def __str__(self):
        return self.title[:80] or f"Record {self.pk}"

    def get_absolute_url(self):
        return reverse("record_detail", args=[self.review.slug, self.pk])

    @property
    def is_duplicate(self):
        return self.duplicate_of_id is not None

    @property
    def source_fields(self):
        """Every field of the source entry: `raw` with the title or abstract put back where
        the entry's own value was stored only once (screening.importers.rows.compact_raw)."""
        return expand_raw(self.raw, self)

    @property
    def first_author(self):
        return self.authors[0] if self.authors else ""


class DuplicatePair(models.Model):
    """Two records that may be the same work, with the engine's score and a decision."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a decision"
        MERGED = "merged", "Merged automatically"
        CONFIRMED = "confirmed", "Duplicate (decided by a person)"
        REJECTED = "rejected", "Not a duplicate"
        UNDONE = "undone", "Merge undone"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="duplicate_pairs")
    record_a = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    record_b = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    score = models.FloatField()
    vetoes = models.JSONField(default=list, blank=True)
    explanation = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record_a", "record_b"], name="duplicatepair_unique"),
            models.CheckConstraint(
                condition=Q(record_a__lt=models.F("record_b")), name="duplicatepair_ordered"
            ),
        ]
        indexes = [
            # The duplicates queue: a review's pending pairs, best score first.
            models.Index(fields=["review", "status", "-score"], name="duplicatepair_queue_idx"),
        ]

    def __str__(self):
        return f"{self.record_a_id} ~ {self.record_b_id} ({self.score:.2f})"
