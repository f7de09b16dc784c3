"""The review's included studies, report by report, for a reference manager or another review:
RIS ("included-ris"), BibTeX ("included-bibtex") and CSV ("included-csv").

Each report is its record's normalised fields, the label of the study it belongs to (RIS
`N1  - Study: ...`, BibTeX `note`, CSV `study`) and the record's id (RIS `ID`, BibTeX key, CSV
`record_id`). Every file imports back into reviewapp with the same fields (the tests import
each one into a fresh review), with one exception: the publication type. Each format has its
own vocabulary of types, and the importers take the format's own (RIS `TY`, the BibTeX entry
type), so a type from another format is mapped: RIS writes a known `TY` code as it is and
puts the rest of the type in `M3` ("JOUR; Article" comes back as it went, "Journal Article"
comes back as "JOUR; Journal Article"); BibTeX writes the entry type that matches ("JOUR"
comes back as "article"). CSV keeps the type as written, but two things differ there: a cell
that starts with =, +, -, @ (a title may) gets an apostrophe so a spreadsheet shows it as text
(exports.cells), and the CSV importer turns an author written without a comma ("World Health
Organization") into "Organization, World Health"; RIS and BibTeX keep both as they are.

`options["studies"]`: a list of Study ids to export only those studies (all when absent or
empty); an id that is not one of the review's studies is refused with ExportError.
"""

import csv
import io
import re

from bibtexparser.middlewares.names import parse_single_name_into_parts
from rispy.config import TYPE_OF_REFERENCE_MAPPING

from screening.importers import tabular
from screening.models import Study, StudyReport

from ..cells import safe_row
from ..registry import ExportError, register

GROUP = "Included studies"
RIS_TYPES = frozenset(TYPE_OF_REFERENCE_MAPPING)
# The type the RIS importer reads back: `TY`, then "; M3" when M3 is a short word-only type.
M3_MAX_LENGTH = 40
# BibTeX and BibLaTeX entry types a reference manager knows.
BIBTEX_TYPES = frozenset({
    "article", "book", "booklet", "inbook", "incollection", "inproceedings", "conference",
    "manual", "mastersthesis", "misc", "phdthesis", "proceedings", "techreport", "unpublished",
    "online", "report", "thesis", "collection", "periodical", "dataset", "software",
})  # fmt: skip
RIS_TO_BIBTEX = {
    "JOUR": "article", "JFULL": "article", "EJOUR": "article", "MGZN": "article",
    "NEWS": "article", "ABST": "article", "INPR": "article", "BOOK": "book", "EBOOK": "book",
    "EDBOOK": "book", "CHAP": "incollection", "ECHAP": "incollection",
    "CPAPER": "inproceedings", "CONF": "proceedings", "THES": "phdthesis",
    "RPRT": "techreport", "GOVDOC": "techreport", "UNPB": "unpublished", "ELEC": "online",
    "BLOG": "online", "DATA": "dataset", "COMP": "software",
}  # fmt: skip
BIBTEX_TO_RIS = {
    "article": "JOUR", "book": "BOOK", "booklet": "PAMP", "inbook": "CHAP",
    "incollection": "CHAP", "inproceedings": "CPAPER", "conference": "CPAPER",
    "proceedings": "CONF", "manual": "GEN", "mastersthesis": "THES", "phdthesis": "THES",
    "thesis": "THES", "techreport": "RPRT", "report": "RPRT", "unpublished": "UNPB",
    "online": "ELEC", "collection": "EDBOOK", "periodical": "JFULL", "dataset": "DATA",
    "software": "COMP", "misc": "GEN",
}  # fmt: skip
# Free-text types (CSV, PubMed, Web of Science): the first word found decides.
WORDS_TO_RIS = (
    ("chapter", "CHAP"), ("book", "BOOK"), ("conference", "CPAPER"), ("proceeding", "CPAPER"),
    ("thesis", "THES"), ("dissertation", "THES"), ("report", "RPRT"), ("article", "JOUR"),
    ("journal", "JOUR"), ("review", "JOUR"), ("letter", "JOUR"), ("editorial", "JOUR"),
)  # fmt: skip
# BibTeX puts a chapter's or a paper's container in `booktitle`, everything else's in
# `journal` (both read back as the record's journal).
BOOKTITLE_TYPES = frozenset({"incollection", "inproceedings", "inbook", "conference"})
CSV_COLUMNS = (
    "record_id", "study", "title", "abstract", "authors", "year", "journal", "volume", "issue",
    "pages", "doi", "pmid", "url", "keywords", "language", "publication_type",
)  # fmt: skip
RIS_NEWLINE = "\r\n"  # as the RIS specification and Zotero write it
PROGRESS_EVERY = 200
WHITESPACE_RE = re.compile(r"\s+")


# --- which reports --------------------------------------------------------------------------


