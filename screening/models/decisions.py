"""Screening decisions and the state derived from them.

One Decision per reviewer per record per stage; a change is a new version (the old one goes
to DecisionHistory). RecordStage holds the status derived from the decisions by
screening.screening.refresh_status — never set it anywhere else.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from reviewapp.models import Review

from .imports import Record


class Stage(models.TextChoices):
    TA = "ta", "Title and abstract"
    FT = "ft", "Full text"


class DecisionValue(models.TextChoices):
    INCLUDE = "include", "Include"
    EXCLUDE = "exclude", "Exclude"
    MAYBE = "maybe", "Maybe"


class StageStatus(models.TextChoices):
    AWAITING = "awaiting", "Awaiting reviewers"
    AWAITING_MORE = "awaiting_more", "Awaiting another reviewer"
    INCLUDED = "included", "Agreed include"
    EXCLUDED = "excluded", "Agreed exclude"
    CONFLICT = "conflict", "Conflict"
    RESOLVED_INCLUDE = "resolved_include", "Resolved: include"
    RESOLVED_EXCLUDE = "resolved_exclude", "Resolved: exclude"
    NOT_RETRIEVED = "not_retrieved", "Full text not retrieved"
    MERGED = "merged", "Merged into another record"


OPEN_STATUSES = (StageStatus.AWAITING, StageStatus.AWAITING_MORE)
INCLUDE_STATUSES = (StageStatus.INCLUDED, StageStatus.RESOLVED_INCLUDE)
EXCLUDE_STATUSES = (StageStatus.EXCLUDED, StageStatus.RESOLVED_EXCLUDE)


class ScreeningConfig(models.Model):
    """A review's screening settings (created on first use with the defaults)."""

    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="screening")
    reviewers_per_record = models.PositiveSmallIntegerField(
        default=2, help_text="Independent reviewers each record needs (1 to 3)."
    )
    blind = models.BooleanField(
        default=True, help_text="Reviewers see nobody else's decision until a record is settled."
    )
    eligibility_criteria = models.TextField(blank=True)
    adjudicators = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="+",
        help_text="Reviewers who may resolve conflicts (leads always may).",
    )

    class Order(models.TextChoices):
        RANDOM = "random", "Random order"
        PRIORITY = "priority", "Most likely relevant first (AI prioritisation)"

    # Title/abstract queue order. Priority order uses the latest ranking
    # (screening.prioritisation); until a ranking exists it is random.
    order = models.CharField(max_length=10, choices=Order.choices, default=Order.RANDOM)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(reviewers_per_record__gte=1,
                                               reviewers_per_record__lte=3),
                                   name="screeningconfig_reviewers_1_to_3"),
        ]  # fmt: skip

    def __str__(self):
        return f"Screening settings of {self.review}"


class ExclusionReason(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="exclusion_reasons")
    text = models.CharField(max_length=300)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "text"], name="exclusionreason_unique"),
        ]

    def __str__(self):
        return self.text


class HighlightTerm(models.Model):
    """A keyword highlighted while screening: the lead's for everyone, or a reviewer's own."""

    class Kind(models.TextChoices):
        INCLUDE = "include", "Include term"
        EXCLUDE = "exclude", "Exclude term"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="highlight_terms")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty for the review's terms; set for a personal term.",
    )
    term = models.CharField(max_length=100, help_text="A word, a phrase, or a stem ending in *.")
    kind = models.CharField(max_length=10, choices=Kind.choices)

    class Meta:
        ordering = ["kind", "term"]
        constraints = [
            models.UniqueConstraint(fields=["review", "user", "term", "kind"],
                                    name="highlightterm_unique"),
        ]  # fmt: skip

    def __str__(self):
        return self.term


class RecordStage(models.Model):
    """A record's place in one stage: its derived status and its position in the queue."""

    # No indexes of their own: recordstage_unique starts with the record and the indexes
    # below with the review (two fewer to maintain for each record an import adds).
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+", db_index=False)
    record = models.ForeignKey(
        Record, on_delete=models.CASCADE, related_name="stages", db_index=False
    )
    stage = models.CharField(max_length=2, choices=Stage.choices)
    status = models.CharField(
        max_length=20, choices=StageStatus.choices, default=StageStatus.AWAITING
    )
    decision_count = models.PositiveSmallIntegerField(default=0)
    # Queue order: random by default; prioritisation rewrites it.
    order_key = models.BigIntegerField(default=0)
    # The latest ranking's relevance score (higher: more likely relevant), for the lead;
    # None before any ranking.
    score = models.FloatField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="recordstage_unique"),
        ]
        indexes = [
            # A reviewer's next record (screening.queue): open rows of a stage walked in
            # queue order from a cursor. Partial, so the walk needs no sort however many
            # records are settled.
            models.Index(fields=["review", "stage", "order_key", "id"],
                         condition=Q(status__in=["awaiting", "awaiting_more"]),
                         name="recordstage_queue_idx"),
            # Counts per status (progress, PRISMA).
            models.Index(fields=["review", "stage", "status"], name="recordstage_status_idx"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.record_id} {self.stage}: {self.status}"


class ScreenerCursor(models.Model):
    """How far along the queue a reviewer has been served, so finding the next record does
    not rescan everything they already decided (screening.queue)."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    order_key = models.BigIntegerField(default=-(2**62))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "user", "stage"],
                                    name="screenercursor_unique"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.user_id} at {self.order_key} ({self.stage})"


class Decision(models.Model):
    """One reviewer's current decision on one record at one stage."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="decisions")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="screening_decisions"
    )
    value = models.CharField(max_length=10, choices=DecisionValue.choices)
    reason = models.ForeignKey(ExclusionReason, on_delete=models.PROTECT, null=True, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["record", "stage", "reviewer"], name="decision_one_per_reviewer"
            ),
        ]
        indexes = [
            # A reviewer's decisions at a stage, newest first: "previous", undo, my decisions
            # (and agreement statistics, through its first columns).
            models.Index(fields=["review", "stage", "reviewer", "-created_at"],
                         name="decision_stage_idx"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.reviewer_id} {self.value} {self.record_id} ({self.stage})"


class DecisionHistory(models.Model):
    """Every version of every decision: who decided what, and when."""

    class Action(models.TextChoices):
        DECIDED = "decided", "Decided"
        CHANGED = "changed", "Changed"
        RELEASED = "released", "Returned to the pool"

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="+")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    value = models.CharField(max_length=10, choices=DecisionValue.choices)
    reason_text = models.CharField(max_length=300, blank=True)
    note = models.TextField(blank=True)
    version = models.PositiveIntegerField()
    action = models.CharField(max_length=10, choices=Action.choices)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["record", "stage"], name="decisionhistory_record_idx")]

    def __str__(self):
        return f"{self.reviewer_id} {self.action} {self.value} v{self.version}"


class Resolution(models.Model):
    """An adjudicator's settlement of a conflict."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="+")
    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="resolutions")
    stage = models.CharField(max_length=2, choices=Stage.choices)
    value = models.CharField(max_length=10, choices=DecisionValue.choices)
    reason = models.ForeignKey(ExclusionReason, on_delete=models.PROTECT, null=True, blank=True)
    note = models.TextField("why", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["record", "stage"], name="resolution_unique"),
        ]

    def __str__(self):
        return f"{self.value} ({self.stage}) by {self.decided_by_id}"
