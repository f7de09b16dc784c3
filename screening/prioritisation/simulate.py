"""Replay a labelled review through the ranking to measure the work it saves.

The reviewer starts from two prior records (one include, one exclude, drawn by the seed),
then repeatedly: the model ranks the unscreened records, the reviewer screens the top one
(the top K with retrain_every=K, in rank order), their labels are revealed and the model is
retrained. Figures leave the two prior records out: N' records, R' includes.
"""

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .features import vectorize
from .model import rank, resolve_settings


@dataclass(frozen=True)
class ScreeningFigures:
    wss95: float  # (N' - screened95) / N' - 0.05
    recall10: float  # includes among the first floor(0.10 N') screened, / R'
    screened95: int  # records screened until ceil(0.95 R') includes were found
    screened100: int  # records screened until all R' includes were found


@dataclass(frozen=True)
class SimulationResult:
    records: int  # N, prior records included
    includes: int  # R, prior records included
    wss95: float
    recall10: float
    screened95: int
    screened100: int
    seconds: float
    # Row indices in the order screened, prior records left out. It stops once every
    # include is found and at least 10% of N' is screened: the rest, in any order, would
    # not change a figure.
    order: tuple[int, ...]


def screening_figures(screened_labels, *, records, includes):
    """Figures for screened_labels (0/1 of the records in the order screened, at least up to
    the last include and up to floor(0.10 N')); records = N', includes = R' (>= 1)."""
    found = np.cumsum(np.asarray(screened_labels, dtype=int))
    if includes < 1 or found.size == 0 or found[-1] < includes:
        raise ValueError("screened_labels must reach every one of at least 1 include")
    if len(screened_labels) < records // 10:
        raise ValueError("screened_labels must cover the first floor(0.10 N') records")
    # ceil(0.95 R') in integers: exact for any R', with no floating-point rounding to trust.
    needed = (95 * includes + 99) // 100
    screened95 = int(np.searchsorted(found, needed)) + 1
    screened100 = int(np.searchsorted(found, includes)) + 1
    first_tenth = records // 10
    found_in_tenth = int(found[first_tenth - 1]) if first_tenth else 0
    return ScreeningFigures(
        wss95=(records - screened95) / records - 0.05,
        recall10=found_in_tenth / includes,
        screened95=screened95,
        screened100=screened100,
    )


def prior_records(labels, seed):
    """(include row, exclude row) drawn with numpy.random.default_rng(seed), include first."""
    rng = np.random.default_rng(seed)
    labels = np.asarray(labels)
    include = int(rng.choice(np.flatnonzero(labels == 1)))
    exclude = int(rng.choice(np.flatnonzero(labels == 0)))
    return include, exclude


def simulate(texts, labels, *, seed, retrain_every=1, settings=None, on_progress=None):
    """SimulationResult of screening texts (records or their vectorize() matrix) in the
    model's order; labels: 0/1 per record. on_progress(screened, found) after each batch."""
    started = time.perf_counter()
    labels = np.asarray(labels, dtype=int)
    if set(np.unique(labels)) - {0, 1}:
        raise ValueError("labels must be 0 or 1")
    if labels.sum() < 2 or (labels == 0).sum() < 1:
        raise ValueError("A simulation needs at least 2 includes and 1 exclude")
    if retrain_every < 1:
        raise ValueError("retrain_every must be at least 1")
    settings = resolve_settings(settings)
    matrix = texts if sp.issparse(texts) else vectorize(texts, settings)
    records, includes = len(labels) - 2, int(labels.sum()) - 1
    known = {row: int(labels[row]) for row in prior_records(labels, seed)}
    # A second stream, so the prior records stay those prior_records(labels, seed) names.
    tie_break = np.random.default_rng([seed, 1]).permutation(len(labels))
    unscreened = np.ones(len(labels), dtype=bool)
    unscreened[list(known)] = False
    order, found = [], 0

    def done():
        return found == includes and len(order) >= records // 10

    while not done():
        scores = rank(matrix, known, settings=settings)
        candidates = np.flatnonzero(unscreened)
        # Equal scores (duplicates, records without text) go in a seeded random order: the
        # file's order must not help (Kitchenham_2010 lists its includes first).
        best_first = np.lexsort((tie_break[candidates], -scores[candidates]))
        batch = candidates[best_first[:retrain_every]]
        for row in batch.tolist():
            order.append(row)
            known[row] = int(labels[row])
            unscreened[row] = False
            found += known[row]
            if done():
                break
        if on_progress:
            on_progress(len(order), found)
    figures = screening_figures(labels[order], records=records, includes=includes)
    return SimulationResult(
        records=len(labels),
        includes=int(labels.sum()),
        wss95=figures.wss95,
        recall10=figures.recall10,
        screened95=figures.screened95,
        screened100=figures.screened100,
        seconds=time.perf_counter() - started,
        order=tuple(order),
    )
