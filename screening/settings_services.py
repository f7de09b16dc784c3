"""Every write to a review's screening settings: the settings themselves, the ordered list of
exclusion reasons, and the review-wide highlight terms.

Views (and the demo seeding) call these functions; each runs in one transaction that first
locks the review's ScreeningConfig row, so two leads editing at once are serialised. A change
that cannot be made raises SettingsError, whose message is written for the lead.
"""

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, OuterRef, ProtectedError, Subquery
from django.db.models.functions import Coalesce

from reviewapp.models import Membership, Role

from . import ranking
from .decisions import config_for, refresh_status
from .models import (
    Decision,
    ExclusionReason,
    HighlightTerm,
    RecordStage,
    Resolution,
    ScreeningConfig,
)
from .models.decisions import StageStatus

MAX_REASONS = 50
REASON_MAX_LENGTH = ExclusionReason._meta.get_field("text").max_length
MAX_TERMS = 200
TERM_MAX_LENGTH = HighlightTerm._meta.get_field("term").max_length
MIN_REVIEWERS, MAX_REVIEWERS = 1, 3


class SettingsError(ValueError):
    """A change the lead asked for that cannot be made; the message says why."""


class ReasonInUse(SettingsError):
    """Exclusion reasons that decisions or resolutions use cannot be removed.

    `uses` is a list of (reason, n_decisions, n_resolutions)."""

    def __init__(self, uses):
        self.uses = uses
        super().__init__(" ".join(_in_use_sentence(*use) for use in uses))


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def usage_text(n_decisions, n_resolutions):
    """'3 decisions and 1 resolution' (the parts that are not zero)."""
    parts = [plural(n, word) for n, word in ((n_decisions, "decision"),
                                              (n_resolutions, "resolution")) if n]  # fmt: skip
    return " and ".join(parts)


def _in_use_sentence(reason, n_decisions, n_resolutions):
    return (
        f"“{reason.text}” is used by {usage_text(n_decisions, n_resolutions)}, so it cannot "
        "be removed. Rename it instead if its wording should change."
    )


def normalise_text(text):
    """Trim and collapse runs of whitespace (pasted text often has doubled spaces)."""
    return " ".join((text or "").split())


# --------------------------------------------------------------------------- reads


def _use_count(model):
    counts = (
        model.objects.filter(reason=OuterRef("pk"))
        .order_by()
        .values("reason")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counts), 0)


def reasons_with_usage(review):
    """The review's exclusion reasons in order, each annotated with `n_decisions` and
    `n_resolutions` (how many use it): one query."""
    return ExclusionReason.objects.filter(review=review).annotate(
        n_decisions=_use_count(Decision), n_resolutions=_use_count(Resolution)
    )


def review_highlight_terms(review):
    """{"include": [...], "exclude": [...]}: the review-wide terms (not personal ones)."""
    terms = {kind: [] for kind in HighlightTerm.Kind.values}
    rows = HighlightTerm.objects.filter(review=review, user=None).order_by("kind", "term", "id")
    for kind, term in rows.values_list("kind", "term"):
        terms[kind].append(term)
    return terms


# --------------------------------------------------------------------------- the settings


def _locked_config(review):
    config = config_for(review)
    return ScreeningConfig.objects.select_for_update().get(pk=config.pk)


def update_screening_config(
    *, review, reviewers_per_record, blind, eligibility_criteria, adjudicators, order=None
):
    """Save the review's screening settings; return (config, settled), where `settled`
    counts records that fewer reviewers per record settled at once.

    `order` (a ScreeningConfig.Order, or None to leave it as it is) switches the title/abstract
    queue through `ranking.set_order`, which asks for a ranking or restores the random order.

    `adjudicators` must be current leads or reviewers of the review (leads may always
    adjudicate; naming them is allowed but changes nothing). Lowering the number of
    reviewers per record settles the records that already have enough decisions; raising
    it leaves records already settled as they are.
    """
    if not MIN_REVIEWERS <= int(reviewers_per_record) <= MAX_REVIEWERS:
        raise SettingsError(f"Each record needs {MIN_REVIEWERS} to {MAX_REVIEWERS} reviewers.")
    chosen = {user.pk for user in adjudicators}
    with transaction.atomic():
        config = _locked_config(review)
        allowed = set(
            Membership.objects.filter(
                review=review, role__in=(Role.LEAD, Role.REVIEWER), user_id__in=chosen
            ).values_list("user_id", flat=True)
        )
        if chosen - allowed:
            raise SettingsError("Adjudicators must be leads or reviewers of this review.")
        lowered = int(reviewers_per_record) < config.reviewers_per_record
        config.reviewers_per_record = int(reviewers_per_record)
        config.blind = bool(blind)
        config.eligibility_criteria = (eligibility_criteria or "").strip()
        config.save(update_fields=["reviewers_per_record", "blind", "eligibility_criteria"])
        config.adjudicators.set(sorted(chosen))
        settled = _settle_complete_records(review, config.reviewers_per_record) if lowered else 0
        if order:
            config.order = ranking.set_order(review, order).order
    return config, settled