def _study_ids(review, chosen):
    """The chosen Study ids as ints, checked to be this review's; ExportError names any
    that are not."""
    ids, unreadable = [], []
    for value in chosen:
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            unreadable.append(str(value))
    found = set(Study.objects.filter(review=review, pk__in=ids).values_list("pk", flat=True))
    unknown = unreadable + [str(pk) for pk in dict.fromkeys(ids) if pk not in found]
    if unknown:
        which = "study with id" if len(unknown) == 1 else "studies with ids"
        raise ExportError(
            f"This review has no included {which} {', '.join(unknown)}: choose the studies again."
        )
    return found


def included_reports(review, options):
    """(count, iterator of StudyReport with its record and study) in study order, primary
    report first; `options["studies"]` limits them to those studies."""
    reports = StudyReport.objects.filter(study__review=review)
    chosen = options.get("studies")
    if isinstance(chosen, str | int):
        chosen = [chosen]
    if chosen:
        reports = reports.filter(study_id__in=_study_ids(review, chosen))
    reports = (
        reports.select_related("record", "study")
        # `raw` keeps the source's every field; the files carry the normalised ones only.
        .defer("record__raw")
        .order_by("study__label", "study_id", "-is_primary", "record_id")
    )
    return reports.count(), reports.iterator(chunk_size=500)


def _each(review, options, progress, what):
    count, reports = included_reports(review, options)
    progress(0.0, f"Writing {count} {what}")
    for done, report in enumerate(reports, 1):
        yield report
        if done % PROGRESS_EVERY == 0:
            progress(done / count, f"{done} of {count} {what} written")
    progress(1.0)


def _text_out(out, encoding="utf-8"):
    return io.TextIOWrapper(out, encoding=encoding, newline="")


def _one_line(value):
    # Normalised fields hold no line breaks, but a RIS line must never have one.
    return WHITESPACE_RE.sub(" ", str(value)).strip()


# --- RIS ------------------------------------------------------------------------------------


def ris_type(publication_type, journal=""):
    """(TY, M3) for a publication type: a RIS code is kept with what follows it in M3; a
    BibTeX or free-text type gets the nearest code, and itself in M3."""
    kind, _, rest = publication_type.partition(";")
    kind, rest = kind.strip(), rest.strip()
    if kind in RIS_TYPES:
        return kind, rest
    if not publication_type:
        return ("JOUR" if journal else "GEN"), ""
    code = BIBTEX_TO_RIS.get(publication_type.lower())
    if code is None:
        lowered = publication_type.lower()
        code = next((c for word, c in WORDS_TO_RIS if word in lowered), "GEN")
    return code, publication_type


def _split_pages(pages):
    """(SP, EP): a range split at its one hyphen, anything else whole in SP (the importer
    joins them back to the same text)."""
    start, dash, end = pages.partition("-")
    if dash and start.strip() and end.strip() and "-" not in end and start != end:
        return start.strip(), end.strip()
    return pages, ""


def ris_entry(record, study_label):
    """The RIS lines of one report, TY to ER."""
    kind, work = ris_type(record.publication_type, record.journal)
    lines = [("TY", kind), ("ID", record.pk), ("TI", record.title)]
    lines += [("AU", author) for author in record.authors]
    lines += [("PY", record.year or ""), ("T2", record.journal), ("VL", record.volume),
              ("IS", record.issue)]  # fmt: skip
    start, end = _split_pages(record.pages)
    lines += [("SP", start), ("EP", end), ("DO", record.doi), ("UR", record.url)]
    if record.pmid:
        # The PMID is NLM's accession number: EndNote writes a PubMed record this way, and
        # reviewapp's importer reads AN as the PMID when DP names NLM.
        lines += [("AN", record.pmid), ("DP", "NLM")]
    lines += [("KW", keyword) for keyword in record.keywords]
    lines += [("AB", record.abstract), ("LA", record.language)]
    if work and len(work) <= M3_MAX_LENGTH and not any(c.isdigit() for c in work):
        lines.append(("M3", work))
    lines.append(("N1", f"Study: {study_label}"))
    text = "".join(
        f"{tag}  - {_one_line(value)}{RIS_NEWLINE}" for tag, value in lines if value != ""
    )
    return f"{text}ER  - {RIS_NEWLINE}{RIS_NEWLINE}"


@register("included-ris", label="Included studies (RIS)", extension="ris",
          content_type="application/x-research-info-systems", group=GROUP,
          description="Every report of the included studies, for EndNote, Zotero or Mendeley; "
                      "each notes its study (N1) and record id (ID).")  # fmt: skip
def write_ris(review, out, *, progress, options):
    text = _text_out(out)
    for report in _each(review, options, progress, "reports"):
        text.write(ris_entry(report.record, report.study.label))
    text.flush()
    text.detach()


# --- BibTeX ---------------------------------------------------------------------------------

# What LaTeX (and so the importer's decoder) would read as markup, written so it reads back
# as the character itself.
LATEX_ESCAPES = str.maketrans({
    "\\": "\\textbackslash{}", "{": "\\{", "}": "\\}", "%": "\\%", "&": "\\&",
    "#": "\\#", "_": "\\_", "$": "\\$", "~": "\\textasciitilde{}",
})  # fmt: skip
# Ligatures a LaTeX decoder would make: -- (en dash), `` and '' (quotes), !` and ?`.
LIGATURE_RE = re.compile(r"(-(?=-)|`(?=`)|'(?=')|[!?](?=`))")
AND_RE = re.compile(r"\sand\s", re.IGNORECASE)


