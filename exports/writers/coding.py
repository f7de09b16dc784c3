"""Coding exports: the coded excerpts as a Word report ("excerpts-docx") and as a quote table
("excerpts-csv", "excerpts-xlsx"), and the themes × studies matrix ("matrix-xlsx").

Exports are the lead's, so they hold every coder's excerpts, whether or not comparison is
open, and name each coder (their name, else their email address).

The excerpts come code by code in codebook order (coding.codebook.tree), and under each code
by study, document and position; an excerpt carrying several codes appears under each. No
query loads a DocumentVersion's text: the quote is the excerpt's own copy. The tables are
streamed row by row; python-docx can only build the Word report whole in memory, so only its
queries are streamed.

The matrix counts as the matrix page does (coding.views.synthesis.coding_matrix): columns are
the studies with a document, and a cell is the number of distinct excerpts of that study
carrying the row's code or any code beneath it, so an excerpt carrying a theme's code and its
sub-code counts once. It is counted again here rather than imported from the view (exports do
not depend on views); the tests hold the two to the same figures. `options["codes"]` (or
`options["level"] == "codes"`, as on the page) adds every code and sub-code as rows under
its theme.
"""

import csv
import io
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby

import docx
from django.db.models import Count
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from coding.citations import citations_for
from coding.codebook import flatten, tree
from coding.models import Document, Excerpt, ExcerptCode, Memo
from screening.models import Study

from ..cells import safe_cell, safe_row
from ..registry import register

GROUP = "Coding"
AUTHOR = "reviewapp"  # never a person's name: the file leaves the review with whoever has it
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PATH_SEPARATOR = " > "
# XML 1.0 forbids these characters, which text extracted from a PDF can hold (a form feed
# between pages); Word and Excel refuse a file with them.
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Excel refuses to open a cell longer than this.
XLSX_CELL_MAX = 32_767
CHUNK = 500
EXCERPT_COLUMNS = (
    "theme", "code path", "study", "citation", "document", "version", "coder", "start",
    "end", "quote", "memo", "created",
)  # fmt: skip
# A code's excerpts: by study, document and position.
EXCERPT_ORDER = (
    "excerpt__document__study__label", "excerpt__document__study_id", "excerpt__document__title",
    "excerpt__document_id", "excerpt__start", "excerpt__end", "excerpt_id",
)  # fmt: skip
EXCERPT_VALUES = (
    "excerpt__document__study_id", "excerpt__document__study__label", "excerpt__document__title",
    "excerpt__version__number", "excerpt__coder__name", "excerpt__coder__email",
    "excerpt__start", "excerpt__end", "excerpt__text", "excerpt__memo", "excerpt__created_at",
)  # fmt: skip
# Excel column widths for the quote table, in characters.
EXCERPT_WIDTHS = (30, 40, 18, 40, 30, 8, 20, 8, 8, 80, 40, 20)


@dataclass
class ExcerptRow:
    theme: str
    code_path: str
    study: str
    citation: str
    document: str
    version: int
    coder: str
    start: int
    end: int
    quote: str
    memo: str
    created: datetime  # local time


class Codebook:
    """The review's codes in codebook order, with each one's path from its theme."""

    def __init__(self, review):
        self.roots = tree(review, counts=False)
        self.nodes = list(flatten(self.roots))
        by_id = {node.code.pk: node.code for node in self.nodes}
        self.paths = {}
        for code in by_id.values():
            names, current = [], code
            while current is not None:
                names.insert(0, current.name)
                current = by_id.get(current.parent_id)
            self.paths[code.pk] = names

    def path(self, code):
        return PATH_SEPARATOR.join(self.paths[code.pk])


def _person(user_name, email):
    return user_name or email or "a former member"


def _local(moment):
    # To the second: Excel keeps no time zone, and a table needs no microseconds.
    return timezone.localtime(moment).replace(tzinfo=None, microsecond=0)


