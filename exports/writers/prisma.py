"""The PRISMA 2020 flow diagram as files: SVG, PDF, and the CSV template of the PRISMA2020 R
package and Shiny app (Haddaway et al. 2022), so a lead can redraw it there.

All three start from `prisma_counts(review)`, the same live counts as the PRISMA page. The
SVG is `render_svg` itself; the PDF draws `render_svg`'s layout (the same boxes, wrapped lines
and arrows) with reportlab's canvas in the PDF's standard Helvetica, so the two never drift
apart.

PRISMA CSV ("prisma-csv"): the template's 34 rows and 7 text columns exactly as the package
ships them (`TEMPLATE`, checked against ../shared/data/prisma2020/PRISMA.csv by the tests),
with the `n` column filled:

* counts we have go in as plain integers (no thousands separators);
* `database_specific_results` and `dbr_excluded` / `other_excluded` hold "Name, n; Name, n";
  since the package splits them on ";" and ",", those characters in a name become " / ";
  a review without exclusion reasons writes the plain total, as the package accepts;
* rows we have no figure for get "NA", which `read.csv` reads as missing and
  `PRISMA_flowdiagram()` treats as "not applicable": it leaves the line out, drops the
  previous-studies box when both `previous_*` are NA and the other-methods column when
  `website_results`, `organisation_results` and `citations_results` all are. We write NA
  for previous studies (not an update), registers (our database searches include them),
  the meta-analysis rows, and the other-methods rows when there were none;
* other methods are named freely in reviewapp, the template has three slots: a source whose
  name mentions citations, references or snowballing counts as citation searching, one that
  mentions a website, web, internet or Google as websites, any other (experts,
  organisations, hand searching) as organisations;
* `total_studies` / `total_reports` equal the new ones (no previous version);
* title and phase-label rows keep the template's 0 (the package does not read them).
"""

import csv
import io
import re
import unicodedata

from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from screening import prisma_diagram as diagram
from screening.prisma import prisma_counts

from ..cells import safe_row
from ..registry import register

XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
AUTHOR = "reviewapp"  # never a person's name: the file leaves the review with whoever has it


def diagram_title(review):
    return f"PRISMA 2020 flow diagram: {review.title}"


def _counts(review, progress):
    progress(0.05, "Counting records at each stage")
    counts = prisma_counts(review)
    progress(0.5, "Drawing the diagram")
    return counts


# --- SVG --------------------------------------------------------------------------------


@register("prisma-svg", label="PRISMA 2020 flow diagram (SVG)", extension="svg",
          content_type="image/svg+xml", group="PRISMA",
          description="The flow diagram as a standalone vector image, for the report or "
                      "for editing in Inkscape or Illustrator.")  # fmt: skip
def write_svg(review, out, *, progress, options):
    counts = _counts(review, progress)
    svg = diagram.render_svg(counts, title=diagram_title(review), responsive=False, show_title=True)
    out.write(XML_DECLARATION)
    out.write(svg.encode("utf-8"))
    progress(1.0)


# --- PDF --------------------------------------------------------------------------------

PAGE = landscape(A4)
PAGE_MARGIN = 28.0  # points
FONT = "Helvetica"
FONT_BOLD = "Helvetica-Bold"


# Latin letters with a stroke have no decomposition to fall back on.
_STROKED = str.maketrans("ŁłĐđĦħıŦŧ", "LlDdHhiTt")


def _pdf_text(text):
    """Text the standard fonts can show: they are WinAnsi-encoded, and reportlab draws any
    other character as a black box, so an accented letter loses its accent and anything
    else becomes "?"."""
    out = []
    for ch in text.translate(_STROKED):
        try:
            ch.encode("cp1252")
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", ch).encode("cp1252", "ignore").decode("cp1252")
            ch = base or "?"
        out.append(ch)
    return "".join(out)


