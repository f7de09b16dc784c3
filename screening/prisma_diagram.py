"""PRISMA 2020 flow diagram: a pure renderer from counts to an accessible SVG, plus the same
numbers as table rows.

The layout and wording follow the PRISMA 2020 template "for new systematic reviews which
included searches of databases, registers and other sources" (Page et al. 2021; the box texts
are those of the PRISMA2020 R package's CSV template, ../shared/data/prisma2020/PRISMA.csv):
the left column takes records from databases and registers through Identification, Screening
and Included; the right column ("other methods": websites, organisations, citation searching,
experts...) goes straight to reports sought for retrieval and joins the included studies box.
The right column is drawn only when there are other sources.

The SVG is self-contained and CSP-friendly: no scripts, no <style> element, no external or
internal url() references; presentation is in attributes only. Text is real <text> (one
element per statement, one <tspan> per wrapped line), every user-given string is escaped, and
the root carries role="img" with a <title> and a one-sentence <desc> of the whole flow.

    svg = render_svg(counts, id_prefix="prisma-12")  # inline in a page (width="100%")
    svg = render_svg(counts, responsive=False)       # a file to download or convert
    rows = render_table_rows(counts)                 # [(phase, label, n), ...]

Sizing: with responsive=True the root has width="100%" and a viewBox, so it scales to its
container; cap it with the app's stylesheet (the root has class="prisma-diagram"), since an
inline style attribute would be blocked by the strict CSP.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

__all__ = ["PrismaCounts", "describe", "render_svg", "render_table_rows"]


@dataclass
class PrismaCounts:
    # Identification (databases and registers): records identified per source name
    databases: dict[str, int]
    # Identification (other methods: experts, citation searching, websites...)
    other_sources: dict[str, int]
    duplicates_removed: int
    automation_removed: int = 0  # "Records marked as ineligible by automation tools"
    other_removed: int = 0  # "Records removed for other reasons"
    # Screening (databases and registers path)
    screened: int = 0
    screening_excluded: int = 0
    sought: int = 0  # reports sought for retrieval
    not_retrieved: int = 0
    assessed: int = 0
    excluded_reasons: dict[str, int] = field(default_factory=dict)  # per reason, in order
    # Other methods path
    other_sought: int = 0
    other_not_retrieved: int = 0
    other_assessed: int = 0
    other_excluded_reasons: dict[str, int] = field(default_factory=dict)
    # Included
    studies_included: int = 0
    reports_included: int = 0
    notes: list[str] = field(default_factory=list)  # shown under the diagram

    @property
    def databases_total(self) -> int:
        return sum(self.databases.values())

    @property
    def other_total(self) -> int:
        return sum(self.other_sources.values())

    @property
    def excluded_total(self) -> int:
        return sum(self.excluded_reasons.values())

    @property
    def other_excluded_total(self) -> int:
        return sum(self.other_excluded_reasons.values())

    @property
    def has_other_methods(self) -> bool:
        """Whether the diagram has the right-hand column (identification via other methods)."""
        return bool(self.other_sources) or self.other_sought > 0


# --- wording (PRISMA 2020) --------------------------------------------------------------

PHASE_IDENTIFICATION = "Identification"
PHASE_SCREENING = "Screening"
PHASE_INCLUDED = "Included"

HEADER_DATABASES = "Identification of studies via databases and registers"
HEADER_OTHER = "Identification of studies via other methods"
IDENTIFIED_FROM = "Records identified from:"
DATABASES = "Databases"
REMOVED_BEFORE = "Records removed before screening:"
DUPLICATES = "Duplicate records removed"
AUTOMATION = "Records marked as ineligible by automation tools"
REMOVED_OTHER = "Records removed for other reasons"
SCREENED = "Records screened"
RECORDS_EXCLUDED = "Records excluded"
SOUGHT = "Reports sought for retrieval"
NOT_RETRIEVED = "Reports not retrieved"
ASSESSED = "Reports assessed for eligibility"
REPORTS_EXCLUDED = "Reports excluded"
STUDIES_INCLUDED = "Studies included in review"
REPORTS_INCLUDED = "Reports of included studies"
OTHER_METHODS = "Other methods"
OTHER_SUFFIX = " (other methods)"  # table labels of the right-hand column's reports


def _n(value: int) -> str:
    return f"{int(value):,}"


def _count(value: int) -> str:
    return f"(n = {_n(value)})"


# --- table ------------------------------------------------------------------------------


def render_table_rows(counts: PrismaCounts) -> list[tuple[str, str, int]]:
    """(phase, label, n) for every number in the diagram, in the diagram's order (left column
    then right column within each phase). Labels use the diagram's wording; list items read
    "Heading: item" ("Records identified from: PsycINFO", "Reports excluded: Not in English"),
    and the right column's report rows end in " (other methods)"."""
    rows: list[tuple[str, str, int]] = []
    ident, screen = PHASE_IDENTIFICATION, PHASE_SCREENING
    rows.append((ident, f"Records identified from: {DATABASES}", counts.databases_total))
    for name, n in counts.databases.items():
        rows.append((ident, f"Records identified from: {_clean(name)}", int(n)))
    rows += [
        (ident, DUPLICATES, int(counts.duplicates_removed)),
        (ident, AUTOMATION, int(counts.automation_removed)),
        (ident, REMOVED_OTHER, int(counts.other_removed)),
    ]
    if counts.has_other_methods:
        if counts.other_sources:
            for name, n in counts.other_sources.items():
                rows.append((ident, f"Records identified from: {_clean(name)}", int(n)))
        else:
            rows.append((ident, f"Records identified from: {OTHER_METHODS}", 0))
    rows += [
        (screen, SCREENED, int(counts.screened)),
        (screen, RECORDS_EXCLUDED, int(counts.screening_excluded)),
        (screen, SOUGHT, int(counts.sought)),
        (screen, NOT_RETRIEVED, int(counts.not_retrieved)),
        (screen, ASSESSED, int(counts.assessed)),
    ]
    rows += _excluded_rows(counts.excluded_reasons, "")
    if counts.has_other_methods:
        rows += [
            (screen, SOUGHT + OTHER_SUFFIX, int(counts.other_sought)),
            (screen, NOT_RETRIEVED + OTHER_SUFFIX, int(counts.other_not_retrieved)),
            (screen, ASSESSED + OTHER_SUFFIX, int(counts.other_assessed)),
        ]
        rows += _excluded_rows(counts.other_excluded_reasons, OTHER_SUFFIX)
    rows += [
        (PHASE_INCLUDED, STUDIES_INCLUDED, int(counts.studies_included)),
        (PHASE_INCLUDED, REPORTS_INCLUDED, int(counts.reports_included)),
    ]
    return rows


