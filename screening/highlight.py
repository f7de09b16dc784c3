"""Keyword highlighting while screening (Rayyan's include and exclude lists).

`compile_terms(terms)` turns a review's terms and a reviewer's own into one matcher;
`highlight(text, matcher)` returns the text as safe HTML with each match wrapped in
<mark class="term term-include|term-exclude">. The kind of a term is never told by colour
alone: each mark carries a visible glyph (+ or −) and a visually hidden "include term:" or
"exclude term:" prefix, and screen.css underlines the two kinds differently.

Terms are case-insensitive and match whole words; a phrase's spaces match any run of white
space; a trailing * makes a stem ("social work*" matches "social workers"). Where terms
overlap, the leftmost match wins and, at the same place, the longest term. All terms go into
one regular expression, so highlighting an abstract is a single pass.

Nothing the user typed reaches the output unescaped: terms go through re.escape, and every
piece of the text, matched or not, goes through django.utils.html.escape before it is
joined with our own markup. (Escaping the whole text before matching would let a term such
as "amp" or "quot" match inside the entities that escaping creates.)
"""

import re
from dataclasses import dataclass
from functools import lru_cache

from django.db import IntegrityError, transaction
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import HighlightTerm

INCLUDE = HighlightTerm.Kind.INCLUDE.value
EXCLUDE = HighlightTerm.Kind.EXCLUDE.value
# One regular expression holds every term; these caps keep it small whatever is stored.
MAX_TERMS = 300
MAX_TERM_LENGTH = 100
# A reviewer's own list; the lead's list is capped by the settings page.
MAX_PERSONAL_TERMS = 50

_MARK = {
    INCLUDE: ('<mark class="term term-include"><span class="visually-hidden">include term: '
              '</span><span class="term-glyph" aria-hidden="true">+</span>'),
    EXCLUDE: ('<mark class="term term-exclude"><span class="visually-hidden">exclude term: '
              '</span><span class="term-glyph" aria-hidden="true">\u2212</span>'),
}  # fmt: skip
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class TermMatcher:
    """A compiled set of terms. `kinds[i]` is the kind of the term in group `t<i>`."""

    pattern: re.Pattern | None
    kinds: tuple[str, ...]
    terms: tuple[tuple[str, str], ...]

    def __bool__(self):
        return self.pattern is not None


def normalise_term(term):
    """The term as stored and compared: trimmed, inner white space collapsed, capped."""
    return _SPACES.sub(" ", str(term or "")).strip()[:MAX_TERM_LENGTH]


def _pieces(items):
    for item in items:
        if isinstance(item, HighlightTerm):
            yield item.term, item.kind
        else:
            term, kind = item
            yield term, kind


def compile_terms(terms):
    """A TermMatcher for `terms`: HighlightTerm objects or (term, kind) pairs.

    A term listed twice keeps its first kind (pass the review's terms before a reviewer's
    own). Terms past MAX_TERMS, empty terms and a bare "*" are ignored.
    """
    seen = {}
    for term, kind in _pieces(terms):
        term = normalise_term(term)
        if kind not in _MARK or not term.rstrip("*").strip():
            continue
        seen.setdefault(term.casefold(), (term, kind))
        if len(seen) >= MAX_TERMS:
            break
    return _compile(tuple(seen.values()))


@lru_cache(maxsize=256)
def _compile(terms):
    if not terms:
        return TermMatcher(None, (), ())
    # Longest first: at one position, alternation takes the first alternative that matches.
    ordered = sorted(terms, key=lambda t: (-len(t[0].rstrip("*")), t[0].casefold()))
    alternatives, kinds = [], []
    for index, (term, kind) in enumerate(ordered):
        stem = term.endswith("*")
        words = term.rstrip("*").strip().split(" ")
        body = r"\s+".join(re.escape(word) for word in words)
        # Whole words: no word character may touch the match on either side (the start is
        # checked once for all terms, below); a stem may run on into more word characters.
        tail = r"\w*" if stem else r"(?!\w)"
        alternatives.append(rf"(?P<t{index}>{body}{tail})")
        kinds.append(kind)
    # The start-of-word check stands before the alternation rather than in each term: inside
    # a word it then fails once, not once per term (4 times faster with a hundred terms).
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})", re.IGNORECASE)
    return TermMatcher(pattern, tuple(kinds), tuple(ordered))


def highlight(text, matcher):
    """`text` as safe HTML, escaped, with the matcher's terms marked."""
    text = "" if text is None else str(text)
    if not matcher:
        return escape(text)
    out, last = [], 0
    for match in matcher.pattern.finditer(text):
        start, end = match.span()
        if start == end:
            continue
        kind = matcher.kinds[int(match.lastgroup[1:])]
        out.append(escape(text[last:start]))
        out.append(_MARK[kind])
        out.append(escape(match.group()))
        out.append("</mark>")
        last = end
    out.append(escape(text[last:]))
    return mark_safe("".join(out))  # noqa: S308 - every piece of text above is escaped


def terms_for(review, user):
    """The review's terms (first) and `user`'s own, in one query."""
    from django.db.models import Q

    rows = HighlightTerm.objects.filter(review=review).filter(Q(user=None) | Q(user=user))
    rows = sorted(rows, key=lambda t: (t.user_id is not None, t.kind, t.term.casefold()))
    return rows


class TermError(ValueError):
    """A personal term that cannot be added; the message says why."""


def add_personal_term(*, review, user, term, kind):
    """Add `user`'s own highlight term; adding one they already have changes nothing."""
    term = normalise_term(term)
    stem = term.removesuffix("*")
    # The same rules as the lead's list: a * only at the end, straight after a letter.
    if not stem.strip() or "*" in stem or (term.endswith("*") and stem[-1].isspace()):
        raise TermError("Type a word, a phrase, or a stem ending in * (such as “stigma*”).")
    if kind not in _MARK:
        raise TermError("Choose include or exclude.")
    mine = HighlightTerm.objects.filter(review=review, user=user)
    if mine.filter(term__iexact=term, kind=kind).exists():
        return mine.get(term__iexact=term, kind=kind)
    if mine.count() >= MAX_PERSONAL_TERMS:
        raise TermError(f"You can have up to {MAX_PERSONAL_TERMS} terms of your own.")
    try:
        with transaction.atomic():
            return HighlightTerm.objects.create(review=review, user=user, term=term, kind=kind)
    except IntegrityError:  # pragma: no cover - a double submit
        return mine.get(term=term, kind=kind)


def remove_personal_term(*, review, user, term_id):
    """Remove one of `user`'s own terms (never the review's); returns how many went."""
    deleted, _ = HighlightTerm.objects.filter(review=review, user=user, pk=term_id).delete()
    return deleted
