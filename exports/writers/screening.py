"""Screening exports for the lead: every decision (CSV and XLSX), the agreement statistics,
and the characteristics-of-excluded-studies table.

"screening-csv" / "screening-xlsx": one row per current decision, per record, per stage, in
record order with title/abstract before full text. Each row repeats the record (id, title,
year, first author, DOI, the sources that found it: its own and its merged duplicates') and
its outcome at that stage (the derived status's label). A record with no decision yet at a
stage has one row with empty decision columns; an adjudicator's resolution is one more row
with the adjudicator as reviewer and "yes" under `resolution`. Records merged into another
keep their rows (status "Merged into another record", `merged_into` the surviving record),
so no reviewer's work drops out of the log. Reviewers appear by name, or by email when they
have set none: only leads export. Times are UTC.

Both stream: the stage rows come from one server-side iterator, and each chunk of them
costs three more queries (its decisions, resolutions and duplicates), whatever the size of
the review.

"agreement-csv": per stage, one row per reviewer pair (Cohen's kappa, percent agreement),
the pooled row and, with more than two reviewers, Krippendorff's alpha, each with its counts
and its confusion table (a_<label>_b_<label>). The figures are screening.agreement's over
the same decisions and categories as the agreement page, rounded as its CSV is; like the
page, it holds one stage's (record, reviewer, value) triples in memory at a time.

"excluded-csv": the characteristics-of-excluded-studies table, one row per report excluded
at full text (agreed, or by a resolution), with its citation and the reason, alphabetical by
first author.
"""

import csv
import io
from collections import defaultdict
from datetime import UTC
from itertools import islice

from django.db.models import F
from django.db.models.fields.json import KeyTextTransform
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from reviewapp.models import User
from screening import agreement
from screening.models import (
    Decision,
    DecisionValue,
    Record,
    RecordStage,
    Resolution,
    Stage,
    StageStatus,
)
from screening.models.decisions import EXCLUDE_STATUSES

from ..cells import safe_cell, safe_row
from ..registry import register

CHUNK = 2000
STAGE_ORDER = (Stage.TA, Stage.FT)
STAGE_LABELS = dict(Stage.choices)
STATUS_LABELS = dict(StageStatus.choices)
VALUE_LABELS = dict(DecisionValue.choices)
DELETED_ACCOUNT = "(deleted account)"
XLSX_MAX_CELL = 32767  # Excel's limit on the characters in one cell


def person(name, email):
    """How a member appears in the lead's exports: their name, else their email."""
    if name is None and email is None:
        return DELETED_ACCOUNT
    return name or email


def _chunks(iterable, size):
    iterator = iter(iterable)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _utc(moment):
    return moment.astimezone(UTC).replace(tzinfo=None) if moment else None


def _csv_value(value):
    if hasattr(value, "strftime"):
        return value.strftime("%Y-%m-%d %H:%M:%S")  # Excel reads this as a date and time
    return "" if value is None else value


def write_csv_rows(out, header, rows):
    """Rows to `out` as UTF-8 CSV with a byte-order mark (so Excel reads the accents), every
    cell through safe_cell."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row([_csv_value(v) for v in row]))
    text.flush()
    text.detach()


def _xlsx_value(value):
    value = safe_cell(value)
    if isinstance(value, str):
        # openpyxl refuses control characters, which imported records do contain.
        return ILLEGAL_CHARACTERS_RE.sub("", value)[:XLSX_MAX_CELL]
    return value


def write_xlsx_rows(out, title, header, rows, widths=()):
    """Rows to `out` as one worksheet of a workbook built in openpyxl's write-only mode (rows
    go to disk as they come), every cell through safe_cell; datetimes are UTC."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", widths, strict=False):
        sheet.column_dimensions[column].width = width
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=_xlsx_value(name))
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([_xlsx_value(v) for v in row])
    workbook.save(out)


# --- every decision -----------------------------------------------------------------------