class _Page:
    """Diagram coordinates (SVG pixels, y down) scaled and flipped onto the PDF page."""

    def __init__(self, canvas, width, height):
        usable_w, usable_h = PAGE[0] - 2 * PAGE_MARGIN, PAGE[1] - 2 * PAGE_MARGIN
        self.canvas = canvas
        self.scale = min(usable_w / width, usable_h / height)
        self.left = (PAGE[0] - width * self.scale) / 2
        self.top = PAGE[1] - (PAGE[1] - height * self.scale) / 2

    def x(self, value):
        return self.left + value * self.scale

    def y(self, value):
        return self.top - value * self.scale

    def rect(self, x, y, width, height, *, fill, stroke_width, rounded=False):
        c = self.canvas
        c.setFillColor(HexColor(fill))
        c.setStrokeColor(HexColor(diagram.BLACK))
        c.setLineWidth(stroke_width * self.scale)
        args = (self.x(x), self.y(y + height), width * self.scale, height * self.scale)
        if rounded:
            c.roundRect(*args, radius=6 * self.scale, stroke=1, fill=1)
        else:
            c.rect(*args, stroke=1, fill=1)

    def text(self, x, y, text, *, size, bold=False, anchor="start"):
        c = self.canvas
        font = FONT_BOLD if bold else FONT
        c.setFillColor(HexColor(diagram.TEXT))
        c.setFont(font, size * self.scale)
        draw = c.drawCentredString if anchor == "middle" else c.drawString
        draw(self.x(x), self.y(y), _pdf_text(text))

    def arrow(self, points):
        """A line through points with a filled head at the last one, as the SVG's."""
        c = self.canvas
        (x1, y1), (x2, y2) = points[-2], points[-1]
        length = max(((x2 - x1) ** 2 + (y2 - y1) ** 2) ** 0.5, 1e-9)
        ux, uy = (x2 - x1) / length, (y2 - y1) / length
        bx, by = x2 - ux * diagram.ARROW_HEAD, y2 - uy * diagram.ARROW_HEAD
        half = diagram.ARROW_HALF
        c.setStrokeColor(HexColor(diagram.BLACK))
        c.setFillColor(HexColor(diagram.BLACK))
        c.setLineWidth(1.5 * self.scale)
        line = c.beginPath()
        line.moveTo(self.x(points[0][0]), self.y(points[0][1]))
        for px, py in [*points[1:-1], (bx, by)]:
            line.lineTo(self.x(px), self.y(py))
        c.drawPath(line, stroke=1, fill=0)
        head = c.beginPath()
        head.moveTo(self.x(x2), self.y(y2))
        head.lineTo(self.x(bx - uy * half), self.y(by + ux * half))
        head.lineTo(self.x(bx + uy * half), self.y(by - ux * half))
        head.close()
        c.drawPath(head, stroke=0, fill=1)


def _draw_box(page, box):
    plain = box.fill == diagram.BOX_FILL
    page.rect(box.x, box.y, box.width, box.height, fill=box.fill,
              stroke_width=1.5 if plain else 1, rounded=not plain)  # fmt: skip
    baseline = box.y + diagram.PAD_Y + diagram.LINE - 4
    for para, lines in zip(box.paras, box.lines, strict=True):
        for i, (_sep, text) in enumerate(lines):
            if box.align == "middle":
                x = box.cx
            else:
                x = box.x + diagram.PAD_X + para.indent + (diagram.HANGING if i else 0.0)
            page.text(x, baseline + i * diagram.LINE, text, size=box.size,
                      bold=box.bold or para.bold, anchor=box.align)  # fmt: skip
        baseline += diagram.LINE * len(lines)


def _draw_band(page, label, x, top, bottom):
    page.rect(x, top, diagram.BAND_W, bottom - top, fill=diagram.BAND_FILL, stroke_width=1,
              rounded=True)  # fmt: skip
    c = page.canvas
    size = diagram.PHASE_SIZE * page.scale
    c.saveState()
    c.translate(page.x(x + diagram.BAND_W / 2), page.y((top + bottom) / 2))
    c.rotate(90)  # reads bottom to top, as the template's phase bars
    c.setFillColor(HexColor(diagram.TEXT))
    c.setFont(FONT_BOLD, size)
    c.drawCentredString(0, -0.35 * size, label)
    c.restoreState()