def excerpt_rows(review, codebook, progress=None):
    """ExcerptRow for every excerpt under every code it carries, code by code in codebook
    order; one query per code, each streamed."""
    study_ids = Document.objects.filter(review=review).values_list("study_id", flat=True)
    citations = citations_for(study_ids)
    total = ExcerptCode.objects.filter(excerpt__review=review, code__review=review).count()
    done = 0
    for node in codebook.nodes:
        rows = (
            ExcerptCode.objects.filter(code=node.code, excerpt__review=review)
            .order_by(*EXCERPT_ORDER)
            .values_list(*EXCERPT_VALUES)
        )
        path = codebook.path(node.code)
        theme = codebook.paths[node.code.pk][0]
        for values in rows.iterator(chunk_size=CHUNK):
            study_id, label, title, version, name, email, start, end, text, memo, created = values
            yield node, ExcerptRow(
                theme=theme, code_path=path, study=label,
                citation=citations.get(study_id, ""), document=title, version=version,
                coder=_person(name, email), start=start, end=end, quote=text, memo=memo,
                created=_local(created),
            )  # fmt: skip
            done += 1
            if progress is not None and done % CHUNK == 0:
                progress(done / total, f"{done} of {total} coded excerpts written")


def _table_values(row):
    return [row.theme, row.code_path, row.study, row.citation, row.document, row.version,
            row.coder, row.start, row.end, row.quote, row.memo, row.created]  # fmt: skip


# --- the quote table ------------------------------------------------------------------------


@register("excerpts-csv", label="Coded excerpts (CSV)", extension="csv",
          content_type="text/csv", group=GROUP,
          description="One row per excerpt per code: theme, code, study, document, coder, "
                      "span (in characters) and the quote, in codebook order.")  # fmt: skip
def write_excerpts_csv(review, out, *, progress, options):
    # utf-8-sig: Excel reads a CSV without a byte order mark as the local code page.
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(EXCERPT_COLUMNS)
    for _, row in excerpt_rows(review, Codebook(review), progress):
        values = _table_values(row)
        values[-1] = row.created.isoformat(sep=" ", timespec="seconds")
        writer.writerow(safe_row(values))
    text.flush()
    text.detach()
    progress(1.0)


def _xlsx_text(value):
    """A cell Excel opens: no character XML forbids, within Excel's length limit, never a
    formula."""
    if not isinstance(value, str):
        return value
    value = XML_INVALID.sub("", value)
    if len(value) > XLSX_CELL_MAX:
        note = f" [… cut: {len(value):,} characters in all]"
        value = value[: XLSX_CELL_MAX - len(note)] + note
    return safe_cell(value)


def _workbook():
    workbook = Workbook(write_only=True)
    workbook.properties.creator = workbook.properties.lastModifiedBy = AUTHOR
    return workbook


def _header(sheet, names, widths=()):
    """The bold first row, frozen so it stays in view; set before any other row."""
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    cells = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=_xlsx_text(name))
        cell.font = Font(bold=True)
        cells.append(cell)
    sheet.append(cells)


@register("excerpts-xlsx", label="Coded excerpts (Excel)", extension="xlsx",
          content_type=XLSX_TYPE, group=GROUP,
          description="One row per excerpt per code: theme, code, study, document, coder, "
                      "span (in characters) and the quote, in codebook order.")  # fmt: skip
def write_excerpts_xlsx(review, out, *, progress, options):
    workbook = _workbook()
    # Write-only: each row goes to a temporary file as it is appended.
    sheet = workbook.create_sheet("Excerpts")
    _header(sheet, EXCERPT_COLUMNS, EXCERPT_WIDTHS)
    for _, row in excerpt_rows(review, Codebook(review), progress):
        sheet.append([_xlsx_text(value) for value in _table_values(row)])
    progress(0.99, "Saving the workbook")
    workbook.save(out)
    progress(1.0)


# --- the Word report ------------------------------------------------------------------------


def _docx_text(value):
    return XML_INVALID.sub("", str(value))


def _long_day(moment):
    moment = timezone.localtime(moment) if isinstance(moment, datetime) else moment
    return f"{moment.day} {moment:%B %Y}"


def _plural(count, one, many=None):
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def _introduction(review, codebook):
    figures = Excerpt.objects.filter(review=review).aggregate(
        excerpts=Count("id"),
        coders=Count("coder", distinct=True),
        documents=Count("document", distinct=True),
        studies=Count("document__study", distinct=True),
    )
    themes = len(codebook.roots)
    return (
        f"{_plural(figures['excerpts'], 'coded excerpt')} from "
        f"{_plural(figures['documents'], 'document')} of "
        f"{_plural(figures['studies'], 'study', 'studies')}, by "
        f"{_plural(figures['coders'], 'coder')}; the codebook has "
        f"{_plural(themes, 'theme')} and {_plural(len(codebook.nodes) - themes, 'code')} "
        "beneath them. Each theme, code and sub-code is followed by the excerpts that carry "
        "it, by study; an excerpt with several codes appears under each. Spans are counted "
        "in characters (Unicode code points). The code memos follow at the end."
    )