SCREENING_HEADER = [
    "record_id", "title", "year", "first_author", "doi", "sources", "merged_into", "stage",
    "stage_status", "reviewer", "decision", "exclusion_reason", "note", "decided_at_utc",
    "resolution",
]  # fmt: skip
SCREENING_WIDTHS = (10, 60, 6, 22, 24, 24, 11, 18, 24, 22, 10, 30, 40, 20, 11)
STAGE_FIELDS = ("record_id", "stage", "status", "record__title", "record__year",
                "record__authors", "record__doi", "record__batch__source",
                "record__duplicate_of_id")  # fmt: skip
DECISION_FIELDS = ("record_id", "stage", "reviewer__name", "reviewer__email", "value",
                   "reason__text", "note", "updated_at")  # fmt: skip
RESOLUTION_FIELDS = ("record_id", "stage", "decided_by__name", "decided_by__email", "value",
                     "reason__text", "note", "decided_at")  # fmt: skip


def _chunk_details(review, chunk):
    """Decisions, resolutions and sources of a chunk of stage rows (ordered by record id),
    each keyed by record (and stage): three queries over the chunk's range of record ids."""
    low, high = chunk[0][0], chunk[-1][0]
    in_range = {"review": review, "record_id__gte": low, "record_id__lte": high}
    decisions = defaultdict(list)
    rows = Decision.objects.filter(**in_range).order_by("record_id", "stage", "updated_at", "id")
    for record_id, stage, *rest in rows.values_list(*DECISION_FIELDS):
        decisions[(record_id, stage)].append(rest)
    rows = Resolution.objects.filter(**in_range).order_by().values_list(*RESOLUTION_FIELDS)
    resolutions = {(record_id, stage): rest for record_id, stage, *rest in rows}
    sources = defaultdict(set)
    duplicates = Record.objects.filter(
        review=review, duplicate_of_id__gte=low, duplicate_of_id__lte=high
    ).values_list("duplicate_of_id", "batch__source")
    for record_id, source in duplicates.order_by():
        sources[record_id].add(source)
    return decisions, resolutions, sources