def _arrow_points(lay, other):
    """The SVG's arrows (screening.prisma_diagram._arrows) as point lists."""
    b = lay.by_key

    def down(a, z):
        return [(b[a].cx, b[a].bottom), (b[a].cx, b[z].y)]

    def right(a, z):
        return [(b[a].right, b[a].cy), (b[z].x, b[a].cy)]

    arrows = [
        right("identified", "removed"), down("identified", "screened"),
        right("screened", "records-excluded"), down("screened", "sought"),
        right("sought", "not-retrieved"), down("sought", "assessed"),
        right("assessed", "reports-excluded"), down("assessed", "included"),
    ]  # fmt: skip
    if other:
        start, included = b["other-assessed"], b["included"]
        arrows += [
            down("other-identified", "other-sought"),
            right("other-sought", "other-not-retrieved"),
            down("other-sought", "other-assessed"),
            right("other-assessed", "other-reports-excluded"),
            [(start.cx, start.bottom), (start.cx, included.cy), (included.right, included.cy)],
        ]
    return arrows


def render_pdf(counts, out, title):
    """Draw the diagram on one landscape A4 page, scaled to fit, and write the PDF to out."""
    # The layout of render_svg, so the PDF shows exactly the boxes and lines the SVG does.
    lay = diagram._layout(counts, show_title=True)
    canvas = Canvas(out, pagesize=PAGE, lang="en", initialFontName=FONT)
    canvas.setTitle(_pdf_text(title))
    canvas.setAuthor(AUTHOR)
    canvas.setCreator(AUTHOR)
    canvas.setSubject("PRISMA 2020 flow diagram")
    canvas.setKeywords("PRISMA 2020; flow diagram; systematic review")
    canvas.setViewerPreference("DisplayDocTitle", "true")
    page = _Page(canvas, lay.width, lay.height)

    heading = _pdf_text(title)
    size = diagram.HEADER_SIZE + 2
    room = (lay.width - 2 * diagram.MARGIN) / stringWidth(heading, FONT_BOLD, size)
    page.text(lay.width / 2, lay.title_y, heading, size=size * min(1.0, room), bold=True,
              anchor="middle")  # fmt: skip
    for label, x, top, bottom in lay.bands:
        _draw_band(page, label, x, top, bottom)
    for box in lay.boxes:
        _draw_box(page, box)
    for points in _arrow_points(lay, counts.has_other_methods):
        page.arrow(points)
    for baseline, lines in lay.notes:
        for i, (_sep, text) in enumerate(lines):
            page.text(diagram.MARGIN, baseline + i * diagram.NOTE_LINE, text,
                      size=diagram.NOTE_SIZE)  # fmt: skip
    canvas.showPage()
    canvas.save()


@register("prisma-pdf", label="PRISMA 2020 flow diagram (PDF)", extension="pdf",
          content_type="application/pdf", group="PRISMA",
          description="The flow diagram on one landscape A4 page, ready to print or attach "
                      "to a submission.")  # fmt: skip
def write_pdf(review, out, *, progress, options):
    counts = _counts(review, progress)
    render_pdf(counts, out, diagram_title(review))
    progress(1.0)


# --- PRISMA2020 CSV template --------------------------------------------------------------

HEADER = ("data", "node", "box", "description", "boxtext", "tooltips", "url", "n")
NA = "NA"

