"""AI prioritisation: each ranking run (for a methods section) and the lead's decisions to
stop screening (with the evidence they saw)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from reviewapp.models import Review

from .decisions import Stage


class Ranking(models.Model):
    """One run of the model: what it was, what it learnt from, how long it took."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Not enough decisions yet"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="rankings")
    stage = models.CharField(max_length=2, choices=Stage.choices, default=Stage.TA)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    model_name = models.CharField(max_length=200, blank=True)
    settings = models.JSONField(default=dict, blank=True)
    code_version = models.CharField(max_length=100, blank=True)
    training_includes = models.PositiveIntegerField(default=0)
    training_excludes = models.PositiveIntegerField(default=0)
    records_ranked = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["review", "stage", "status"], name="ranking_status")]

    def __str__(self):
        return f"ranking {self.pk} of {self.review_id} ({self.status})"


class StopDecision(models.Model):
    """The lead's decision to stop screening a stage early, with the evidence on screen."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="stop_decisions")
    stage = models.CharField(max_length=2, choices=Stage.choices, default=Stage.TA)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)
    note = models.TextField(blank=True)
    evidence = models.JSONField(default=dict)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-decided_at", "-id"]

    def __str__(self):
        return f"stop {self.stage} of {self.review_id} at {self.decided_at:%Y-%m-%d}"