def _excluded_rows(reasons: dict[str, int], suffix: str) -> list[tuple[str, str, int]]:
    if not reasons:
        return [(PHASE_SCREENING, REPORTS_EXCLUDED + suffix, 0)]
    return [
        (PHASE_SCREENING, f"{REPORTS_EXCLUDED}{suffix}: {_clean(reason)}", int(n))
        for reason, n in reasons.items()
    ]


# --- description ------------------------------------------------------------------------


def _plural(n: int, one: str, many: str) -> str:
    return f"{_n(n)} {one if int(n) == 1 else many}"


def describe(counts: PrismaCounts) -> str:
    """One sentence summarising the flow with its key numbers (the SVG's <desc>)."""
    c = counts
    sources = _plural(len(c.databases), "database or register", "databases and registers")
    parts = [f"{_plural(c.databases_total, 'record', 'records')} identified from {sources}"]
    if c.has_other_methods:
        parts[0] += f" and {_n(c.other_total)} via other methods"
    removed = f"{_n(c.duplicates_removed)} duplicates removed"
    if c.automation_removed:
        removed += f", {_n(c.automation_removed)} marked ineligible by automation tools"
    if c.other_removed:
        removed += f", {_n(c.other_removed)} removed for other reasons"
    parts.append(removed)
    parts.append(
        f"{_plural(c.screened, 'record', 'records')} screened and "
        f"{_n(c.screening_excluded)} excluded"
    )
    parts.append(
        f"{_plural(c.sought, 'report', 'reports')} sought for retrieval and "
        f"{_n(c.not_retrieved)} not retrieved"
    )
    parts.append(
        f"{_plural(c.assessed, 'report', 'reports')} assessed for eligibility and "
        f"{_n(c.excluded_total)} excluded"
    )
    if c.has_other_methods:
        parts.append(
            f"via other methods {_plural(c.other_sought, 'report', 'reports')} sought, "
            f"{_n(c.other_not_retrieved)} not retrieved, {_n(c.other_assessed)} assessed and "
            f"{_n(c.other_excluded_total)} excluded"
        )
    parts.append(
        f"{_plural(c.studies_included, 'study', 'studies')} included in the review "
        f"({_plural(c.reports_included, 'report', 'reports')} of included studies)"
    )
    return "PRISMA 2020 flow: " + "; ".join(parts) + "."


