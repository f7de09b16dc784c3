"""The ranking model: a linear SVM on the record features, retrained from scratch each time.

Chosen by simulation on the shared labelled reviews (bench/prioritisation_bench.py, seeds 0-24,
retrained after every record), against ASReview LAB's default ELAS u4 (TF-IDF 1-2-grams,
linear SVM C=0.11, excluded records down-weighted 9.8x):

- Heavier down-weighting of excluded records (40x) and stronger regularisation (C=0.04).
  Early on a handful of includes faces hundreds of excludes; letting the includes dominate
  keeps the model looking for "more like these" instead of learning what the many excluded
  topics look like. 30-50x and C 0.03-0.05 all did as well; 10x or C=0.11 lost 0.03-0.05
  WSS@95 on Kitchenham_2010.
- Logistic regression with the same weighting and C=0.01 did as well (within 0.01); the SVM
  stays, as the model ASReview users know and can compare with.
- The features matter more than the model: see features.py (no stop-word list, title block).
"""

import functools
import hashlib
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.svm import LinearSVC

from .features import FEATURE_SETTINGS, vectorize

MODEL_NAME = "tfidf-title-linear-svm"

DEFAULT_SETTINGS = {
    **FEATURE_SETTINGS,
    "C": 0.04,
    # An excluded record counts 1/40 of an included one (before any label weight).
    "negative_downweight": 40,
}


def resolve_settings(settings=None):
    """DEFAULT_SETTINGS overridden by settings; unknown keys are a mistake, not ignored."""
    unknown = set(settings or {}) - set(DEFAULT_SETTINGS)
    if unknown:
        raise ValueError(f"Unknown prioritisation settings: {', '.join(sorted(unknown))}")
    return {**DEFAULT_SETTINGS, **(settings or {})}


@functools.cache
def code_version():
    """'<12 hex of the package's source>+sklearn<version>': changes whenever the code that
    ranks could rank differently, so two rankings with the same value are comparable."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{digest.hexdigest()[:12]}+sklearn{sklearn.__version__}"


def describe(settings=None):
    """One paragraph for a methods section."""
    s = resolve_settings(settings)
    return (
        f"Records were prioritised by a linear support vector machine (scikit-learn "
        f"{sklearn.__version__}, C={s['C']}, excluded records weighted 1/"
        f"{s['negative_downweight']} of included ones) on TF-IDF features (word 1-"
        f"{s['ngram_max']}-grams, sublinear term frequency, terms in at least {s['min_df']} "
        f"records, no stop-word list) of title, abstract and keywords, plus the title alone at "
        f"weight {s['title_weight']}; it was retrained on all decisions so far before each "
        f"ranking and records were shown most-likely-relevant first "
        f"(model {MODEL_NAME}, code {code_version()})."
    )


def _training_rows(labels):
    """labels {row: 0/1 or (0/1, weight)} -> (rows, targets, weights) arrays."""
    rows, targets, weights = [], [], []
    for row, value in labels.items():
        label, weight = value if isinstance(value, tuple) else (value, 1.0)
        if label not in (0, 1):
            raise ValueError(f"Label of row {row} must be 0 or 1, not {label!r}")
        if weight > 0:
            rows.append(row)
            targets.append(int(label))
            weights.append(float(weight))
    return np.array(rows, dtype=int), np.array(targets, dtype=int), np.array(weights)


def rank(texts_or_matrix, labels, *, settings=None):
    """Scores for every record (higher = more likely an include), labelled ones too.

    texts_or_matrix: records (see features.record_text) or the matrix `vectorize()` made
    of them with the same settings. labels: {row index: 0/1 or (0/1, weight)}, e.g. from
    training.labels_from() keyed by row. Until there is an include there is nothing to look
    for: all scores are 0 (the caller keeps its own order). With includes but no exclude yet,
    the score is the similarity to the includes (what the SVM would tend to anyway).
    """
    settings = resolve_settings(settings)
    if sp.issparse(texts_or_matrix):
        matrix = sp.csr_matrix(texts_or_matrix)
    else:
        matrix = vectorize(texts_or_matrix, settings)
    rows, targets, weights = _training_rows(labels)
    if not targets.any():
        return np.zeros(matrix.shape[0])
    if targets.all():
        centroid = np.asarray(matrix[rows].T @ weights).ravel()
        return matrix @ centroid
    class_weight = np.where(targets == 1, 1.0, 1.0 / settings["negative_downweight"])
    # random_state: liblinear's coordinate descent shuffles; a fixed seed makes a ranking
    # (and a simulation) repeatable.
    model = LinearSVC(C=settings["C"], random_state=0)
    model.fit(matrix[rows], targets, sample_weight=weights * class_weight)
    return model.decision_function(matrix)


def score_records(texts, record_ids, labels, *, settings=None):
    """{record_id: score} for the records whose texts are given in record_ids' order; labels
    keyed by record_id, as training.labels_from() returns them (ids not among record_ids,
    e.g. records that left the pool, are ignored)."""
    row_of = {record_id: row for row, record_id in enumerate(record_ids)}
    by_row = {
        row_of[record_id]: value for record_id, value in labels.items() if record_id in row_of
    }
    scores = rank(texts, by_row, settings=settings)
    return dict(zip(record_ids, scores.tolist(), strict=True))