def latex_escape(text):
    return LIGATURE_RE.sub(r"\1{}", text.translate(LATEX_ESCAPES))


def _balanced(text):
    depth = 0
    for index, char in enumerate(text):
        if index and text[index - 1] == "\\":
            continue
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0


def _raw_value(text):
    """A field the importer reads without decoding (DOI, URL, pages...): as written, unless
    stray braces would end the value early."""
    if not _balanced(text):
        text = text.replace("{", "").replace("}", "")
    # A closing brace after a backslash would not close the value; the importer strips
    # the space.
    return text + " " if text.endswith("\\") else text


def _bibtex_name(name):
    """One author as BibTeX: "Surname, Given" as it is when BibTeX splits it back into the
    same text, else the whole name in braces (an organisation, or a name BibTeX would
    reorder), which BibTeX keeps as one unit."""
    escaped = latex_escape(name)
    if not AND_RE.search(escaped):
        try:
            parts = parse_single_name_into_parts(escaped, strict=False)
        except ValueError:
            parts = None
        if parts is not None and parts.merge_last_name_first == escaped:
            return escaped
    return "{" + escaped + "}"


def _bibtex_keywords(keywords):
    escaped = [latex_escape(k) for k in keywords]
    # Readers split on ";" when there is one, else on ",": a keyword with a comma needs ";".
    if any("," in k for k in keywords):
        return "; ".join(escaped) + (";" if len(escaped) == 1 else "")
    return ", ".join(escaped)


def bibtex_type(publication_type, journal=""):
    kind = publication_type.strip().lower()
    if kind in BIBTEX_TYPES:
        return kind
    code, _ = ris_type(publication_type, journal)
    return RIS_TO_BIBTEX.get(code, "misc")


def bibtex_entry(record, study_label):
    kind = bibtex_type(record.publication_type, record.journal)
    container = "booktitle" if kind in BOOKTITLE_TYPES else "journal"
    start, end = _split_pages(record.pages)
    fields = [
        ("title", latex_escape(record.title)),
        ("author", " and ".join(_bibtex_name(a) for a in record.authors)),
        ("year", record.year or ""),
        (container, latex_escape(record.journal)),
        ("volume", _raw_value(record.volume)),
        ("number", _raw_value(record.issue)),
        ("pages", _raw_value(f"{start}--{end}" if end else record.pages)),
        ("doi", _raw_value(record.doi)),
        ("pmid", _raw_value(record.pmid)),
        ("url", _raw_value(record.url)),
        ("keywords", _bibtex_keywords(record.keywords)),
        ("abstract", latex_escape(record.abstract)),
        ("language", _raw_value(record.language)),
        ("note", latex_escape(f"Study: {study_label}")),
    ]
    body = "".join(f"  {name} = {{{_one_line(value)}}},\n" for name, value in fields if value != "")
    return f"@{kind}{{{record.pk},\n{body}}}\n\n"


@register("included-bibtex", label="Included studies (BibTeX)", extension="bib",
          content_type="application/x-bibtex", group=GROUP,
          description="Every report of the included studies, for LaTeX, JabRef or Zotero; the "
                      "key is the record id, the note names the study.")  # fmt: skip
def write_bibtex(review, out, *, progress, options):
    text = _text_out(out)
    for report in _each(review, options, progress, "reports"):
        text.write(bibtex_entry(report.record, report.study.label))
    text.flush()
    text.detach()


# --- CSV ------------------------------------------------------------------------------------


def _list_cell(items, read_back):
    """Items joined with "; ", or, when the importer would read that back differently (a
    lone author "Van Damme, Jean Claude" looks like two names, a lone keyword with a comma
    like two keywords), as a list literal, which it reads item by item (ASReview writes
    lists so)."""
    if not items:
        return ""
    joined = "; ".join(items)
    return joined if read_back(joined) == list(items) else repr(list(items))


def csv_row(record, study_label):
    return safe_row([
        record.pk, study_label, record.title, record.abstract,
        _list_cell(record.authors, tabular._authors), record.year or "", record.journal,
        record.volume, record.issue, record.pages, record.doi, record.pmid, record.url,
        _list_cell(record.keywords, tabular._keywords), record.language,
        record.publication_type,
    ])  # fmt: skip


@register("included-csv", label="Included studies (CSV)", extension="csv",
          content_type="text/csv", group=GROUP,
          description="Every report of the included studies as a spreadsheet, one row each, "
                      "with its study and record id.")  # fmt: skip
def write_csv(review, out, *, progress, options):
    # utf-8-sig: Excel reads a CSV without a byte order mark as the local code page.
    text = _text_out(out, encoding="utf-8-sig")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    for report in _each(review, options, progress, "reports"):
        writer.writerow(csv_row(report.record, report.study.label))
    text.flush()
    text.detach()
