"""Stopping guidance for prioritised title/abstract screening: figures a lead reads before
deciding to stop. Nothing here excludes a record or stops screening; the lead decides.

Pure functions over plain data (no ORM); the caller builds the input from the database.

Input
    A *sequence* is the list of settled title/abstract outcomes in the order the records were
    screened: ``True`` for include (relevant, including a "maybe" that moves on), ``False``
    for exclude. The caller passes records in the order their outcome was settled (agreed by
    both reviewers, or the conflict resolved), oldest first, and leaves out records still
    awaiting a second decision or a resolution: a pending record is neither an include nor an
    exclude yet. ``total`` is the number of records in the screening pool (after duplicates
    are removed), screened or not.

Figures
    * `screening_curve`: includes found against records screened, for the chart;
    * `consecutive_excludes` and `since_last_include`: the current run of excludes;
    * `stopping_test`: the hypergeometric stopping test of Callaghan & Mueller-Hansen (2020);
    * `stopping_estimate`: that test with recall figures derived from it, and a note in words
      for the stopping log, the exports and the PRISMA notes;
    * `sample_estimate`: the check to run before stopping: screen a simple random sample of
      the records not yet screened and bound recall from it.

Needs numpy and scipy at import time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from scipy.stats import hypergeom

__all__ = [
    "SampleEstimate",
    "StoppingEstimate",
    "consecutive_excludes",
    "sample_estimate",
    "screening_curve",
    "since_last_include",
    "stopping_estimate",
    "stopping_test",
]

PAPER = (
    "Callaghan MW, Mueller-Hansen F. Statistical stopping criteria for automated screening "
    "in systematic reviews. Systematic Reviews 2020;9:273. doi:10.1186/s13643-020-01521-4"
)

# The recall where the test's p crosses 0.5 is reported as the central value: it lies
# between the confidence bound and 100% by construction, with no extra model to explain.
CENTRAL_P = 0.5


# --------------------------------------------------------------------------- counting


def screening_curve(sequence: Sequence[bool]) -> list[tuple[int, int]]:
    """``[(screened, includes_found), ...]``, one point per screened record, in order.

    The chart of includes found against records screened: a curve that flattens out is what
    prioritisation looks like when it has found most of the includes. The origin ``(0, 0)``
    is not included; a chart that wants it prepends it.
    """
    curve = []
    found = 0
    for screened, outcome in enumerate(sequence, start=1):
        found += bool(outcome)
        curve.append((screened, found))
    return curve


def consecutive_excludes(sequence: Sequence[bool]) -> int:
    """The length of the run of excludes at the end of ``sequence`` (0 if the last record
    screened was an include; ``len(sequence)`` if there has been no include yet)."""
    run = 0
    for outcome in reversed(sequence):
        if outcome:
            break
        run += 1
    return run


def since_last_include(sequence: Sequence[bool]) -> int | None:
    """Records screened after the most recent include, or None if nothing has been included.

    Over one settled-outcome sequence this equals `consecutive_excludes` except when there is
    no include at all: then there is no "last include" to count from, and the run of
    excludes is the whole sequence.
    """
    for position, outcome in enumerate(reversed(sequence)):
        if outcome:
            return position
    return None


# --------------------------------------------------------------------------- validation


def _check_level(name: str, value: float, low: float) -> Fraction:
    if not low < value < 1:
        raise ValueError(f"{name} must be between {low} and 1 (exclusive), got {value!r}")
    # floor(found / target) needs exact arithmetic: in floats 67 / 0.536 is
    # 124.99999999999999, not 125, which puts an exact boundary on the wrong side.
    return Fraction(value).limit_denominator(1_000_000)


def _rejected(p_value: float, level: float) -> bool:
    """p < level, where a p equal to the level up to rounding (exact ties happen: p = 1/20
    at 95% confidence) does not reject: rounding noise must never be what allows a stop."""
    return p_value < level * (1 - 1e-9)


def _last_true(low: int, high: int, holds) -> int:
    """The largest v in [low, high] with holds(v), for holds True at low and, once False,
    False for every larger v. Each holds() is a pass of hypergeometric tails and the answer
    is usually a few steps above low, so gallop up in doubling steps, then bisect."""
    step = 1
    while low + step <= high and holds(low + step):
        low += step
        step *= 2
    high = min(high, low + step - 1)
    while low < high:
        middle = (low + high + 1) // 2
        if holds(middle):
            low = middle
        else:
            high = middle - 1
    return low


def _min_total_for_missed_target(found: int, target: Fraction) -> int:
    """The smallest total number of relevant records for which ``found`` of them is a recall
    below ``target``: recall = found / total < target  <=>  total > found / target."""
    return math.floor(found / target) + 1


def _percent(value: float) -> str:
    return f"{100 * value:.1f}%"


# --------------------------------------------------------------------------- prioritised


@dataclass(frozen=True)
class StoppingEstimate:
    """The stopping test over records screened in prioritised order, and what it implies.

    ``p_value`` is the test's p for the hypothesis "recall is below ``target_recall``";
    ``can_stop`` is ``p_value < 1 - confidence``. ``recall_low`` is the highest recall the
    same test supports at ``confidence``: ``can_stop`` is True exactly when
    ``recall_low >= target_recall`` (up to float rounding at an exact tie).
    ``estimated_recall`` is where the test's p crosses 0.5, never below ``recall_low``; in
    the simulations it sat at or below the true recall in prioritised order, but overstated
    it (by about 10 points midway) in random order, so it is only a guide.
    ``recall_high`` is 1.0: records screened in prioritised order cannot show that relevant
    records remain; `sample_estimate` can. The recall figures are None while nothing has
    been included. ``evidence_window`` is the number of most recent records whose outcomes
    gave the smallest p (0 when nothing has been screened). ``method_note`` says all of this
    in words for a methods section and the stopping log.
    """

    p_value: float
    can_stop: bool
    target_recall: float
    confidence: float
    screened: int
    total: int
    includes_found: int
    estimated_recall: float | None
    recall_low: float | None
    recall_high: float | None
    method_note: str
    evidence_window: int = 0


class _Windows:
    """The paper's pseudo-samples: for each k in 1..n, the last k screened records, treated
    as a random sample drawn from the urn of records not screened before them."""

    def __init__(self, sequence: Sequence[bool], total: int):
        if total < len(sequence):
            raise ValueError(f"total ({total}) is smaller than the records screened")
        outcomes = np.fromiter((bool(o) for o in sequence), dtype=np.int64)
        self.screened = n = int(outcomes.size)
        self.found = int(outcomes.sum())
        newest_first = outcomes[::-1]
        found_in_last = np.cumsum(newest_first)
        # Only the longest window between two includes can give the minimum. Stretching a
        # window back over one more exclude adds that record to the urn and to the sample
        # and leaves K_tar alone; k + 1 draws from the urn one larger are, by the first
        # draw, either k draws from the old urn or 1 + k draws from it with one relevant
        # record fewer, both at least as large, so "no more includes than seen" is never
        # more likely. The candidates are the windows that reach back to just after an
        # include, and the whole sequence: one per include instead of one per record.
        reaches_include = np.zeros(n, dtype=bool)
        reaches_include[:-1] = newest_first[1:] == 1
        if n:
            reaches_include[-1] = True
        # Per candidate window: its size, and the includes in it (the paper writes these n
        # and k; here k is the window size and n counts every record screened).
        self.sample_sizes = np.flatnonzero(reaches_include) + 1
        self.found_in_sample = found_in_last[self.sample_sizes - 1]
        # Includes before the sample: the paper's r_AL.
        self.found_before = self.found - self.found_in_sample
        # The urn: the sampled records plus every record not screened yet.
        self.urn_sizes = total - n + self.sample_sizes

    def p_value(self, total_relevant: int) -> tuple[float, int]:
        """(p, k) for H0 "the pool holds at least ``total_relevant`` relevant records":
        the smallest over k of P(X <= includes among the last k), X hypergeometric with the
        fewest relevant records the urn can hold under H0, and the k that gave it."""
        if self.screened == 0:
            return 1.0, 0
        p = self._tails(total_relevant, below=0.5)
        # Windows skipped above have p >= 0.5; look again only where one could still win.
        p = np.minimum(p, self._tails(total_relevant, below=float(p.min()), skip=p < 1))
        best = int(np.argmin(p))
        return float(p[best]), int(self.sample_sizes[best])

    def rejects(self, total_relevant: int, level: float) -> bool:
        """Whether the test rejects "at least ``total_relevant`` relevant" at ``level``."""
        if self.screened == 0:
            return False
        return _rejected(float(self._tails(total_relevant, below=level).min()), level)

    def _tails(self, total_relevant, below, skip=None):
        """P(X <= includes in the sample) per window, exact wherever it could be below
        ``below`` and 1 elsewhere (and where ``skip`` is set).

        A long window reaching back into the early, include-rich records has p near 1, and
        scipy's cdf is slow when it must sum hundreds of terms, so windows are first ruled
        out with Cantelli's inequality, P(X >= mean + t) <= var / (var + t^2): a lower
        bound on p that costs one vectorised formula.
        """
        relevant_in_urn = total_relevant - self.found_before
        urn, draws, seen = self.urn_sizes, self.sample_sizes, self.found_in_sample
        # H0 needing more relevant records than the urn holds means recall reaches the target
        # even if every unscreened record is relevant, so p is 0. The reference R code gets
        # NaN from phyper here and skips the window, which can only report a larger p.
        possible = relevant_in_urn <= urn
        share = np.where(possible, relevant_in_urn / urn, 0.0)
        mean = draws * share
        variance = mean * (1 - share) * (urn - draws) / np.maximum(urn - 1, 1)
        excess = np.maximum(seen + 1 - mean, 0.0)
        # 0 / 0 where a window has no spread and no excess; np.where discards it.
        with np.errstate(invalid="ignore"):
            floor = np.where(excess > 0, excess**2 / (variance + excess**2), 0.0)
        # The margin keeps float error in the bound from ever skipping a window that wins.
        exact = possible & (floor < below + 1e-9)
        if skip is not None:
            exact &= ~skip
        p = np.where(possible, 1.0, 0.0)
        p[exact] = hypergeom.cdf(seen[exact], urn[exact], relevant_in_urn[exact], draws[exact])
        return p

    def largest_total_not_rejected(self, threshold: float, unscreened: int) -> int:
        """The largest total number of relevant records the test does not reject at
        ``threshold``. p only falls as the total grows (more relevant records in the urn
        make "so few in the sample" less likely), so bisect."""
        # p at total == found is 1 (each urn holds just the includes its sample showed).
        return _last_true(
            self.found,
            self.found + unscreened,
            lambda total: not self.rejects(total, threshold),
        )


def stopping_test(
    sequence: Sequence[bool], total: int, target_recall: float = 0.95
) -> tuple[float, int]:
    """``(p_value, evidence_window)``: the stopping test of Callaghan & Mueller-Hansen (2020)
    alone, for charts of p over time; `stopping_estimate` adds the recall figures.

    Method (the paper's Methods section, its hypergeometric stopping criterion; the same
    formulas are ``k_h0`` and ``calculate_h0`` in the authors' buscar packages, whose worked
    example is reproduced in the tests):

    * H0: recall < target, i.e. the pool holds more than found / target relevant records.
    * For each k in 1..n, take the last k screened records as if they were a random sample
      drawn without replacement from the urn of ``total - (n - k)`` records not screened
      before them. With r_AL includes before the sample and r_seen in all, the smallest
      number of relevant records the urn can hold under H0 is the paper's
      ``K_tar = floor(r_seen / target - r_AL + 1)``, from r_seen / (r_AL + K) < target.
    * p_k = P(X <= includes in the sample), X ~ Hypergeometric(urn, K_tar, k): the fewest
      relevant records allowed by H0 is the case most favourable to seeing so few, so this
      is the largest p under H0. The test's p is the minimum over k; ``evidence_window`` is
      the k that gave it (0 when nothing has been screened, and p is 1).
    * The lead may consider stopping when p < 1 - confidence.

    It rests on one assumption: the records not yet screened are no more likely to be
    relevant than the last k screened. Prioritised order (most-likely-relevant first) makes
    that conservative; a ranking worse than random, or records added to the pool after
    screening started, breaks it. Neither the minimum over k nor checking after every record
    is corrected for. In simulations run while writing this module, prioritised order never
    stopped short of the target, but records screened in random order (where the assumption
    holds exactly) stopped short of a 95% target at 95% confidence in 7.5 to 8.5 runs in
    100 (1,800 simulated reviews of 500 to 1,000 records), not 5.
    """
    return _test(_Windows(sequence, total), target_recall)


def _test(windows: _Windows, target_recall: float) -> tuple[float, int]:
    target = _check_level("target_recall", target_recall, 0)
    return windows.p_value(_min_total_for_missed_target(windows.found, target))


def stopping_estimate(
    sequence: Sequence[bool],
    total: int,
    target_recall: float = 0.95,
    confidence: float = 0.95,
) -> StoppingEstimate:
    """The stopping test (see `stopping_test`) after ``sequence`` (settled outcomes in
    screening order, see the module docstring) out of ``total`` records, with recall figures
    from the same test.

    The test is inverted over the total number of relevant records: ``recall_low`` is found
    divided by the largest total it does not reject at 1 - confidence (buscar's "recall
    frontier" read at the chosen confidence), and ``estimated_recall`` the same at p = 0.5.
    p only falls as the total grows, so each is found by bisection.
    """
    alpha = float(1 - _check_level("confidence", confidence, 0.5))
    windows = _Windows(sequence, total)
    p_value, window = _test(windows, target_recall)
    n, found = windows.screened, windows.found
    unscreened = total - n
    can_stop = _rejected(p_value, alpha)

    if found == 0:
        estimated = low = high = None
    else:
        low = found / windows.largest_total_not_rejected(alpha, unscreened)
        estimated = found / windows.largest_total_not_rejected(CENTRAL_P, unscreened)
        high = 1.0

    return StoppingEstimate(
        p_value=p_value,
        can_stop=can_stop,
        target_recall=target_recall,
        confidence=confidence,
        screened=n,
        total=total,
        includes_found=found,
        estimated_recall=estimated,
        recall_low=low,
        recall_high=high,
        method_note=_stopping_note(
            n, total, found, p_value, window, can_stop, target_recall, confidence, low, estimated
        ),
        evidence_window=window,
    )


def _stopping_note(n, total, found, p_value, window, can_stop, target, confidence, low, central):
    alpha = 1 - confidence
    lines = [
        f"Stopping test of Callaghan & Mueller-Hansen (2020) after {n:,} of {total:,} records "
        f"screened, {found:,} included.",
    ]
    if n == 0:
        lines.append("No record has been screened yet, so there is no evidence either way.")
    else:
        verdict = (
            f"below {alpha:.2g}, so the hypothesis is rejected at {_percent(confidence)} "
            "confidence: the target is met by this test and screening may stop."
            if can_stop
            else f"not below {alpha:.2g}, so the target is not yet shown to be met."
        )
        lines.append(
            f"Hypothesis tested: recall is below {_percent(target)}. Each run of the most "
            "recent records screened was treated as a random sample of the records not "
            "screened before it; the strongest evidence came from the last "
            f"{window:,} records, giving p = {p_value:.3g}, {verdict}"
        )
    if low is not None:
        lines.append(
            f"By the same test, recall is at least {_percent(low)} with "
            f"{_percent(confidence)} confidence; its central value (p = 0.5) is "
            f"{_percent(central)}. The upper end is 100%: screening in prioritised order "
            "cannot show that relevant records remain."
        )
    elif n:
        lines.append("No record has been included yet, so recall cannot be estimated.")
    lines.append(
        "Assumption: the records not yet screened are no more likely to be relevant than "
        "the recent records used as the sample. Screening the most likely relevant first "
        "makes this conservative; it fails if the ranking is worse than random or records "
        "were added to the pool after screening began. The test is not corrected for "
        "being checked repeatedly; before stopping, screen a random sample of the "
        "remaining records to confirm."
    )
    lines.append(f"Source: {PAPER}.")
    return " ".join(lines)


# --------------------------------------------------------------------------- random sample


@dataclass(frozen=True)
class SampleEstimate:
    """Recall bounded from a simple random sample of the records not yet screened.

    ``found`` counts includes before the sample; ``includes_found`` adds those in it.
    ``relevant_remaining_low`` / ``_high`` bound the relevant records still unscreened
    after the sample, each a one-sided bound at ``confidence`` (together a two-sided
    interval at 2 * confidence - 1); ``recall_low`` / ``recall_high`` are the recall those
    imply. ``estimated_recall`` uses the sample's inclusion rate. ``p_value`` tests
    "recall is below ``target_recall``" on the sample alone; ``can_stop`` is
    ``p_value < 1 - confidence``, which is exactly ``recall_low >= target_recall``. The
    recall figures are None when nothing has been included before or in the sample.
    """

    p_value: float
    can_stop: bool
    target_recall: float
    confidence: float
    total_remaining: int
    sample_size: int
    relevant_in_sample: int
    found: int
    includes_found: int
    relevant_remaining_low: int
    relevant_remaining_high: int
    estimated_recall: float | None
    recall_low: float | None
    recall_high: float | None
    method_note: str


def sample_estimate(
    total_remaining: int,
    sample_size: int,
    relevant_in_sample: int,
    found: int,
    confidence: float = 0.95,
    target_recall: float = 0.95,
) -> SampleEstimate:
    """Bound recall from a random sample of the unscreened records: the recommended final
    check before stopping, because it needs no assumption about the ranking.

    Procedure: when screening in prioritised order has ``found`` includes and
    ``total_remaining`` records are unscreened, fix ``sample_size`` in advance, draw that
    many of the unscreened records uniformly at random without replacement, and screen all
    of them (do not stop at the first include). ``relevant_in_sample`` is how many of them
    were included.

    With K relevant records among the ``total_remaining`` (K unknown), the includes in the
    sample are Hypergeometric(total_remaining, K, sample_size) exactly. The upper bound on K
    is the largest K with P(X <= observed) >= 1 - confidence, the lower bound the smallest
    with P(X >= observed) >= 1 - confidence: the finite-population (sampling without
    replacement) form of the Clopper-Pearson interval, and no wider than it. Recall is
    (found + in sample) / (found + K). The p-value is the paper's test with this single,
    genuinely random sample (K_tar = floor(includes_found / target - found + 1)), which is
    where its random-sample guarantee applies without caveat.
    """
    target = _check_level("target_recall", target_recall, 0)
    alpha = float(1 - _check_level("confidence", confidence, 0.5))
    if not 0 < sample_size <= total_remaining:
        raise ValueError("sample_size must be between 1 and total_remaining")
    if not 0 <= relevant_in_sample <= sample_size:
        raise ValueError("relevant_in_sample must be between 0 and sample_size")
    if found < 0:
        raise ValueError("found must not be negative")
    x, s, pool = relevant_in_sample, sample_size, total_remaining
    includes_found = found + x

    # K runs from the x the sample showed to x plus every record it did not draw. P(X <= x)
    # falls as K grows and is 1 at K = x; P(X >= x) rises and is 1 at the top.
    most = x + pool - s
    k_high = _last_true(x, most, lambda k: not _rejected(hypergeom.cdf(x, pool, k, s), alpha))
    too_few = lambda k: _rejected(hypergeom.sf(x - 1, pool, k, s), alpha)  # noqa: E731
    k_low = x if not too_few(x) else _last_true(x, most, too_few) + 1

    k_tar = _min_total_for_missed_target(includes_found, target) - found
    # Above `most` the target could not be missed even if every unsampled record were
    # relevant, so H0 is impossible.
    p_value = float(hypergeom.cdf(x, pool, k_tar, s)) if k_tar <= most else 0.0
    can_stop = _rejected(p_value, alpha)

    if includes_found == 0:
        estimated = low = high = None
    else:
        estimated = includes_found / (found + x * pool / s)
        low = includes_found / (found + k_high)
        high = includes_found / (found + k_low)

    note = (
        f"Random-sample check: {s:,} of the {pool:,} records not yet screened were drawn at "
        f"random and screened in full; {x:,} were included, after {found:,} includes from "
        f"prioritised screening. Treating the sample's includes as hypergeometric (sampling "
        f"without replacement), between {k_low - x:,} and {k_high - x:,} relevant records "
        f"remain unscreened (each bound at {_percent(confidence)} confidence)"
    )
    if includes_found:
        note += (
            f", so recall is between {_percent(low)} and {_percent(high)}, about "
            f"{_percent(estimated)} at the sample's inclusion rate."
        )
    else:
        note += "; nothing has been included, so recall cannot be estimated."
    note += (
        f" Hypothesis tested: recall is below {_percent(target_recall)}; p = {p_value:.3g}, "
        + (
            f"below {alpha:.2g}: the target is met with {_percent(confidence)} confidence."
            if can_stop
            else f"not below {alpha:.2g}: the target is not shown to be met."
        )
        + " This rests only on the sample being random and fixed in size before it was "
        f"drawn. Method: the random-sampling stopping criterion of {PAPER}."
    )
    return SampleEstimate(
        p_value=p_value,
        can_stop=can_stop,
        target_recall=target_recall,
        confidence=confidence,
        total_remaining=pool,
        sample_size=s,
        relevant_in_sample=x,
        found=found,
        includes_found=includes_found,
        relevant_remaining_low=k_low - x,
        relevant_remaining_high=k_high - x,
        estimated_recall=estimated,
        recall_low=low,
        recall_high=high,
        method_note=note,
    )