# --- text measurement and wrapping --------------------------------------------------------

# Advance widths of Arial/Helvetica/Liberation Sans, in 1/1000 em.
_WIDTHS: dict[str, int] = {" ": 278, "!": 278, '"': 355, "#": 556, "$": 556, "%": 889}
_WIDTHS.update({"&": 667, "'": 191, "(": 333, ")": 333, "*": 389, "+": 584, ",": 278})
_WIDTHS.update({"-": 333, ".": 278, "/": 278, ":": 278, ";": 278, "<": 584, "=": 584})
_WIDTHS.update({">": 584, "?": 556, "@": 1015, "[": 278, "\\": 278, "]": 278, "^": 469})
_WIDTHS.update({"_": 556, "`": 333, "{": 334, "|": 260, "}": 334, "~": 584})
_WIDTHS.update(dict.fromkeys("0123456789", 556))
_WIDTHS.update(zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", (
    667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833,
    722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611,
), strict=True))  # fmt: skip
_WIDTHS.update(zip("abcdefghijklmnopqrstuvwxyz", (
    556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833,
    556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500,
), strict=True))  # fmt: skip
_BOLD = 1.1  # bold Arial is up to ~10% wider
_SAFETY = 1.06  # room for fallback fonts and rendering differences


def _char_width(ch: str) -> int:
    width = _WIDTHS.get(ch)
    if width is not None:
        return width
    if unicodedata.combining(ch):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 1000
    return 600


def _text_width(text: str, size: float, bold: bool = False) -> float:
    em = sum(_char_width(ch) for ch in text) / 1000
    return em * size * _SAFETY * (_BOLD if bold else 1.0)


# Characters XML 1.0 forbids (they would make the document ill-formed) and other controls.
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _clean(text: object) -> str:
    """User text as one line: invalid XML characters dropped, whitespace collapsed."""
    return " ".join(_INVALID_XML.sub("", str(text)).split())


@dataclass(frozen=True)
class _Para:
    """A statement: words, the last of which may be an unbreakable "(n = 1,234)"."""

    words: tuple[str, ...]
    indent: float = 0.0
    bold: bool = False


def _para(text: str, n: int | None = None, *, indent: float = 0.0, bold=False) -> _Para:
    words = tuple(_clean(text).split())
    if n is not None:
        words += (_count(n),)
    return _Para(words or ("",), indent, bold)


def _wrap(para: _Para, width: float, size: float, hanging: float) -> list[tuple[str, str]]:
    """Lines of (separator before, text): separator " " at a word break, "" inside a word
    that had to be split because it is wider than the line."""
    lines: list[tuple[str, str]] = []
    current, sep = "", ""

    def room() -> float:
        return width - para.indent - (hanging if lines else 0.0)

    for word in para.words:
        candidate = f"{current} {word}" if current else word
        if _text_width(candidate, size, para.bold) <= room():
            current = candidate
            continue
        if current:
            lines.append((sep, current))
            current, sep = "", " "
        if _text_width(word, size, para.bold) <= room():
            current = word
            continue
        for ch in word:  # a word wider than the box: split it
            if current and _text_width(current + ch, size, para.bold) > room():
                lines.append((sep, current))
                current, sep = "", ""
            current += ch
    lines.append((sep, current))
    return lines