# PRISMA2020 1.1.4, inst/extdata/PRISMA.csv without its n column (MIT, Neal R Haddaway).
TEMPLATE = (
    ("NA", "node4", "prevstud", "Grey title box; Previous studies", "Previous studies",
     "Grey title box; Previous studies", "prevstud.html"),
    ("previous_studies", "node5", "box1", "Studies included in previous version of review",
     "Studies included in previous version of review",
     "Studies included in previous version of review", "previous_studies.html"),
    ("previous_reports", "NA", "box1", "Reports of studies included in previous version of review",
     "Reports of studies included in previous version of review", "NA",
     "previous_reports.html"),
    ("NA", "node6", "newstud",
     "Yellow title box; Identification of new studies via databases and registers",
     "Identification of new studies via databases and registers",
     "Yellow title box; Identification of new studies via databases and registers",
     "newstud.html"),
    ("database_results", "node7", "box2", "Records identified from: Databases", "Databases",
     "Records identified from: Databases and Registers", "database_results.html"),
    ("database_specific_results", "NA", "box2", "Records identified from: specific databases",
     "Specific Databases", "NA", "database_results.html"),
    ("register_results", "NA", "box2", "Records identified from: Registers", "Registers", "NA",
     "NA"),
    ("register_specific_results", "NA", "box2", "Records identified from: specific registers",
     "Specific Registers", "NA", "database_results.html"),
    ("NA", "node16", "othstud", "Grey title box; Identification of new studies via other methods",
     "Identification of new studies via other methods",
     "Grey title box; Identification of new studies via other methods", "othstud.html"),
    ("website_results", "node17", "box11", "Records identified from: Websites", "Websites",
     "Records identified from: Websites, Organisations and Citation Searching",
     "website_results.html"),
    ("organisation_results", "", "box11", "Records identified from: Organisations",
     "Organisations", "NA", "NA"),
    ("citations_results", "NA", "box11", "Records identified from: Citation searching",
     "Citation searching", "NA", "NA"),
    ("duplicates", "node8", "box3", "Duplicate records", "Duplicate records",
     "Duplicate records", "duplicates.html"),
    ("excluded_automatic", "NA", "box3", "Records marked as ineligible by automation tools",
     "Records marked as ineligible by automation tools", "NA", "NA"),
    ("excluded_other", "NA", "box3", "Records removed for other reasons",
     "Records removed for other reasons", "NA", "NA"),
    ("records_screened", "node9", "box4", "Records screened (databases and registers)",
     "Records screened", "Records screened (databases and registers)",
     "records_screened.html"),
    ("records_excluded", "node10", "box5", "Records excluded (databases and registers)",
     "Records excluded", "Records excluded (databases and registers)",
     "records_excluded.html"),
    ("dbr_sought_reports", "node11", "box6",
     "Reports sought for retrieval (databases and registers)", "Reports sought for retrieval",
     "Reports sought for retrieval (databases and registers)", "dbr_sought_reports.html"),
    ("dbr_notretrieved_reports", "node12", "box7",
     "Reports not retrieved (databases and registers)", "Reports not retrieved",
     "Reports not retrieved (databases and registers)", "dbr_notretrieved_reports.html"),
    ("other_sought_reports", "node18", "box12", "Reports sought for retrieval (other)",
     "Reports sought for retrieval", "Reports sought for retrieval (other)",
     "other_sought_reports.html"),
    ("other_notretrieved_reports", "node19", "box13", "Reports not retrieved (other)",
     "Reports not retrieved", "Reports not retrieved (other)",
     "other_notretrieved_reports.html"),
    ("dbr_assessed", "node13", "box8",
     "Reports assessed for eligibility (databases and registers)",
     "Reports assessed for eligibility",
     "Reports assessed for eligibility (databases and registers)", "dbr_assessed.html"),
    ("dbr_excluded", "node14", "box9",
     "Reports excluded (databases and registers): [separate reasons and numbers using ; e.g. "
     "Reason1, xxx; Reason2, xxx; Reason3, xxx]", "Reports excluded",
     "Reports excluded (databases and registers)", "dbrexcludedrecords.html"),
    ("other_assessed", "node20", "box14", "Reports assessed for eligibility (other)",
     "Reports assessed for eligibility", "Reports assessed for eligibility (other)",
     "other_assessed.html"),
    ("other_excluded", "node21", "box15",
     "Reports excluded (other): [separate reasons and numbers using ; e.g. Reason1, xxx; "
     "Reason2, xxx; Reason3, xxx]", "Reports excluded", "Reports excluded (other)",
     "other_excluded.html"),
    ("new_studies", "node15", "box10", "New studies included in review",
     "New studies included in review", "New studies included in review", "new_studies.html"),
    ("new_reports", "NA", "box10", "Reports of new included studies",
     "Reports of new included studies", "NA", "NA"),
    ("total_studies", "node22", "box16", "Total studies included in review",
     "Total studies included in review", "Total studies included in review",
     "total_studies.html"),
    ("total_reports", "NA", "box16", "Reports of total included studies",
     "Reports of total included studies", "NA", "NA"),
    ("identification", "node1", "identification", "Blue identification box", "Identification",
     "Blue identification box", "identification.html"),
    ("screening", "node2", "screening", "Blue screening box", "Screening",
     "Blue screening box", "screening.html"),
    ("included", "node3", "included", "Blue included box", "Included", "Blue included box",
     "included.html"),
    ("total_studies_ma", "node23", "box17", "Total studies included in meta-analysis",
     "Total studies included in meta-analysis", "Total studies included in meta-analysis",
     "total_studies_meta_analysis.html"),
    ("total_reports_ma", "NA", "box17", "Reports of total included studies in meta-analysis",
     "Reports of total included studies in meta-analysis", "NA", "NA"),
)  # fmt: skip

