"""Labelled screening datasets in CSV (ASReview / SYNERGY style) for simulations."""

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .features import RecordText

# Header names after lower-casing and turning spaces and hyphens into underscores, first
# match wins: plain names, RIS tags, Zotero's "Abstract Note", ASReview's "primary_title".
TITLE_COLUMNS = ("title", "primary_title", "ti", "t1", "article_title", "document_title")
ABSTRACT_COLUMNS = ("abstract", "abstract_note", "ab", "n2", "notes_abstract")
KEYWORDS_COLUMNS = ("keywords", "keyword", "kw", "author_keywords", "mesh_terms")

_TRUE = {"1", "1.0", "true", "yes", "y"}
_FALSE = {"0", "0.0", "false", "no", "n"}


class DatasetError(ValueError):
    """The file cannot be read as a labelled dataset; the message says why, for a user."""


@dataclass(frozen=True)
class LabelledDataset:
    records: list[RecordText]
    labels: np.ndarray  # 0/1 per record
    columns: dict[str, str | None]  # "title"/"abstract"/"keywords"/"label" -> header or None


def _normalise(header):
    return re.sub(r"[\s\-]+", "_", (header or "").strip().lower())


def _find(headers, candidates):
    by_name = {}
    for header in headers:
        by_name.setdefault(_normalise(header), header)
    return next((by_name[name] for name in candidates if name in by_name), None)


def _label(value, number, column):
    text = (value or "").strip().lower()
    if text in _TRUE:
        return 1
    if text in _FALSE:
        return 0
    raise DatasetError(f"Record {number}: {column} is {value!r}, expected 1 or 0.")


def load_labelled_csv(path, label_column="label_included"):
    """LabelledDataset from a CSV with a header row; title and abstract columns are found
    by name (TITLE_COLUMNS, ABSTRACT_COLUMNS, case-insensitive), keywords if present."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            headers = reader.fieldnames or []
            columns = {
                "title": _find(headers, TITLE_COLUMNS),
                "abstract": _find(headers, ABSTRACT_COLUMNS),
                "keywords": _find(headers, KEYWORDS_COLUMNS),
                "label": _find(headers, (_normalise(label_column),)),
            }
            for role, candidates in (
                ("title", TITLE_COLUMNS),
                ("abstract", ABSTRACT_COLUMNS),
                ("label", (label_column,)),
            ):
                if columns[role] is None:
                    raise DatasetError(
                        f"{path.name}: no {role} column (looked for "
                        f"{', '.join(candidates)}; the file has {', '.join(headers) or 'none'})."
                    )
            records, labels = [], []
            for number, row in enumerate(reader, start=1):
                labels.append(_label(row[columns["label"]], number, columns["label"]))
                records.append(
                    RecordText(
                        row[columns["title"]] or "",
                        row[columns["abstract"]] or "",
                        (row[columns["keywords"]] or "") if columns["keywords"] else "",
                    )
                )
    except FileNotFoundError as exc:
        raise DatasetError(f"{path}: no such file.") from exc
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path.name}: not UTF-8 text ({exc.reason}).") from exc
    except csv.Error as exc:
        raise DatasetError(f"{path.name}: not a readable CSV ({exc}).") from exc
    return LabelledDataset(records, np.array(labels, dtype=int), columns)