# --- layout -----------------------------------------------------------------------------

FONT = "Arial, Helvetica, sans-serif"
SIZE = 13.0  # box text
LINE = 17.0  # line height
HEADER_SIZE = 14.0
PHASE_SIZE = 14.0
NOTE_SIZE = 12.0
NOTE_LINE = 16.0
PAD_X = 10.0
PAD_Y = 9.0
ITEM_INDENT = 10.0  # list items under a "...:" heading
SUB_INDENT = 22.0  # single databases under "Databases (n = ...)"
HANGING = 10.0  # continuation lines of a wrapped statement
BOX_W = 250.0  # main column boxes
SIDE_W = 280.0  # boxes to the right of them (removed, excluded, not retrieved)
MARGIN = 16.0
BAND_W = 34.0
BAND_GAP = 14.0
COL_GAP = 50.0  # main box -> side box
SECTION_GAP = 44.0  # databases section | other methods section
ROW_GAP = 36.0
BAND_INSET = 4.0
ARROW_HEAD = 9.0
ARROW_HALF = 4.5

BLACK = "#000000"
WHITE = "#ffffff"
BOX_FILL = "#ffffff"
DB_HEADER_FILL = "#ffd966"  # yellow, as the template's databases title
OTHER_HEADER_FILL = "#d9d9d9"  # grey, as the template's other methods title
BAND_FILL = "#bdd7ee"  # light blue, as the template's phase bars
TEXT = "#000000"


@dataclass
class _Box:
    key: str
    paras: list[_Para]
    width: float
    align: str = "start"  # or "middle"
    fill: str = BOX_FILL
    size: float = SIZE
    bold: bool = False
    x: float = 0.0
    y: float = 0.0
    lines: list[list[tuple[str, str]]] = field(default_factory=list)

    def __post_init__(self):
        inner = self.width - 2 * PAD_X
        self.lines = [_wrap(p, inner, self.size, HANGING) for p in self.paras]

    @property
    def height(self) -> float:
        return 2 * PAD_Y + LINE * sum(len(lines) for lines in self.lines)

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def cx(self) -> float:
        return self.x + self.width / 2

    @property
    def cy(self) -> float:
        return self.y + self.height / 2


def _list_box(key: str, heading: str, items: list[_Para], width: float = SIDE_W) -> _Box:
    return _Box(key, [_para(heading), *items], width)


def _reasons(reasons: dict[str, int]) -> list[_Para]:
    return [_para(reason, n, indent=ITEM_INDENT) for reason, n in reasons.items()]


def _excluded_box(key: str, reasons: dict[str, int]) -> _Box:
    if not reasons:
        return _Box(key, [_para(REPORTS_EXCLUDED, 0)], SIDE_W, "middle")
    return _list_box(key, f"{REPORTS_EXCLUDED}:", _reasons(reasons))


def _single(key: str, label: str, n: int, width: float = BOX_W) -> _Box:
    return _Box(key, [_para(label, n)], width, "middle")


