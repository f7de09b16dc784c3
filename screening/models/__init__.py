from .decisions import (
    Decision,
    DecisionHistory,
    DecisionValue,
    ExclusionReason,
    HighlightTerm,
    RecordStage,
    Resolution,
    ScreenerCursor,
    ScreeningConfig,
    Stage,
    StageStatus,
)
from .fulltext import FullText, Study, StudyReport
from .imports import DuplicatePair, ImportBatch, Record

__all__ = [
    "Decision", "DecisionHistory", "DecisionValue", "DuplicatePair", "ExclusionReason",
    "FullText", "HighlightTerm", "ImportBatch", "Record", "RecordStage", "Resolution",
    "ScreenerCursor", "ScreeningConfig", "Stage", "StageStatus", "Study", "StudyReport",
]  # fmt: skip
