"""Redacting or pseudonymising spans of a shared excerpt: the group sees the replacement,
the researchers keep the original."""

from django.db import transaction

from .models import Redaction

DEFAULT_REPLACEMENT = "[removed]"


class RedactionError(ValueError):
    pass


def display_text(text, redactions):
    """`text` with each redaction's span replaced (spans never overlap)."""
    out, position = [], 0
    for r in sorted(redactions, key=lambda r: r.start):
        out.append(text[position : r.start])
        out.append(r.replacement)
        position = r.end
    out.append(text[position:])
    return "".join(out)


@transaction.atomic
def add_redaction(*, shared_excerpt, quote, replacement="", occurrence=None):
    """Replace every occurrence of `quote` in the excerpt (or only the `occurrence`-th,
    counting from 1) with `replacement`. Returns the Redactions made."""
    text = shared_excerpt.excerpt.text
    quote = quote.strip()
    if not quote:
        raise RedactionError("Type the words to remove.")
    replacement = (replacement or DEFAULT_REPLACEMENT).strip()[:100]
    spans, start = [], text.find(quote)
    while start >= 0:
        spans.append((start, start + len(quote)))
        start = text.find(quote, start + len(quote))
    if not spans:
        raise RedactionError("Those words are not in the excerpt.")
    if occurrence is not None:
        if not 1 <= occurrence <= len(spans):
            raise RedactionError(f"The words appear {len(spans)} time(s).")
        spans = [spans[occurrence - 1]]
    existing = list(shared_excerpt.redactions.all())
    for a, b in spans:
        if any(a < r.end and r.start < b for r in existing):
            raise RedactionError("That overlaps a part already removed; remove that first.")
    return [
        Redaction.objects.create(
            shared_excerpt=shared_excerpt, start=a, end=b, replacement=replacement
        )  # fmt: skip
        for a, b in spans
    ]