def _boxes(c: PrismaCounts) -> list[tuple[int, int, _Box]]:
    """(row, column, box) in reading order, the order of render_table_rows: per phase, the
    databases column then the other methods column. Rows: 0 titles, 1 identification, 2 screening,
    3 retrieval, 4 eligibility, 5 included. Columns: 0/1 databases main/side, 2/3 other."""
    databases = [_para(DATABASES, c.databases_total, indent=ITEM_INDENT)]
    databases += [_para(name, n, indent=SUB_INDENT) for name, n in c.databases.items()]
    other = c.has_other_methods
    wide = BOX_W + COL_GAP + SIDE_W
    out = [
        (0, 0, _Box("header-databases", [_para(HEADER_DATABASES)], wide, "middle",
                    DB_HEADER_FILL, HEADER_SIZE, True)),
    ]  # fmt: skip
    if other:
        out.append((0, 2, _Box("header-other", [_para(HEADER_OTHER)], wide, "middle",
                               OTHER_HEADER_FILL, HEADER_SIZE, True)))  # fmt: skip
    out += [
        (1, 0, _list_box("identified", IDENTIFIED_FROM, databases, BOX_W)),
        (1, 1, _list_box("removed", REMOVED_BEFORE, [
            _para(DUPLICATES, c.duplicates_removed, indent=ITEM_INDENT),
            _para(AUTOMATION, c.automation_removed, indent=ITEM_INDENT),
            _para(REMOVED_OTHER, c.other_removed, indent=ITEM_INDENT),
        ])),
    ]  # fmt: skip
    if other:
        sources = [_para(name, n, indent=ITEM_INDENT) for name, n in c.other_sources.items()]
        sources = sources or [_para(OTHER_METHODS, 0, indent=ITEM_INDENT)]
        out.append((1, 2, _list_box("other-identified", IDENTIFIED_FROM, sources, BOX_W)))
    out += [
        (2, 0, _single("screened", SCREENED, c.screened)),
        (2, 1, _single("records-excluded", RECORDS_EXCLUDED, c.screening_excluded, SIDE_W)),
        (3, 0, _single("sought", SOUGHT, c.sought)),
        (3, 1, _single("not-retrieved", NOT_RETRIEVED, c.not_retrieved, SIDE_W)),
        (4, 0, _single("assessed", ASSESSED, c.assessed)),
        (4, 1, _excluded_box("reports-excluded", c.excluded_reasons)),
    ]
    if other:
        out += [
            (3, 2, _single("other-sought", SOUGHT, c.other_sought)),
            (3, 3, _single("other-not-retrieved", NOT_RETRIEVED, c.other_not_retrieved, SIDE_W)),
            (4, 2, _single("other-assessed", ASSESSED, c.other_assessed)),
            (4, 3, _excluded_box("other-reports-excluded", c.other_excluded_reasons)),
        ]
    out.append((5, 0, _Box("included", [
        _para(STUDIES_INCLUDED, c.studies_included),
        _para(REPORTS_INCLUDED, c.reports_included),
    ], BOX_W, "middle")))  # fmt: skip
    return out


_PHASES = ((PHASE_IDENTIFICATION, 1, 1), (PHASE_SCREENING, 2, 4), (PHASE_INCLUDED, 5, 5))


@dataclass
class _Layout:
    boxes: list[_Box]
    by_key: dict[str, _Box]
    bands: list[tuple[str, float, float, float]]  # label, x, top, bottom
    notes: list[tuple[float, list[tuple[str, str]]]]  # first baseline, lines
    width: float
    height: float
    title_y: float | None


def _layout(counts: PrismaCounts, show_title: bool) -> _Layout:
    placed = _boxes(counts)
    other = counts.has_other_methods
    col_x = [MARGIN + BAND_W + BAND_GAP]
    col_x.append(col_x[0] + BOX_W + COL_GAP)
    col_x.append(col_x[1] + SIDE_W + SECTION_GAP)
    col_x.append(col_x[2] + BOX_W + COL_GAP)
    width = (col_x[3] if other else col_x[1]) + SIDE_W + MARGIN

    heights = [0.0] * 6
    for row, _col, box in placed:
        heights[row] = max(heights[row], box.height)
    # A phase's band must be long enough for its rotated label.
    for label, first, last in _PHASES:
        span = sum(heights[first : last + 1]) + (last - first + 1) * ROW_GAP - 2 * BAND_INSET
        need = _text_width(label, PHASE_SIZE, True) + 2 * PAD_Y
        if need > span:
            heights[last] += need - span

    y = MARGIN
    title_y = None
    if show_title:
        title_y = y + HEADER_SIZE + 2
        y += HEADER_SIZE + 16
    tops = []
    for h in heights:
        tops.append(y)
        y += h + ROW_GAP
    for row, col, box in placed:
        box.x = col_x[col]
        box.y = tops[row] + (heights[row] - box.height) / 2
    bands = [
        (
            label,
            MARGIN,
            tops[first] - ROW_GAP / 2 + BAND_INSET,
            tops[last] + heights[last] + ROW_GAP / 2 - BAND_INSET,
        )
        for label, first, last in _PHASES
    ]
    bottom = bands[-1][3]
    y = bottom + 10
    notes = []
    for note in counts.notes:
        lines = _wrap(_para(note), width - 2 * MARGIN, NOTE_SIZE, 0.0)
        notes.append((y + NOTE_SIZE, lines))
        y += NOTE_LINE * len(lines) + 4
    boxes = [box for _row, _col, box in placed]
    return _Layout(
        boxes=boxes,
        by_key={box.key: box for box in boxes},
        bands=bands,
        notes=notes,
        width=width,
        height=(y - 4 if notes else bottom) + MARGIN,
        title_y=title_y,
    )


