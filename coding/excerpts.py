"""Making, changing and removing coded excerpts. Each excerpt belongs to its coder: only they
change or delete it (a lead merging or deleting codes changes which codes it carries)."""

from django.db import transaction
from django.utils import timezone

from .models import Code, Excerpt, ExcerptCode

MEMO_MAX_LENGTH = 10_000


class ExcerptError(ValueError):
    """An excerpt that cannot be saved; the message says why."""


def _check_span(version, start, end):
    if start is None or end is None:
        raise ExcerptError("Select a passage first.")
    if not 0 <= start < end <= version.length:
        raise ExcerptError(
            f"The passage [{start}, {end}) is not inside the text (0 to {version.length})."
        )
    if not version.text[start:end].strip():
        raise ExcerptError("The selected passage is only white space.")


def _check_codes(review_id, code_ids):
    ids = set(code_ids)
    if not ids:
        raise ExcerptError("Choose at least one code.")
    found = set(Code.objects.filter(review_id=review_id, pk__in=ids).values_list("pk", flat=True))
    if found != ids:
        raise ExcerptError("One of the chosen codes is not in this review's codebook.")
    return sorted(ids)


def _check_memo(memo):
    memo = (memo or "").strip()
    if len(memo) > MEMO_MAX_LENGTH:
        raise ExcerptError(f"The memo is longer than {MEMO_MAX_LENGTH:,} characters.")
    return memo


@transaction.atomic
def create_excerpt(*, version, coder, start, end, code_ids, memo=""):
    _check_span(version, start, end)
    ids = _check_codes(version.document.review_id, code_ids)
    excerpt = Excerpt.objects.create(
        version=version,
        review_id=version.document.review_id,
        document_id=version.document_id,
        coder=coder,
        start=start,
        end=end,
        text=version.text[start:end],
        memo=_check_memo(memo),
    )
    ExcerptCode.objects.bulk_create(ExcerptCode(excerpt=excerpt, code_id=pk) for pk in ids)
    return excerpt


def _own(excerpt, user):
    if excerpt.coder_id != user.pk:
        raise ExcerptError("Only the coder who made an excerpt can change it.")


@transaction.atomic
def update_excerpt(*, excerpt, user, start=None, end=None, code_ids=None, memo=None):
    """Change the span, the codes or the memo of one's own excerpt (None: unchanged)."""
    _own(excerpt, user)
    if start is not None or end is not None:
        start = excerpt.start if start is None else start
        end = excerpt.end if end is None else end
        # Redactions of a quote shared with the Advisory Group are offsets into its text:
        # a new span would move them onto other words (and could show a removed name).
        shared = getattr(excerpt, "shared_as", None)
        if (start, end) != (excerpt.start, excerpt.end) and shared is not None and shared.exists():
            raise ExcerptError(
                "This passage is shared with the Advisory Group, so its span cannot change. "
                "Stop sharing it first, or code a new excerpt."
            )
        _check_span(excerpt.version, start, end)
        excerpt.start, excerpt.end = start, end
        excerpt.text = excerpt.version.text[start:end]
    if memo is not None:
        excerpt.memo = _check_memo(memo)
    if code_ids is not None:
        ids = set(_check_codes(excerpt.review_id, code_ids))
        current = set(excerpt.applied.values_list("code_id", flat=True))
        excerpt.applied.filter(code_id__in=current - ids).delete()
        ExcerptCode.objects.bulk_create(
            ExcerptCode(excerpt=excerpt, code_id=pk) for pk in sorted(ids - current)
        )
    excerpt.updated_at = timezone.now()
    excerpt.save()
    return excerpt


@transaction.atomic
def delete_excerpt(*, excerpt, user):
    _own(excerpt, user)
    excerpt.delete()
