"""Inter-rater agreement of screening decisions: percent agreement, Cohen's kappa and
Krippendorff's alpha, each with the counts it was computed from.

Pure Python (no numpy): the stats page and the exports call it on one stage's decisions.

Input
    A *decision* is a tuple ``(item, rater, label)``: an item (a record id), a rater (a user
    id), and the label that rater gave the item. Items and raters are opaque hashable ids;
    labels are strings such as ``"include"``, ``"exclude"`` and ``"maybe"``. A label of
    ``None`` means "not rated" and is skipped. A rater may rate an item only once: the same
    (item, rater) with two different labels raises ValueError (pass current decisions, not
    their history).

Categories
    Every distinct label is its own category. In particular "maybe" at title/abstract stage
    is NOT merged with "include": kappa over include/exclude/maybe counts include-vs-maybe as
    a disagreement. A caller who wants the two-category figure maps the labels first, e.g.
    ``[(i, r, "include" if v == "maybe" else v) for i, r, v in decisions]``. Passing
    ``categories=`` fixes the table's rows and columns (zero rows are shown, kappa does not
    change); a label outside them raises ValueError. Categories are always reported sorted.

Figures
    * percent agreement ``po`` = agreed / n over the items both raters rated;
    * Cohen's kappa = (po - pe) / (1 - pe), where pe = sum over categories of
      (rater A's share of the category x rater B's share). It is undefined (None, with a
      ``note``) when n == 0, or when pe == 1, i.e. both raters put every item in one and the
      same category;
    * the pooled figure over all rater pairs: see `pooled_agreement`;
    * Krippendorff's alpha (nominal) for any number of raters and missing ratings: see
      `krippendorff_alpha`.

Every result carries the counts behind it (n, agreed, the confusion or coincidence matrix,
the marginals), and is deterministic: pairs are sorted by rater id and categories by label.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field, fields
from fractions import Fraction

__all__ = [
    "AlphaResult",
    "PairAgreement",
    "PooledAgreement",
    "krippendorff_alpha",
    "pair_agreement",
    "pairwise",
    "pooled_agreement",
    "stage_summary",
]

Item = Hashable
Rater = Hashable
Label = Hashable
Decision = tuple[Item, Rater, Label]

NOTE_NO_OVERLAP = "no item rated by both: agreement undefined"
NOTE_ONE_CATEGORY = "all decisions in one category: kappa undefined"
NOTE_NO_PAIRABLE = "no item has two or more ratings: alpha undefined"
NOTE_ALPHA_ONE_CATEGORY = "all ratings in one category: no disagreement possible, alpha undefined"

POOLED_METHODS = ("de_vries", "summed_table")


# --------------------------------------------------------------------------- results


@dataclass
class PairAgreement:
    """Agreement of two raters over the items both rated.

    ``matrix[(a_label, b_label)]`` counts the co-rated items rater_a labelled ``a_label`` and
    rater_b labelled ``b_label`` (every cell of categories x categories is present, zeros
    included); ``marginals_a`` / ``marginals_b`` are its row / column sums. ``observed`` is
    po (== percent_agreement, as a proportion 0..1) and ``expected`` is pe; both are None
    when n == 0. ``kappa`` is None when undefined, and ``note`` says why.
    """

    rater_a: Rater | None
    rater_b: Rater | None
    n: int
    agreed: int
    percent_agreement: float | None
    kappa: float | None
    categories: list[Label]
    matrix: dict[tuple[Label, Label], int]
    observed: float | None
    expected: float | None
    marginals_a: dict[Label, int] = field(default_factory=dict)
    marginals_b: dict[Label, int] = field(default_factory=dict)
    note: str = ""

    @property
    def disagreed(self) -> int:
        return self.n - self.agreed

    def table(self) -> list[list[int]]:
        """The matrix as rows (rater_a's label) of columns (rater_b's label), in
        ``categories`` order."""
        return [[self.matrix[(a, b)] for b in self.categories] for a in self.categories]

    def as_dict(self) -> dict:
        """A flat, JSON-friendly copy for exports (the matrix as ``table()`` rows)."""
        return {
            "rater_a": self.rater_a,
            "rater_b": self.rater_b,
            "n": self.n,
            "agreed": self.agreed,
            "disagreed": self.disagreed,
            "percent_agreement": self.percent_agreement,
            "kappa": self.kappa,
            "observed": self.observed,
            "expected": self.expected,
            "categories": list(self.categories),
            "table": self.table(),
            "marginals_a": dict(self.marginals_a),
            "marginals_b": dict(self.marginals_b),
            "note": self.note,
        }


@dataclass
class PooledAgreement(PairAgreement):
    """The pooled figure over every co-rated pair of decisions (see `pooled_agreement`).

    ``rater_a`` and ``rater_b`` are None. ``n`` counts units (one per pair of raters per
    item), ``n_items`` the items with two or more raters, ``n_rater_pairs`` the distinct
    rater pairs that contributed. ``matrix`` is the summed table, each item's raters ordered
    by rater id.
    """

    method: str = "de_vries"
    n_items: int = 0
    n_rater_pairs: int = 0

    def as_dict(self) -> dict:
        data = super().as_dict()
        data.update(method=self.method, n_items=self.n_items, n_rater_pairs=self.n_rater_pairs)
        return data


@dataclass
class AlphaResult:
    """Krippendorff's alpha with the counts behind it.

    ``n_items`` counts pairable items (two or more ratings; the others are dropped),
    ``n_values`` the ratings in them (Krippendorff's n). ``coincidence[(c, k)]`` is the
    coincidence matrix o_ck (fractional: each item contributes 1 / (m_u - 1) per ordered
    pair of its m_u ratings) and ``value_counts[c]`` its margin n_c (the number of pairable
    ratings in category c). ``observed_disagreement`` is D_o = sum_{c!=k} o_ck / n and
    ``expected_disagreement`` is D_e = sum_{c!=k} n_c n_k / (n (n - 1)); alpha = 1 - D_o / D_e.
    """

    alpha: float | None
    level: str
    n_items: int
    n_values: int
    n_raters: int
    categories: list[Label]
    coincidence: dict[tuple[Label, Label], float]
    value_counts: dict[Label, int]
    observed_disagreement: float | None
    expected_disagreement: float | None
    note: str = ""

    def as_dict(self) -> dict:
        return {
            "alpha": self.alpha,
            "level": self.level,
            "n_items": self.n_items,
            "n_values": self.n_values,
            "n_raters": self.n_raters,
            "categories": list(self.categories),
            "coincidence": [[self.coincidence[(c, k)] for k in self.categories]
                            for c in self.categories],
            "value_counts": dict(self.value_counts),
            "observed_disagreement": self.observed_disagreement,
            "expected_disagreement": self.expected_disagreement,
            "note": self.note,
        }  # fmt: skip


# --------------------------------------------------------------------------- helpers


def _sorted(values: Iterable) -> list:
    """Sorted, falling back to a type-then-repr order for ids that do not compare."""
    values = list(values)
    try:
        return sorted(values)
    except TypeError:
        return sorted(values, key=lambda v: (type(v).__name__, repr(v)))


def _by_item(decisions: Iterable[Decision]) -> dict[Item, dict[Rater, Label]]:
    """{item: {rater: label}}, skipping None labels and rejecting conflicting duplicates."""
    items: dict[Item, dict[Rater, Label]] = {}
    for item, rater, label in decisions:
        if label is None:
            continue
        ratings = items.setdefault(item, {})
        if rater in ratings and ratings[rater] != label:
            raise ValueError(
                f"rater {rater!r} rated item {item!r} twice ({ratings[rater]!r} and {label!r})"
            )
        ratings[rater] = label
    return items


def _categories(labels: Iterable[Label], categories: Iterable[Label] | None) -> list[Label]:
    seen = set(labels)
    if categories is None:
        return _sorted(seen)
    fixed = set(categories)
    unknown = seen - fixed
    if unknown:
        raise ValueError(f"labels outside the given categories: {_sorted(unknown)!r}")
    return _sorted(fixed)


def _all_labels(items: dict[Item, dict[Rater, Label]]) -> set[Label]:
    return {label for ratings in items.values() for label in ratings.values()}


def _pair_units(items: dict[Item, dict[Rater, Label]]) -> dict[tuple[Rater, Rater], Counter]:
    """{(rater_a, rater_b): Counter((label_a, label_b))} with rater_a < rater_b by id."""
    units: dict[tuple[Rater, Rater], Counter] = {}
    for ratings in items.values():
        if len(ratings) < 2:
            continue
        for a, b in itertools.combinations(_sorted(ratings), 2):
            units.setdefault((a, b), Counter())[(ratings[a], ratings[b])] += 1
    return units


def _from_counts(
    counts: Counter, categories: list[Label], rater_a: Rater | None, rater_b: Rater | None
) -> PairAgreement:
    """Cohen's kappa of one contingency table, computed exactly in integers."""
    matrix = {(a, b): counts.get((a, b), 0) for a in categories for b in categories}
    rows = {c: sum(matrix[(c, k)] for k in categories) for c in categories}
    cols = {c: sum(matrix[(k, c)] for k in categories) for c in categories}
    n = sum(matrix.values())
    agreed = sum(matrix[(c, c)] for c in categories)
    result = PairAgreement(
        rater_a=rater_a, rater_b=rater_b, n=n, agreed=agreed, percent_agreement=None,
        kappa=None, categories=categories, matrix=matrix, observed=None, expected=None,
        marginals_a=rows, marginals_b=cols,
    )  # fmt: skip
    if n == 0:
        result.note = NOTE_NO_OVERLAP
        return result
    # pe = sum_c (rows_c / n) (cols_c / n) = expected_num / n**2
    expected_num = sum(rows[c] * cols[c] for c in categories)
    result.observed = result.percent_agreement = agreed / n
    result.expected = expected_num / (n * n)
    if expected_num == n * n:
        result.note = NOTE_ONE_CATEGORY
    else:
        # (po - pe) / (1 - pe) with po = agreed / n and pe = expected_num / n**2
        result.kappa = (agreed * n - expected_num) / (n * n - expected_num)
    return result


# --------------------------------------------------------------------------- Cohen's kappa


def pair_agreement(
    labels_a: dict[Item, Label],
    labels_b: dict[Item, Label],
    rater_a: Rater | None = None,
    rater_b: Rater | None = None,
    categories: Iterable[Label] | None = None,
) -> PairAgreement:
    """Percent agreement and Cohen's kappa of two raters over the items both rated.

    ``labels_a`` / ``labels_b`` map item -> label (None labels are skipped). Items only one of
    them rated are ignored. Without ``categories`` the table spans every label either rater
    used, including on items the other did not rate.
    """
    a = {item: label for item, label in labels_a.items() if label is not None}
    b = {item: label for item, label in labels_b.items() if label is not None}
    cats = _categories(itertools.chain(a.values(), b.values()), categories)
    counts = Counter((a[item], b[item]) for item in a.keys() & b.keys())
    return _from_counts(counts, cats, rater_a, rater_b)


def pairwise(
    decisions: Iterable[Decision], categories: Iterable[Label] | None = None
) -> list[PairAgreement]:
    """`pair_agreement` for every pair of raters who co-rated at least one item, sorted by
    (rater_a, rater_b) with rater_a < rater_b. All tables share the categories of the whole
    set of decisions (or ``categories``), so they line up on a stats page."""
    items = _by_item(decisions)
    cats = _categories(_all_labels(items), categories)
    units = _pair_units(items)
    return [_from_counts(units[pair], cats, *pair) for pair in _sorted(units)]


def pooled_agreement(
    decisions: Iterable[Decision],
    categories: Iterable[Label] | None = None,
    method: str = "de_vries",
) -> PooledAgreement:
    """One pooled percent agreement and kappa over all co-rated pairs of decisions.

    Units: for each item with two or more raters, each unordered pair of its raters is one
    unit (an item with 3 raters gives 3 units); raters within an item are ordered by rater
    id. Percent agreement = agreed units / units, i.e. the n-weighted mean of the pairs'
    percent agreements. ``matrix`` is the summed table of all pairs' tables.

    The chance term pe depends on ``method``:

    ``"de_vries"`` (default)
        The pooled kappa of De Vries, Elliott, Kanouse & Teleki (2008, "Using pooled kappa
        to summarize interrater agreement across many items", Field Methods 20(3):272-282):
        kappa = (mean po - mean pe) / (1 - mean pe), where each rater pair's po and pe are
        Cohen's, computed from that pair's own table, and the means weight each pair by its
        n (De Vries weight their tables equally; they all have the same n there). Each
        pair's pe uses the two actual raters' own base rates, so the figure does not depend
        on how rater ids happen to be ordered. The counts behind pe are the pair tables
        (`pairwise`).

    ``"summed_table"``
        Cohen's kappa of the summed table itself: pe from its row and column margins, where
        "row" mixes whichever rater of each pair has the lower id. Simple to show, but
        depends on the id order when pairs overlap (e.g. raters 1-2 and 2-3).

    Both reduce to the ordinary Cohen's kappa when the same two raters rated every item.
    kappa is None when there are no units, or when pe == 1 (every pair used one and the same
    category throughout).
    """
    if method not in POOLED_METHODS:
        raise ValueError(f"method must be one of {POOLED_METHODS}, not {method!r}")
    items = _by_item(decisions)
    cats = _categories(_all_labels(items), categories)
    units = _pair_units(items)
    summed: Counter = Counter()
    for counts in units.values():
        summed.update(counts)
    table = _from_counts(summed, cats, None, None)
    result = PooledAgreement(
        **{f.name: getattr(table, f.name) for f in fields(PairAgreement)},
        method=method,
        n_items=sum(1 for ratings in items.values() if len(ratings) >= 2),
        n_rater_pairs=len(units),
    )
    if method == "summed_table" or result.n == 0:
        return result

    # De Vries: pe = sum_pairs n_p pe_p / N, pe_p = sum_c a_pc b_pc / n_p**2 (kept exact).
    expected = Fraction(0)
    for counts in units.values():
        pair = _from_counts(counts, cats, None, None)
        expected += Fraction(sum(pair.marginals_a[c] * pair.marginals_b[c] for c in cats), pair.n)
    expected /= result.n
    observed = Fraction(result.agreed, result.n)
    result.expected = float(expected)
    if expected == 1:
        result.kappa, result.note = None, NOTE_ONE_CATEGORY
    else:
        result.kappa, result.note = float((observed - expected) / (1 - expected)), ""
    return result


# --------------------------------------------------------------------------- Krippendorff


def krippendorff_alpha(
    decisions: Iterable[Decision],
    level: str = "nominal",
    categories: Iterable[Label] | None = None,
) -> AlphaResult:
    """Krippendorff's alpha for any number of raters, with missing ratings allowed.

    The coincidence-matrix computation of Krippendorff (2011), "Computing Krippendorff's
    alpha-reliability": items with fewer than two ratings are dropped; an item u with m_u
    ratings adds 1 / (m_u - 1) to o_ck for every ordered pair (c, k) of its ratings (from
    different raters); n_c = sum_k o_ck and n = sum_c n_c. At the nominal level

        alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k.

    alpha is None (with a note) when no item has two ratings, or when all pairable ratings
    fall in one category (no disagreement is possible). Only ``level="nominal"`` is
    implemented; screening labels are nominal.
    """
    if level != "nominal":
        raise ValueError(f"only the nominal level is implemented, not {level!r}")
    items = _by_item(decisions)
    cats = _categories(_all_labels(items), categories)
    raters = {rater for ratings in items.values() for rater in ratings}

    # Ordered pairs of ratings within each item, grouped by m_u, so o_ck is summed exactly.
    pairs_by_m: dict[int, Counter] = {}
    n_items = n_values = 0
    for ratings in items.values():
        m = len(ratings)
        if m < 2:
            continue
        n_items += 1
        n_values += m
        bucket = pairs_by_m.setdefault(m, Counter())
        for a, b in itertools.permutations(ratings.values(), 2):
            bucket[(a, b)] += 1
    coincidence = {(c, k): Fraction(0) for c in cats for k in cats}
    for m, bucket in pairs_by_m.items():
        for pair, count in bucket.items():
            coincidence[pair] += Fraction(count, m - 1)
    value_counts = {c: int(sum(coincidence[(c, k)] for k in cats)) for c in cats}

    result = AlphaResult(
        alpha=None, level=level, n_items=n_items, n_values=n_values, n_raters=len(raters),
        categories=cats, coincidence={key: float(v) for key, v in coincidence.items()},
        value_counts=value_counts, observed_disagreement=None, expected_disagreement=None,
    )  # fmt: skip
    if n_values == 0:
        result.note = NOTE_NO_PAIRABLE
        return result
    n = n_values
    disagree_observed = sum(v for (c, k), v in coincidence.items() if c != k)
    disagree_expected = sum(value_counts[c] * value_counts[k] for c in cats for k in cats if c != k)
    result.observed_disagreement = float(disagree_observed / n)
    result.expected_disagreement = disagree_expected / (n * (n - 1))
    if disagree_expected == 0:
        result.note = NOTE_ALPHA_ONE_CATEGORY
        return result
    result.alpha = float(1 - (n - 1) * disagree_observed / disagree_expected)
    return result


# --------------------------------------------------------------------------- summary


def stage_summary(decisions: Iterable[Decision], categories: Iterable[Label] | None = None) -> dict:
    """Everything the stats page shows for one stage's decisions.

    Returns ``{"pairs": [PairAgreement...], "pooled": PooledAgreement, "alpha": AlphaResult
    or None, "raters": [...], "n_items": int, "n_decisions": int, "n_items_multi": int}``.
    alpha is computed only when more than two raters took part: some item has more than two
    raters, or more than two distinct raters rated overall. ``n_items_multi`` counts items
    with two or more raters.
    """
    decisions = [d for d in decisions if d[2] is not None]
    items = _by_item(decisions)
    cats = _categories(_all_labels(items), categories)
    raters = _sorted({rater for ratings in items.values() for rater in ratings})
    many = len(raters) > 2 or any(len(ratings) > 2 for ratings in items.values())
    return {
        "pairs": pairwise(decisions, cats),
        "pooled": pooled_agreement(decisions, cats),
        "alpha": krippendorff_alpha(decisions, categories=cats) if many else None,
        "raters": raters,
        "n_items": len(items),
        "n_decisions": sum(len(ratings) for ratings in items.values()),
        "n_items_multi": sum(1 for ratings in items.values() if len(ratings) >= 2),
    }