def _add_excerpt(document, row):
    document.add_paragraph(_docx_text(row.quote), style="Quote")
    source = row.citation or row.study
    if row.citation and row.study:
        source = f"{row.study}: {row.citation}"
    document.add_paragraph(
        _docx_text(
            f"{source}\nDocument: {row.document} (version {row.version}, characters "
            f"{row.start}–{row.end}). Coder: {row.coder}."
        )
    )
    if row.memo:
        paragraph = document.add_paragraph()
        paragraph.add_run("Memo: ").bold = True
        paragraph.add_run(_docx_text(row.memo))


def _add_code(document, node, count):
    document.add_heading(_docx_text(node.code.name), level=min(node.depth + 1, 9))
    if node.code.description:
        document.add_paragraph().add_run(_docx_text(node.code.description)).italic = True
    if not count and not node.children:
        document.add_paragraph(f"No excerpt carries this {node.level_name.lower()} yet.")


def _code_memos(review):
    memos = defaultdict(list)
    for memo in (
        Memo.objects.filter(review=review, code__isnull=False)
        .select_related("author")
        .only("code_id", "text", "created_at", "author__name", "author__email")
        .order_by("created_at", "id")
    ):
        memos[memo.code_id].append(memo)
    return memos


@register("excerpts-docx", label="Coded excerpts by theme (Word)", extension="docx",
          content_type=DOCX_TYPE, group=GROUP,
          description="A report of every coded excerpt under its theme, code and sub-code, "
                      "with the study, document and coder, and the code memos.")  # fmt: skip
def write_excerpts_docx(review, out, *, progress, options):
    codebook = Codebook(review)
    now = timezone.now()
    title = _docx_text(f"Coded excerpts: {review.title}")
    document = docx.Document()
    properties = document.core_properties
    properties.author = properties.last_modified_by = AUTHOR
    properties.comments = ""
    properties.title = title
    properties.created = properties.modified = now

    document.add_heading(title, level=0)
    document.add_paragraph(f"Made on {_long_day(now)}. " + _introduction(review, codebook))
    if not codebook.nodes:
        document.add_paragraph("The codebook has no codes yet.")

    # Rows come code by code in codebook order: walk the codebook alongside them, so a code
    # no excerpt carries still gets its heading.
    rows = excerpt_rows(review, codebook, progress)
    pending = next(rows, None)
    for node in codebook.nodes:
        mine = []
        while pending is not None and pending[0] is node:
            mine.append(pending[1])
            pending = next(rows, None)
        _add_code(document, node, len(mine))
        for row in mine:
            _add_excerpt(document, row)

    document.add_heading("Code memos", level=1)
    memos = _code_memos(review)
    if not memos:
        document.add_paragraph("No code has a memo yet.")
    for node in codebook.nodes:
        if not memos.get(node.code.pk):
            continue
        document.add_heading(_docx_text(codebook.path(node.code)), level=2)
        for memo in memos[node.code.pk]:
            document.add_paragraph(_docx_text(memo.text))
            author = _person(memo.author.name, memo.author.email) if memo.author else None
            byline = f"{author or 'A former member'}, {_long_day(memo.created_at)}"
            document.add_paragraph().add_run(_docx_text(byline)).italic = True

    progress(0.99, "Saving the document")
    document.save(out)
    progress(1.0)


# --- themes × studies -----------------------------------------------------------------------


def matrix_studies(review):
    """The matrix's columns: the studies with a document, by label (as on the page)."""
    return list(
        Study.objects.filter(review=review, documents__isnull=False)
        .distinct()
        .only("id", "label")
        .order_by("label", "id")
    )


