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
from .prioritisation import Ranking, StopDecision

__all__ = [
    "Decision", "DecisionHistory", "DecisionValue", "DuplicatePair", "ExclusionReason",
    "FullText", "HighlightTerm", "ImportBatch", "Ranking", "Record", "RecordStage",
    "Resolution", "ScreenerCursor", "ScreeningConfig", "Stage", "StageStatus", "StopDecision",
    "Study", "StudyReport",
]  # fmt: skip