# Rows that are titles or phase labels, not counts: their n stays the template's.
LABEL_ROWS = {"NA", "identification", "screening", "included"}

_CITATIONS = re.compile(r"citation|reference|snowball", re.IGNORECASE)
_WEBSITES = re.compile(r"website|\bweb\b|internet|google", re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*[,;]\s*")


def _name(text):
    """A name for a "Name, n; Name, n" list: the package splits on ";" and ","."""
    return _SEPARATORS.sub(" / ", " ".join(str(text).split())) or "Unnamed"


def _named_counts(counts):
    return "; ".join(f"{_name(name)}, {int(n)}" for name, n in counts.items())


def other_method_slot(source):
    """Which of the template's other-methods rows a source counts under."""
    if _CITATIONS.search(source):
        return "citations_results"
    if _WEBSITES.search(source):
        return "website_results"
    return "organisation_results"


def template_counts(c):
    """{data key: n} for every count row of the template (NA where not applicable)."""
    values = {
        "previous_studies": NA,
        "previous_reports": NA,
        "database_results": c.databases_total,
        "database_specific_results": _named_counts(c.databases) or NA,
        "register_results": NA,
        "register_specific_results": NA,
        "duplicates": c.duplicates_removed,
        "excluded_automatic": c.automation_removed,
        "excluded_other": c.other_removed,
        "records_screened": c.screened,
        "records_excluded": c.screening_excluded,
        "dbr_sought_reports": c.sought,
        "dbr_notretrieved_reports": c.not_retrieved,
        "dbr_assessed": c.assessed,
        "dbr_excluded": _named_counts(c.excluded_reasons) or c.excluded_total,
        "new_studies": c.studies_included,
        "new_reports": c.reports_included,
        "total_studies": c.studies_included,
        "total_reports": c.reports_included,
        "total_studies_ma": NA,
        "total_reports_ma": NA,
    }
    slots = {"website_results": NA, "organisation_results": NA, "citations_results": NA}
    if c.has_other_methods:
        for source, n in c.other_sources.items():
            slot = other_method_slot(source)
            slots[slot] = (0 if slots[slot] == NA else slots[slot]) + int(n)
        if all(n == NA for n in slots.values()):
            slots["organisation_results"] = 0  # keeps the column, which has reports
        values.update(
            other_sought_reports=c.other_sought,
            other_notretrieved_reports=c.other_not_retrieved,
            other_assessed=c.other_assessed,
            other_excluded=_named_counts(c.other_excluded_reasons) or c.other_excluded_total,
        )
    else:
        values.update(dict.fromkeys(("other_sought_reports", "other_notretrieved_reports",
                                     "other_assessed", "other_excluded"), NA))  # fmt: skip
    values.update(slots)
    return {key: str(value) for key, value in values.items()}


def template_rows(counts):
    """The template's rows with n filled in, header first."""
    values = template_counts(counts)
    rows = [HEADER]
    for row in TEMPLATE:
        key = row[0]
        rows.append((*row, "0" if key in LABEL_ROWS else values[key]))
    return rows


@register("prisma-csv", label="PRISMA2020 R package / Shiny app CSV", extension="csv",
          content_type="text/csv", group="PRISMA",
          description="The counts in the CSV template of the PRISMA2020 R package and its "
                      "Shiny app, to redraw or restyle the diagram there.")  # fmt: skip
def write_csv(review, out, *, progress, options):
    counts = _counts(review, progress)
    # Plain UTF-8, no byte-order mark: R's read.csv would glue a BOM to the "data" column's
    # name, and the package reads that column by name.
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    writer = csv.writer(text, lineterminator="\r\n")  # as the template's own file
    for row in template_rows(counts):
        writer.writerow(safe_row(row))
    text.flush()
    text.detach()
    progress(1.0)
