"""Full texts, and the studies that included reports belong to."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from reviewapp.models import Review

from ..storage import fulltext_storage
from .imports import Record


class FullText(models.Model):
    """The full text of a record that went on to full-text assessment: a PDF, a link, or
    the fact that it could not be retrieved (with why)."""

    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="full_text")
    file = models.FileField(
        storage=fulltext_storage, upload_to="%Y/%m/", blank=True, max_length=500
    )
    file_name = models.CharField(max_length=255, blank=True)
    link = models.URLField(max_length=2000, blank=True)
    not_retrieved = models.BooleanField(default=False)
    not_retrieved_reason = models.CharField(max_length=500, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    added_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.file_name or self.link or "not retrieved"


class Study(models.Model):
    """A study included in the review. Its reports are included records (PRISMA counts
    studies and reports separately)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="studies")
    label = models.CharField(max_length=300, help_text="e.g. first author and year")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["label", "id"]
        verbose_name_plural = "studies"

    def __str__(self):
        return self.label


class StudyReport(models.Model):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="reports")
    record = models.OneToOneField(Record, on_delete=models.CASCADE, related_name="study_report")
    is_primary = models.BooleanField(default=False)

    def __str__(self):
        return f"{self.record_id} in {self.study_id}"