def _settle_complete_records(review, needed):
    """Records waiting for another reviewer that now have all the decisions they need."""
    rows = (
        RecordStage.objects.select_for_update()
        .select_related("record")
        .filter(review=review, status=StageStatus.AWAITING_MORE, decision_count__gte=needed)
        .order_by("pk")
    )
    settled = 0
    for row in rows:
        refresh_status(row)
        settled += 1
    return settled


# --------------------------------------------------------------------------- exclusion reasons


def _clean_reason_text(text):
    text = normalise_text(text)
    if not text:
        raise SettingsError("Enter the reason's wording.")
    if len(text) > REASON_MAX_LENGTH:
        raise SettingsError(
            f"A reason can be at most {REASON_MAX_LENGTH} characters "
            f"(“{text[:40]}…” has {len(text)})."
        )
    return text


def _locked_reasons(review):
    """Lock the review's settings, then return its reasons in order."""
    _locked_config(review)
    return list(ExclusionReason.objects.filter(review=review).order_by("position", "id"))


def _renumber(reasons):
    """Store positions 0..n-1 in list order (only rows whose position changes are written)."""
    changed = []
    for index, reason in enumerate(reasons):
        if reason.position != index:
            reason.position = index
            changed.append(reason)
    if changed:
        ExclusionReason.objects.bulk_update(changed, ["position"])


def _refuse_duplicate(reasons, text, except_pk=None):
    for other in reasons:
        if other.pk != except_pk and other.text.casefold() == text.casefold():
            raise SettingsError(f"The list already has “{other.text}”.")


def add_exclusion_reason(review, text):
    """Append a reason to the end of the list."""
    text = _clean_reason_text(text)
    with transaction.atomic():
        reasons = _locked_reasons(review)
        _refuse_duplicate(reasons, text)
        if len(reasons) >= MAX_REASONS:
            raise SettingsError(f"A review can have at most {MAX_REASONS} exclusion reasons.")
        _renumber(reasons)
        return ExclusionReason.objects.create(review=review, text=text, position=len(reasons))


def rename_exclusion_reason(reason, text):
    """Change a reason's wording. Decisions that use it keep pointing at it (their history
    keeps the wording they were made with)."""
    text = _clean_reason_text(text)
    with transaction.atomic():
        reasons = _locked_reasons(reason.review_id)
        _refuse_duplicate(reasons, text, except_pk=reason.pk)
        reason.text = text
        reason.save(update_fields=["text"])
    return reason


def _uses(reasons):
    """[(reason, n_decisions, n_resolutions)] for the reasons among `reasons` in use."""
    ids = [reason.pk for reason in reasons]
    counts = {
        row.pk: (row.n_decisions, row.n_resolutions)
        for row in reasons_with_usage(reasons[0].review_id).filter(pk__in=ids)
    } if ids else {}  # fmt: skip
    return [(reason, *counts[reason.pk]) for reason in reasons if any(counts.get(reason.pk, ()))]


def _delete(reasons):
    try:
        ExclusionReason.objects.filter(pk__in=[reason.pk for reason in reasons]).delete()
    except ProtectedError as exc:  # a decision used it after we counted
        raise ReasonInUse(_uses(reasons)) from exc


def remove_exclusion_reason(reason):
    """Delete a reason nobody has used; ReasonInUse (naming the counts) otherwise."""
    with transaction.atomic():
        reasons = _locked_reasons(reason.review_id)
        uses = _uses([reason])
        if uses:
            raise ReasonInUse(uses)
        _delete([reason])
        _renumber([other for other in reasons if other.pk != reason.pk])


def move_exclusion_reason(reason, direction):
    """Swap a reason with its neighbour above ("up") or below ("down"). Returns its new
    1-based position and the list's length."""
    if direction not in ("up", "down"):
        raise SettingsError("Move a reason up or down.")
    with transaction.atomic():
        reasons = _locked_reasons(reason.review_id)
        index = next((i for i, other in enumerate(reasons) if other.pk == reason.pk), None)
        if index is None:
            raise SettingsError("That reason has just been removed.")
        target = index - 1 if direction == "up" else index + 1
        if not 0 <= target < len(reasons):
            where = "first" if direction == "up" else "last"
            raise SettingsError(f"“{reason.text}” is already {where} in the list.")
        reasons[index], reasons[target] = reasons[target], reasons[index]
        _renumber(reasons)
    return target + 1, len(reasons)


@dataclass
class ReasonsChange:
    reasons: list
    added: int
    renamed: int
    removed: int