# --- SVG --------------------------------------------------------------------------------


def _f(value: float) -> str:
    """A coordinate, deterministic and short."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _attrs(**attrs: object) -> str:
    out = []
    for name, value in attrs.items():
        if value is None:
            continue
        if isinstance(value, float | int) and not isinstance(value, bool):
            value = _f(value)
        out.append(f" {name.rstrip('_').replace('_', '-')}={quoteattr(str(value))}")
    return "".join(out)


def _text_element(lines, x: float, y: float, *, anchor: str, size: float, bold: bool,
                  hanging: float = 0.0, line: float = LINE, extra: str = "") -> str:  # fmt: skip
    weight = "bold" if bold else None
    head = f"<text{_attrs(x=x, y=y, font_size=size, font_weight=weight, text_anchor=anchor)}"
    head += extra + ">"
    if len(lines) == 1:
        return f"{head}{escape(lines[0][1])}</text>"
    spans = []
    for i, (sep, text) in enumerate(lines):
        indent = hanging if i and anchor == "start" else 0.0
        spans.append(f"{sep if i else ''}<tspan{_attrs(x=x + indent, y=y + i * line)}>"
                     f"{escape(text)}</tspan>")  # fmt: skip
    return head + "".join(spans) + "</text>"


def _box_svg(box: _Box, id_prefix: str) -> list[str]:
    stroke_width = 1.5 if box.fill == BOX_FILL else 1
    rx = 6 if box.fill != BOX_FILL else None
    out = [
        f"<rect{_attrs(x=box.x, y=box.y, width=box.width, height=box.height, rx=rx)}"
        f"{_attrs(fill=box.fill, stroke=BLACK, stroke_width=stroke_width)}"
        f' id="{id_prefix}-{box.key}"/>'
    ]
    baseline = box.y + PAD_Y + LINE - 4
    for para, lines in zip(box.paras, box.lines, strict=True):
        x = box.cx if box.align == "middle" else box.x + PAD_X + para.indent
        out.append(
            _text_element(
                lines,
                x,
                baseline,
                anchor=box.align,
                size=box.size,
                bold=box.bold or para.bold,
                hanging=HANGING,
            )  # fmt: skip
        )
        baseline += LINE * len(lines)
    return out


def _arrow(points: list[tuple[float, float]]) -> list[str]:
    """A line through points with an arrowhead at the last one (drawn, not a marker, so the
    SVG needs no url() reference)."""
    (x1, y1), (x2, y2) = points[-2], points[-1]
    length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
    ux, uy = (x2 - x1) / length, (y2 - y1) / length
    bx, by = x2 - ux * ARROW_HEAD, y2 - uy * ARROW_HEAD
    line = [*points[:-1], (bx, by)]
    head = [(x2, y2), (bx - uy * ARROW_HALF, by + ux * ARROW_HALF),
            (bx + uy * ARROW_HALF, by - ux * ARROW_HALF)]  # fmt: skip
    pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in line)
    head_pts = " ".join(f"{_f(x)},{_f(y)}" for x, y in head)
    return [
        f'<polyline points="{pts}" fill="none" stroke="{BLACK}" stroke-width="1.5"/>',
        f'<polygon points="{head_pts}" fill="{BLACK}" stroke="none"/>',
    ]


def _arrows(lay: _Layout, other: bool) -> list[str]:
    b = lay.by_key
    out: list[str] = []

    def down(a: str, z: str):
        out.extend(_arrow([(b[a].cx, b[a].bottom), (b[a].cx, b[z].y)]))

    def right(a: str, z: str):
        y = b[a].cy
        out.extend(_arrow([(b[a].right, y), (b[z].x, y)]))

    right("identified", "removed")
    down("identified", "screened")
    right("screened", "records-excluded")
    down("screened", "sought")
    right("sought", "not-retrieved")
    down("sought", "assessed")
    right("assessed", "reports-excluded")
    down("assessed", "included")
    if other:
        down("other-identified", "other-sought")
        right("other-sought", "other-not-retrieved")
        down("other-sought", "other-assessed")
        right("other-assessed", "other-reports-excluded")
        start, inc = b["other-assessed"], b["included"]
        out.extend(_arrow([(start.cx, start.bottom), (start.cx, inc.cy), (inc.right, inc.cy)]))
    return out


_ID_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*\Z")


def render_svg(
    counts: PrismaCounts,
    *,
    title: str = "PRISMA 2020 flow diagram",
    id_prefix: str = "prisma",
    responsive: bool = True,
    show_title: bool = False,
) -> str:
    """A standalone SVG 1.1 document of the PRISMA 2020 flow diagram. It has no XML
    declaration (UTF-8 is the default), so the same string can be written to a .svg file or
    placed inline in an HTML page.

    id_prefix makes the ids unique when several diagrams share a page ("{prefix}-title",
    "{prefix}-desc"). responsive=True sets width="100%" (scales with its container, height
    from the viewBox); False sets the pixel width and height (files, PNG/PDF conversion).
    show_title also draws the title as visible text above the diagram (for exports)."""
    if not _ID_PREFIX.match(id_prefix):
        raise ValueError(f"id_prefix must be an XML name, got {id_prefix!r}")
    title = _clean(title) or "PRISMA 2020 flow diagram"
    lay = _layout(counts, show_title)
    w, h = lay.width, lay.height
    size = {"width": "100%"} if responsive else {"width": w, "height": h}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1"'
        f"{_attrs(**size, viewBox=f'0 0 {_f(w)} {_f(h)}')}"
        f' preserveAspectRatio="xMidYMin meet" role="img"'
        f' aria-labelledby="{id_prefix}-title {id_prefix}-desc" class="prisma-diagram"'
        f"{_attrs(font_family=FONT, font_size=SIZE, fill=TEXT)}>",
        f'<title id="{id_prefix}-title">{escape(title)}</title>',
        f'<desc id="{id_prefix}-desc">{escape(describe(counts))}</desc>',
        f"<rect{_attrs(x=0, y=0, width=w, height=h, fill=WHITE)}/>",
    ]
    if lay.title_y is not None:
        out.append(
            _text_element(
                [("", title)], w / 2, lay.title_y, anchor="middle", size=HEADER_SIZE + 2, bold=True
            )  # fmt: skip
        )
    for label, x, top, bottom in lay.bands:
        cx, cy = x + BAND_W / 2, (top + bottom) / 2
        out.append(
            f"<rect{_attrs(x=x, y=top, width=BAND_W, height=bottom - top, rx=6)}"
            f"{_attrs(fill=BAND_FILL, stroke=BLACK, stroke_width=1)}"
            f' id="{id_prefix}-phase-{label.lower()}"/>'
        )
        rotate = f' transform="rotate(-90 {_f(cx)} {_f(cy)})"'
        out.append(
            _text_element(
                [("", label)],
                cx,
                cy + PHASE_SIZE * 0.35,
                anchor="middle",
                size=PHASE_SIZE,
                bold=True,
                extra=rotate,
            )  # fmt: skip
        )
    for box in lay.boxes:
        out.extend(_box_svg(box, id_prefix))
    out.extend(_arrows(lay, counts.has_other_methods))
    for baseline, lines in lay.notes:
        out.append(
            _text_element(
                lines, MARGIN, baseline, anchor="start", size=NOTE_SIZE, bold=False, line=NOTE_LINE
            )  # fmt: skip
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"
