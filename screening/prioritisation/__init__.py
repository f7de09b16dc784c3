"""Active-learning prioritisation: rank the unscreened records so likely includes come first.

Pure Python over plain data (scikit-learn, no Django): the app turns a stage's decisions into
training labels with `labels_from()`, scores the pool's records with `score_records()`
(`rank()` keyed by record id) and stores `MODEL_NAME`, the settings and `code_version()`
with the ranking, so a methods section can say exactly what ranked the records.
`simulate()` replays a labelled review through the same `rank()` to measure the work saved
(manage.py simulate_screening).
"""

from .datasets import DatasetError, LabelledDataset, load_labelled_csv
from .features import RecordText, vectorize
from .model import (
    DEFAULT_SETTINGS,
    MODEL_NAME,
    code_version,
    describe,
    rank,
    resolve_settings,
    score_records,
)
from .simulate import ScreeningFigures, SimulationResult, screening_figures, simulate
from .training import labels_from

__all__ = [
    "DEFAULT_SETTINGS",
    "MODEL_NAME",
    "DatasetError",
    "LabelledDataset",
    "RecordText",
    "ScreeningFigures",
    "SimulationResult",
    "code_version",
    "describe",
    "labels_from",
    "load_labelled_csv",
    "rank",
    "resolve_settings",
    "score_records",
    "screening_figures",
    "simulate",
    "vectorize",
]