def set_exclusion_reasons(review, texts):
    """Make the review's exclusion reasons exactly `texts`, in that order.

    Blank entries are skipped and repeats (ignoring case) kept once. A reason whose wording
    is unchanged keeps its id (so the decisions that use it keep it); one whose wording
    differs only in letter case keeps its id and takes the new wording. Every other old
    reason is removed, which is refused (ReasonInUse, nothing changed) if a decision or a
    resolution uses it. Returns a ReasonsChange.
    """
    wanted, seen = [], set()
    for text in texts:
        text = normalise_text(text)
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            wanted.append(_clean_reason_text(text))
    if len(wanted) > MAX_REASONS:
        raise SettingsError(
            f"A review can have at most {MAX_REASONS} exclusion reasons ({len(wanted)} given)."
        )
    with transaction.atomic():
        current = _locked_reasons(review)
        by_text = {reason.text: reason for reason in current}
        matched = {}
        for text in wanted:
            if text in by_text:
                matched[text] = by_text.pop(text)
        by_folded = {}
        for reason in by_text.values():
            by_folded.setdefault(reason.text.casefold(), reason)
        renamed = []
        for text in wanted:
            if text not in matched and text.casefold() in by_folded:
                reason = by_folded.pop(text.casefold())
                matched[text] = reason
                renamed.append((reason, text))
        dropped = [reason for reason in current if reason not in matched.values()]
        if dropped:
            uses = _uses(dropped)
            if uses:
                raise ReasonInUse(uses)
            _delete(dropped)
        for reason, text in renamed:
            reason.text = text
            reason.save(update_fields=["text"])
        final = []
        for index, text in enumerate(wanted):
            reason = matched.get(text)
            if reason is None:
                reason = ExclusionReason.objects.create(review=review, text=text, position=index)
            final.append(reason)
        _renumber(final)
    added = len(final) - len(matched)
    return ReasonsChange(final, added=added, renamed=len(renamed), removed=len(dropped))


# --------------------------------------------------------------------------- highlight terms


def _is_stem(term):
    """True for a stem such as stigma*: one * that ends a word (not *, a*b, care * or x**)."""
    stem = term[:-1]
    return term.endswith("*") and stem != "" and "*" not in stem and not stem[-1].isspace()


def clean_terms(lines):
    """The terms of one list: trimmed, blanks skipped, repeats (ignoring case) kept once.

    A term is a word or a phrase; a trailing * makes it a stem ("stigma*"). SettingsError
    (naming the line) for a term too long, a * anywhere but the end, or too many terms.
    """
    terms, seen = [], set()
    for number, line in enumerate(lines, start=1):
        term = normalise_text(line)
        if not term:
            continue
        if len(term) > TERM_MAX_LENGTH:
            raise SettingsError(
                f"Line {number} has {len(term)} characters; a term can have at most "
                f"{TERM_MAX_LENGTH}."
            )
        if "*" in term and not _is_stem(term):
            raise SettingsError(
                f"Line {number} (“{term}”): a * may only end a word stem, as in “stigma*”."
            )
        if term.casefold() not in seen:
            seen.add(term.casefold())
            terms.append(term)
    if len(terms) > MAX_TERMS:
        raise SettingsError(f"Enter at most {MAX_TERMS} terms ({len(terms)} given).")
    return terms


def set_highlight_terms(review, *, include, exclude):
    """Make the review-wide highlight terms exactly these lists (see `clean_terms`), at most
    MAX_TERMS in all; reviewers' personal terms are untouched. A term cannot be both an
    include and an exclude term.
    Returns {"include": [...], "exclude": [...]} as saved."""
    wanted = {
        HighlightTerm.Kind.INCLUDE: clean_terms(include),
        HighlightTerm.Kind.EXCLUDE: clean_terms(exclude),
    }
    total = sum(len(terms) for terms in wanted.values())
    if total > MAX_TERMS:
        # screening.highlight compiles the review's terms and a reviewer's own into one
        # regular expression; this cap keeps it small.
        raise SettingsError(
            f"Enter at most {MAX_TERMS} include and exclude terms in all ({total} given)."
        )
    both = {t.casefold() for t in wanted[HighlightTerm.Kind.INCLUDE]} & {
        t.casefold() for t in wanted[HighlightTerm.Kind.EXCLUDE]
    }
    if both:
        named = ", ".join(
            f"“{t}”" for t in wanted[HighlightTerm.Kind.INCLUDE] if t.casefold() in both
        )
        raise SettingsError(f"A term cannot be both an include and an exclude term: {named}.")
    with transaction.atomic():
        _locked_config(review)
        rows = HighlightTerm.objects.filter(review=review, user=None)
        existing = set(rows.values_list("kind", "term"))
        keep = {(kind, term) for kind, terms in wanted.items() for term in terms}
        stale = existing - keep
        for kind in HighlightTerm.Kind.values:
            gone = [term for k, term in stale if k == kind]
            if gone:
                rows.filter(kind=kind, term__in=gone).delete()
        HighlightTerm.objects.bulk_create(
            [HighlightTerm(review=review, user=None, kind=kind, term=term)
             for kind, terms in wanted.items() for term in terms
             if (kind, term) not in existing]
        )  # fmt: skip
    return {str(kind): terms for kind, terms in wanted.items()}
