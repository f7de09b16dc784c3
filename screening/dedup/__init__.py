"""Deduplication engine: normalise records, block on indexed keys, score candidate pairs.

Pure Python (rapidfuzz for string similarity), no Django: the import pipeline stores
`blocking_keys()` in the Record's key columns, loads the existing records that share a key
with a new batch, and calls `find_pairs()`; pairs with `auto_merge` merge, the rest of the
returned pairs wait in the duplicates queue, best score first.
"""

from .engine import accuracy, clusters, find_pairs, review_queue
from .fields import DedupFields, prepare
from .keys import KEY_NAMES, blocking_keys
from .score import AUTO_MERGE_THRESHOLD, REVIEW_THRESHOLD, PairScore, score_pair

__all__ = [
    "AUTO_MERGE_THRESHOLD",
    "KEY_NAMES",
    "REVIEW_THRESHOLD",
    "DedupFields",
    "PairScore",
    "accuracy",
    "blocking_keys",
    "clusters",
    "find_pairs",
    "prepare",
    "review_queue",
    "score_pair",
]