def matrix_counts(review, codebook, nodes):
    """({(row code id, study id): distinct excerpts carrying the code or one beneath it},
    {study id: distinct coded excerpts}) for the rows `nodes`.

    One streamed query of (excerpt, code, study), by excerpt: each excerpt adds one to each
    row it falls under, however many of that row's codes it carries."""
    wanted = {node.code.pk for node in nodes}
    parent_of = {node.code.pk: node.code.parent_id for node in codebook.nodes}
    rows_of = {}
    for code_id in parent_of:
        rows, current = [], code_id
        while current is not None:
            if current in wanted:
                rows.append(current)
            current = parent_of.get(current)
        rows_of[code_id] = rows
    applied = (
        ExcerptCode.objects.filter(excerpt__review=review)
        .order_by("excerpt_id")
        .values_list("excerpt_id", "excerpt__document__study_id", "code_id")
        .iterator(chunk_size=2000)
    )
    cells, per_study = Counter(), Counter()
    for (_, study_id), links in groupby(applied, key=lambda link: link[:2]):
        rows = set()
        for *_, code_id in links:
            rows.update(rows_of.get(code_id, ()))
        for row in rows:
            cells[row, study_id] += 1
        per_study[study_id] += 1
    return cells, per_study


def _wants_codes(options):
    return bool(options.get("codes")) or options.get("level") == "codes"


def _bold(sheet, value):
    cell = WriteOnlyCell(sheet, value=_xlsx_text(value))
    cell.font = Font(bold=True)
    return cell


@register("matrix-xlsx", label="Themes × studies matrix (Excel)", extension="xlsx",
          content_type=XLSX_TYPE, group=GROUP,
          description="How many distinct excerpts of each study fall under each theme (and, "
                      "if chosen, each code), with totals.")  # fmt: skip
def write_matrix_xlsx(review, out, *, progress, options):
    codebook = Codebook(review)
    with_codes = _wants_codes(options)
    nodes = codebook.nodes if with_codes else codebook.roots
    studies = matrix_studies(review)
    progress(0.1, "Counting excerpts by theme and study")
    cells, per_study = matrix_counts(review, codebook, nodes)
    citations = citations_for([study.pk for study in studies])
    progress(0.8, "Writing the workbook")

    workbook = _workbook()
    sheet = workbook.create_sheet("Themes by study")
    first = "Theme, code or sub-code" if with_codes else "Theme"
    _header(sheet, [first, "Level", *(s.label for s in studies), "Studies", "Excerpts"],
            [50, 10, *([14] * len(studies)), 10, 10])  # fmt: skip
    supported = Counter()
    for node in nodes:
        counts = [cells[node.code.pk, study.pk] for study in studies]
        for study, n in zip(studies, counts, strict=True):
            supported[study.pk] += bool(n)
        name = WriteOnlyCell(sheet, value=_xlsx_text(node.code.name))
        name.alignment = Alignment(indent=node.depth * 2)
        if node.depth == 0:
            name.font = Font(bold=True)
        studies_with = sum(1 for n in counts if n)
        sheet.append([name, node.level_name, *counts, studies_with, sum(counts)])
    sheet.append([])
    rows_label = "Rows with excerpts" if with_codes else "Themes with excerpts"
    sheet.append([_bold(sheet, rows_label), None, *(supported[s.pk] for s in studies)])
    coded = [per_study[study.pk] for study in studies]
    sheet.append([_bold(sheet, "Coded excerpts"), None, *coded, sum(1 for n in coded if n),
                  sum(coded)])  # fmt: skip

    listing = workbook.create_sheet("Studies")
    _header(listing, ["Study", "Citation", "Coded excerpts"], [24, 90, 14])
    for study in studies:
        listing.append([_xlsx_text(study.label), _xlsx_text(citations.get(study.pk, "")),
                        per_study[study.pk]])  # fmt: skip

    about = workbook.create_sheet("About")
    for line in (
        f"Themes × studies: {review.title}",
        f"Made on {_long_day(timezone.now())}, from every coder's excerpts.",
        "Each cell counts the distinct excerpts of that study that carry the row's code or "
        "any code beneath it: an excerpt carrying several of a theme's codes counts once.",
        "Studies: how many studies have at least one such excerpt. Excerpts: the row's "
        "excerpts in all studies.",
        f"{rows_label}: how many rows have at least one excerpt of that study. Coded "
        "excerpts: the study's excerpts, whatever their codes.",
        "Columns are the studies with at least one document to code.",
    ):
        about.append([_xlsx_text(line)])
    workbook.save(out)
    progress(1.0)