def screening_rows(review, progress):
    """The rows of the screening log (see the module docstring), streamed."""
    total = RecordStage.objects.filter(review=review).count()
    stage_rows = (
        RecordStage.objects.filter(review=review)
        # "ta" sorts after "ft": descending puts title/abstract first.
        .order_by("record_id", "-stage")
        .values_list(*STAGE_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    done = 0
    for chunk in _chunks(stage_rows, CHUNK):
        decisions, resolutions, sources = _chunk_details(review, chunk)
        for record_id, stage, status, title, year, authors, doi, source, merged_into in chunk:
            found_by = "; ".join(sorted({source, *sources.get(record_id, ())}))
            first_author = authors[0] if authors else ""
            base = [record_id, title, year, first_author, doi, found_by, merged_into,
                    STAGE_LABELS[stage], STATUS_LABELS.get(status, status)]  # fmt: skip
            made = decisions.get((record_id, stage), [])
            resolution = resolutions.get((record_id, stage))
            if not made and resolution is None:
                yield base + ["", "", "", "", None, ""]
            for name, email, value, reason, note, at in made:
                yield base + [person(name, email), VALUE_LABELS[value], reason or "", note,
                              _utc(at), ""]  # fmt: skip
            if resolution is not None:
                name, email, value, reason, note, at = resolution
                yield base + [person(name, email), VALUE_LABELS[value], reason or "", note,
                              _utc(at), "yes"]  # fmt: skip
        done += len(chunk)
        progress(done / max(total, 1), f"{done:,} of {total:,} record stages")


@register("screening-csv", label="Screening decisions (CSV)", extension="csv",
          content_type="text/csv", group="Screening",
          description="Every reviewer's decision on every record at each stage, with "
                      "resolutions and each record's outcome.")  # fmt: skip
def write_screening_csv(review, out, *, progress, options):
    write_csv_rows(out, SCREENING_HEADER, screening_rows(review, progress))
    progress(1.0)


@register("screening-xlsx", label="Screening decisions (Excel)", extension="xlsx",
          content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
          group="Screening",
          description="Every reviewer's decision on every record at each stage, with "
                      "resolutions and each record's outcome, as a spreadsheet.")  # fmt: skip
def write_screening_xlsx(review, out, *, progress, options):
    write_xlsx_rows(out, "Screening", SCREENING_HEADER, screening_rows(review, progress),
                    SCREENING_WIDTHS)  # fmt: skip
    progress(1.0)


# --- agreement ----------------------------------------------------------------------------

# As the agreement page (screening.views.stats): "maybe" is its own category at
# title/abstract; at full text only include and exclude are compared, not the reasons.
CATEGORIES = {Stage.TA: ("exclude", "include", "maybe"), Stage.FT: ("exclude", "include")}
ALL_CATEGORIES = ("exclude", "include", "maybe")
POOLED = "all pairs (pooled kappa, De Vries et al. 2008)"
ALPHA = "all reviewers (Krippendorff's alpha, nominal)"
AGREEMENT_HEADER = [
    "stage", "comparison", "reviewer_a", "reviewer_b", "n", "agreed", "percent_agreement",
    "cohens_kappa", "expected_agreement", "krippendorff_alpha", "items", "reviewers", "note",
    *(f"a_{a}_b_{b}" for a in ALL_CATEGORIES for b in ALL_CATEGORIES),
]  # fmt: skip


def stage_decisions(review, stage):
    """(record id, reviewer id, value) of the current decisions on kept records at `stage`:
    the decisions the agreement page counts."""
    return list(
        Decision.objects.filter(review=review, stage=stage, record__duplicate_of__isnull=True)
        .order_by()
        .values_list("record_id", "reviewer_id", "value")
    )


def _number(value, digits):
    # The agreement page's rounding, so the two show the same figures.
    return "" if value is None else f"{value:.{digits}f}"


def _table(result):
    return [result.matrix.get((a, b), "") for a in ALL_CATEGORIES for b in ALL_CATEGORIES]


def _agreement_row(stage, comparison, name_a, name_b, result, items, reviewers):
    percent = None if result.percent_agreement is None else 100 * result.percent_agreement
    return [STAGE_LABELS[stage], comparison, name_a, name_b, result.n, result.agreed,
            _number(percent, 1), _number(result.kappa, 4), _number(result.expected, 4), "",
            items, reviewers, result.note, *_table(result)]  # fmt: skip


def agreement_rows(review, progress):
    summaries = []
    for stage in STAGE_ORDER:
        summary = agreement.stage_summary(stage_decisions(review, stage), CATEGORIES[stage])
        summaries.append((stage, summary))
        progress(len(summaries) / (len(STAGE_ORDER) + 1), "Computing agreement")
    rater_ids = {rater for _stage, summary in summaries for rater in summary["raters"]}
    users = User.objects.filter(pk__in=rater_ids).values_list("pk", "name", "email")
    names = {pk: person(name, email) for pk, name, email in users}
    rows = []
    for stage, summary in summaries:
        n_raters = len(summary["raters"])
        for pair in summary["pairs"]:
            name_a = names.get(pair.rater_a, DELETED_ACCOUNT)
            name_b = names.get(pair.rater_b, DELETED_ACCOUNT)
            rows.append(_agreement_row(stage, "pair", name_a, name_b, pair, pair.n, 2))
        pooled = summary["pooled"]
        rows.append(_agreement_row(stage, POOLED, "", "", pooled, pooled.n_items, n_raters))
        alpha = summary["alpha"]
        if alpha is not None:
            rows.append([STAGE_LABELS[stage], ALPHA, "", "", alpha.n_values, "", "", "", "",
                         _number(alpha.alpha, 4), alpha.n_items, alpha.n_raters, alpha.note,
                         *[""] * len(ALL_CATEGORIES) ** 2])  # fmt: skip
    return rows


@register("agreement-csv", label="Screening agreement (CSV)", extension="csv",
          content_type="text/csv", group="Screening",
          description="Agreement between reviewers per stage: Cohen's kappa and percent "
                      "agreement per pair and pooled, Krippendorff's alpha when more than two "
                      "reviewers screened, with the counts behind each.")  # fmt: skip
def write_agreement_csv(review, out, *, progress, options):
    write_csv_rows(out, AGREEMENT_HEADER, agreement_rows(review, progress))
    progress(1.0)


# --- excluded studies ----------------------------------------------------------------------

EXCLUDED_HEADER = ["record_id", "study", "authors", "year", "title", "journal", "volume",
                   "issue", "pages", "doi", "exclusion_reason", "settled_by"]  # fmt: skip
SETTLED_BY = {
    StageStatus.EXCLUDED: "Reviewers agreed",
    StageStatus.RESOLVED_EXCLUDE: "Adjudicator resolved a conflict",
}
EXCLUDED_FIELDS = ("record_id", "status", "record__authors", "record__year", "record__title",
                   "record__journal", "record__volume", "record__issue", "record__pages",
                   "record__doi")  # fmt: skip


def _study_label(authors, year):
    """The study as characteristics tables cite it, "Surname year" (as screening labels the
    studies it creates)."""
    surname = (authors[0].split(",")[0].strip() if authors else "") or "Anon"
    return f"{surname} {year or 'n.d.'}"


def _exclusion_reasons(review, ids):
    """{record id: "reason; reason"}: the reviewers' (agreed) reason, or the resolution's."""
    agreed = defaultdict(set)
    rows = Decision.objects.filter(
        review=review, stage=Stage.FT, value=DecisionValue.EXCLUDE, record_id__in=ids
    ).values_list("record_id", "reason__text")
    for record_id, reason in rows.order_by():
        if reason:
            agreed[record_id].add(reason)
    resolved = dict(
        Resolution.objects.filter(review=review, stage=Stage.FT, record_id__in=ids)
        .order_by()
        .values_list("record_id", "reason__text")
    )
    return agreed, resolved


def excluded_rows(review, progress):
    excluded = RecordStage.objects.filter(
        review=review, stage=Stage.FT, status__in=EXCLUDE_STATUSES,
        record__duplicate_of__isnull=True,
    )  # fmt: skip
    total = excluded.count()
    # Alphabetical by first author, as a characteristics table is read.
    first_author = KeyTextTransform("0", "record__authors")
    year = F("record__year").asc(nulls_last=True)
    rows = (
        excluded.order_by(first_author, year, "record__title", "record_id")
        .values_list(*EXCLUDED_FIELDS)
        .iterator(chunk_size=CHUNK)
    )
    done = 0
    for chunk in _chunks(rows, CHUNK):
        agreed, resolved = _exclusion_reasons(review, [row[0] for row in chunk])
        for record_id, status, authors, year, title, journal, volume, issue, pages, doi in chunk:
            if status == StageStatus.RESOLVED_EXCLUDE:
                reason = resolved.get(record_id) or ""
            else:
                reason = "; ".join(sorted(agreed.get(record_id, ())))
            yield [record_id, _study_label(authors, year), "; ".join(authors or []), year, title,
                   journal, volume, issue, pages, doi, reason, SETTLED_BY[status]]  # fmt: skip
        done += len(chunk)
        progress(done / max(total, 1), f"{done:,} of {total:,} excluded reports")


@register("excluded-csv", label="Excluded at full text (CSV)", extension="csv",
          content_type="text/csv", group="Screening",
          description="Characteristics of excluded studies: every report excluded at full "
                      "text, with its citation and the reason.")  # fmt: skip
def write_excluded_csv(review, out, *, progress, options):
    write_csv_rows(out, EXCLUDED_HEADER, excluded_rows(review, progress))
    progress(1.0)
