"""The Advisory Group's place in the review: what the lead shares with the group (a
plain-language summary, themes in plain words, chosen excerpts with names removed), the
group's threaded comments, the "you said, we did" responses, meetings, and each member's
preferences.

Advisory members see only what is shared here; everything else in the review (screening,
records, documents, unshared excerpts, other people's email addresses) stays with the
researchers.
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from coding.models import Code, Excerpt, ThemeRevision
from reviewapp.models import Membership, Review


class AdvisorySpace(models.Model):
    review = models.OneToOneField(Review, on_delete=models.CASCADE, related_name="advisory_space")
    summary = models.TextField("plain-language summary of the review", blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    def __str__(self):
        return f"advisory space of {self.review_id}"


class SharedTheme(models.Model):
    """A theme as the Advisory Group sees it: in plain words, with a content note when it
    holds distressing material. Only `shared` ones are visible to advisory members."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="shared_themes")
    theme = models.OneToOneField(Code, on_delete=models.CASCADE, related_name="shared")
    plain_title = models.CharField(max_length=200, blank=True)
    plain_description = models.TextField(blank=True)
    content_note = models.CharField(
        max_length=300, blank=True, help_text="What distressing material this theme holds."
    )
    shared = models.BooleanField(default=False)
    shared_at = models.DateTimeField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.title

    @property
    def title(self):
        return self.plain_title or self.theme.name


class SharedExcerpt(models.Model):
    """An excerpt the lead chose to show the group under a theme, with spans redacted or
    pseudonymised (the original stays with the researchers)."""

    shared_theme = models.ForeignKey(SharedTheme, on_delete=models.CASCADE, related_name="excerpts")
    excerpt = models.ForeignKey(Excerpt, on_delete=models.CASCADE, related_name="shared_as")
    content_note = models.CharField(max_length=300, blank=True)
    # New shares start hidden: the lead removes names first, then shows the quote.
    visible = models.BooleanField("shown to the Advisory Group", default=False)
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    shared_at = models.DateTimeField(default=timezone.now)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shared_theme", "excerpt"],
                                    name="shared_excerpt_once_per_theme"),
        ]  # fmt: skip

    def __str__(self):
        return f"excerpt {self.excerpt_id} in {self.shared_theme_id}"


class Redaction(models.Model):
    """[start, end) of the excerpt's text (code points) shown as `replacement` instead."""

    shared_excerpt = models.ForeignKey(
        SharedExcerpt, on_delete=models.CASCADE, related_name="redactions"
    )
    start = models.PositiveIntegerField()
    end = models.PositiveIntegerField()
    replacement = models.CharField(max_length=100, default="[removed]")

    class Meta:
        ordering = ["start", "id"]

    def __str__(self):
        return f"[{self.start}:{self.end}] -> {self.replacement}"


class Comment(models.Model):
    """A comment on a shared theme, or on one of its shared excerpts; a reply names its
    parent. Withdrawing keeps the row (so the thread keeps its shape) but not the text."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="advisory_comments")
    shared_theme = models.ForeignKey(SharedTheme, on_delete=models.CASCADE, related_name="comments")
    shared_excerpt = models.ForeignKey(
        SharedExcerpt, on_delete=models.CASCADE, null=True, blank=True, related_name="comments"
    )
    parent = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="replies"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["review", "author"], name="comment_review_author")]

    def __str__(self):
        return f"comment {self.pk}"

    @property
    def withdrawn(self):
        return self.withdrawn_at is not None


class CommentEdit(models.Model):
    """The text a comment had before an edit."""

    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="edits")
    body = models.TextField()
    replaced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["replaced_at", "id"]

    def __str__(self):
        return f"edit of {self.comment_id}"


class CommentResponse(models.Model):
    """ "You said, we did": what the team did about a comment (or why nothing changed),
    optionally linked to the theme revision it led to."""

    comment = models.OneToOneField(Comment, on_delete=models.CASCADE, related_name="response")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    text = models.TextField()
    changed = models.BooleanField(help_text="Whether something changed because of the comment.")
    revision = models.ForeignKey(
        ThemeRevision, on_delete=models.SET_NULL, null=True, blank=True, related_name="responses"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"response to {self.comment_id}"


class Preference(models.Model):
    """A member's choices for this review: notification frequency, and whether content with a
    content note starts folded."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", "Straight away"
        DAILY = "daily", "Once a day, in a digest"
        NONE = "none", "Never"

    membership = models.OneToOneField(
        Membership, on_delete=models.CASCADE, related_name="advisory_preference"
    )
    fold_content_notes = models.BooleanField(
        "Fold content with a content note until I choose to open it", default=False
    )
    frequency = models.CharField(
        "Email me about comments", max_length=10, choices=Frequency.choices,
        default=Frequency.IMMEDIATE,
    )  # fmt: skip

    def __str__(self):
        return f"preferences of {self.membership_id}"


class Meeting(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="advisory_meetings")
    date = models.DateField()
    title = models.CharField(max_length=200)
    attendees = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="advisory_meetings_attended"
    )
    other_attendees = models.CharField(
        max_length=500, blank=True, help_text="People who attended but have no account."
    )
    agenda = models.TextField(blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-date", "-id"]

    def __str__(self):
        return f"{self.title} ({self.date})"


class MeetingAction(models.Model):
    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="actions")
    text = models.CharField(max_length=500)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+",
    )  # fmt: skip
    owner_name = models.CharField(max_length=200, blank=True)
    done = models.BooleanField(default=False)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.text


class Notification(models.Model):
    """An email owed to someone about a comment. Written in the same transaction as the
    comment, so a failed send never loses either; `sent_at` stays empty until it goes."""

    class Kind(models.TextChoices):
        REPLY = "reply", "A reply to your comment"
        NEW_COMMENT = "new_comment", "A new comment"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="advisory_notifications"
    )
    comment = models.ForeignKey(Comment, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["sent_at", "user"], name="notification_unsent")]
        constraints = [
            models.UniqueConstraint(fields=["user", "comment", "kind"],
                                    name="notification_once"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.kind} for {self.user_id} on {self.comment_id}"
