"""CSV, TSV and XLSX exports: Scopus, Embase, Ovid, PubMed, IEEE, Springer, Lens, OpenAlex,
Zotero, ASReview and any spreadsheet a reviewer made.

Column headers differ per exporter, so `suggest_mapping` recognises the known ones; when
neither a title nor an abstract column is recognised the importer shows the columns and asks.
Every non-empty cell is kept in `raw`, mapped or not.
"""

import ast
import csv
import datetime
import itertools
import re
from collections.abc import Iterator

from .base import ImportFileError, ParsedEntry
from .normalise import join_pages

FIELDS = (
    "title",
    "abstract",
    "authors",
    "year",
    "journal",
    "volume",
    "issue",
    "pages",
    "start_page",
    "end_page",
    "doi",
    "pmid",
    "url",
    "keywords",
    "language",
    "publication_type",
    "source_id",
)

# Known headers per field, best first (several exporters write more than one candidate:
# Scopus 'Author full names' beats 'Authors', Zotero 'Issue' beats 'Number'). Matching
# ignores case, spaces and punctuation, so 'Source title' and 'Source Title' are one entry.
KNOWN_HEADERS = {
    "title": [
        "title", "Document Title", "Item Title", "Article Title", "primary_title",
        "display_name", "TI", "T1", "Primary Title",
    ],
    "abstract": ["abstract", "Abstract Note", "AB", "N2", "Abstract Text"],
    "authors": [
        "Author full names", "AF", "authors", "author", "Author Names", "Author/s",
        "authorships.author.display_name", "first_authors", "AU", "A1", "First Author",
    ],
    "year": [
        "Publication Year", "year", "publication_year", "PY", "Year Published", "Y1",
        "Date Published", "publication_date", "Date", "DA", "Publication Date",
    ],
    "journal": [
        "journal", "Source title", "Publication Title", "Journal/Book", "Journal Title",
        "primary_location.source.display_name", "host_venue.display_name", "secondary_title",
        "JO", "JF", "T2", "SO", "JA", "Publication", "Source", "Container Title",
    ],
    "volume": ["volume", "VL", "Journal Volume", "biblio.volume"],
    "issue": ["issue", "Issue Number", "Journal Issue", "IS", "biblio.issue", "number"],
    "pages": ["pages", "Page Range", "page"],
    "start_page": ["Page start", "Start Page", "start_page", "SP", "BP", "biblio.first_page"],
    "end_page": ["Page end", "End Page", "end_page", "EP", "biblio.last_page"],
    "doi": ["DOI", "Item DOI", "DO", "DI"],
    "pmid": ["PMID", "PubMed ID", "pubmed_id", "ids.pmid", "PM"],
    "url": ["url", "Link", "UR", "External URL", "PDF Link", "Source URLs"],
    "keywords": [
        "Author Keywords", "keywords", "KW", "DE", "Manual Tags", "Index Keywords",
        "MeSH Terms", "Mesh_Terms", "IEEE Terms",
    ],
    "language": ["language", "Language of Original Document", "LA"],
    "publication_type": [
        "Document Type", "Publication Type", "Item Type", "type_of_reference", "Content Type",
        "type", "TY", "PT", "DT",
    ],
    "source_id": [
        "record_id", "id", "Key", "Lens ID", "EID", "UT", "Accession Number", "AN",
        "Unique Identifier",
    ],
}  # fmt: skip

DELIMITERS = (",", ";", "\t", "|")
# The csv module refuses cells over 128 KiB; a Scopus 'References' cell for a large review
# can exceed that. The limit only guards memory, and uploads are size-limited anyway.
csv.field_size_limit(max(csv.field_size_limit(), 32 * 1024 * 1024))
# Scopus 'Author full names': 'Liu, Fengyuan (60410297700); Li, Chunyun (58862216200)'.
AUTHOR_ID_RE = re.compile(r"\s*\(\d+\)")
INITIALS_RE = re.compile(r"(?:[A-Z]\.?-?){1,4}\.?")
NAME_PARTICLES = {"van", "von", "der", "den", "de", "del", "della", "da", "di", "du", "dos", "le",
                  "la", "ter", "ten", "bin", "al", "el"}  # fmt: skip
ACADEMIC_TITLES = {"prof.", "dr.", "prof", "dr"}
# Embase 'Source': 'Cancer (2004) 102:4 (253-258). Date of Publication: 25 Aug 2004'.
EMBASE_SOURCE_RE = re.compile(
    r"(?P<journal>.+?) \((?P<year>\d{4})\)(?: (?P<volume>[^\s:(]+)(?::(?P<issue>[^\s(]+))?)?"
    r"(?: \((?P<pages>[^)]*)\))?\."
)
# PubMed 'Citation': 'Lancet. 2022 Feb 5;399(10324):555-604. doi: ...'.
PUBMED_CITATION_RE = re.compile(
    r";(?P<volume>[^;(:\s]+)?(?:\((?P<issue>[^)]+)\))?:(?P<pages>[^.;\s]+)"
)
ZOTERO_EXTRA_PMID_RE = re.compile(r"\bPMID:\s*(\d{1,9})")
SCOPUS_FUNDING_TEXT_RE = re.compile(r"Funding Text (\d+)")


def _fold(header):
    return re.sub(r"[\W_]+", "", header).lower()


KNOWN_FOLDED = {field: [_fold(h) for h in headers] for field, headers in KNOWN_HEADERS.items()}


def suggest_mapping(columns):
    """Our field name -> the column that holds it, for the columns we recognise."""
    by_fold = {}
    for column in columns:
        by_fold.setdefault(_fold(column), column)
    mapping = {}
    for field, candidates in KNOWN_FOLDED.items():
        for folded in candidates:
            if folded in by_fold:
                mapping[field] = by_fold[folded]
                break
    return mapping


def needs_mapping(mapping):
    """True when the reviewer has to choose columns: we found neither title nor abstract."""
    return not (mapping.get("title") or mapping.get("abstract"))


def read_columns(source, *, fmt, filename=""):
    """The header names of the file, stripped of surrounding whitespace.

    This reads from `source`: open (or seek) the file afresh before calling `parse`."""
    if fmt == "xlsx":
        workbook, rows = _xlsx_rows(source, filename)
        try:
            return next((header for _, header in rows), [])
        finally:
            workbook.close()
    header, _ = _csv_rows(source, fmt=fmt, filename=filename)
    return header


def parse(source, *, filename="", fmt="csv", mapping=None) -> Iterator[ParsedEntry]:
    """Yield one ParsedEntry per non-empty row. For csv/tsv `source` is a text stream, for
    xlsx a binary file. `mapping` (field -> column) defaults to `suggest_mapping`."""
    if fmt == "xlsx":
        workbook, rows = _xlsx_rows(source, filename)
        try:
            yield from _entries(rows, filename=filename, mapping=mapping)
        finally:
            workbook.close()
    else:
        header, rows = _csv_rows(source, fmt=fmt, filename=filename)
        rows = itertools.chain([(1, header)], rows)
        yield from _entries(rows, filename=filename, mapping=mapping)


def _csv_rows(stream, *, fmt, filename):
    """(header, iterator of (line, cells)). The header is read at once, the rows lazily."""
    first = stream.readline()
    while first and not first.strip():
        first = stream.readline()
    if not first:
        raise ImportFileError("the file is empty", filename=filename)
    delimiter = "\t" if fmt == "tsv" else _sniff_delimiter(first)
    # The stream already turned CRLF and CR into LF; quoted fields may hold further lines,
    # which csv.reader reads on demand.
    reader = csv.reader(itertools.chain([first], stream), delimiter=delimiter)
    try:
        header = next(reader)
    except csv.Error as exc:
        problem = f"the header line is not valid CSV: {exc}"
        raise ImportFileError(problem, filename=filename, line=1) from exc

    def rows():
        start = reader.line_num + 1
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                problem = f"this row is not valid CSV: {exc}"
                raise ImportFileError(problem, filename=filename, line=start) from exc
            yield start, cells
            start = reader.line_num + 1

    return _clean_header(header), rows()


def _sniff_delimiter(line):
    """The candidate that splits the header line most often, counting outside quotes only."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _clean_header(header):
    header = [h.strip().lstrip("\ufeff").strip() for h in header]
    # A repeated header would make one column overwrite the other in raw.
    seen = {}
    unique = []
    for index, name in enumerate(header):
        name = name or f"Column {index + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        unique.append(name)
    return unique


def _xlsx_rows(binary, filename):
    """(workbook, iterator of (row number, cells)); the first non-empty row is the header."""
    # Imported here: only XLSX uploads pay for loading openpyxl.
    from openpyxl import load_workbook

    try:
        # read_only streams the sheet instead of building it in memory; openpyxl parses the
        # sheet XML with defusedxml when it is installed, as it is here.
        workbook = load_workbook(binary, read_only=True, data_only=True)
    except Exception as exc:  # BadZipFile, KeyError, InvalidFileException, ...: all unreadable
        raise ImportFileError(
            "this is not a readable XLSX workbook (save it again from Excel as .xlsx, "
            "or export CSV)",
            filename=filename,
        ) from exc
    if not workbook.worksheets:
        workbook.close()
        raise ImportFileError("the workbook has no sheets", filename=filename)
    # The first sheet, as pandas and ASReview read it; the 'active' one is whichever sheet
    # was open when the file was saved.
    sheet = workbook.worksheets[0]

    def rows():
        header = None
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            if header is None:
                if any(cells):
                    header = _clean_header(cells)
                    yield number, header
                continue
            yield number, cells

    return workbook, rows()


def _cell_text(value):
    """A spreadsheet cell as the text a person sees: 2019, not 2019.0."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.datetime):
        return value.date().isoformat() if value.time() == datetime.time() else value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _entries(rows, *, filename, mapping):
    rows = iter(rows)
    _, header = next(rows, (None, None))
    if header is None:
        return
    mapping = _checked_mapping(mapping, header, filename)
    springer = {"Item Title", "Content Type"} <= set(header)
    position = 0
    for line, cells in rows:
        cells = [c.strip() if isinstance(c, str) else _cell_text(c) for c in cells]
        if not any(cells):
            continue
        columns = header
        if len(cells) > len(header):
            columns = _overflow_columns(header, cells, filename=filename, line=line)
        position += 1
        row = {column: cell for column, cell in zip(columns, cells, strict=False) if cell}
        yield _entry(row, mapping, position=position, line=line, springer=springer)


def _overflow_columns(header, cells, *, filename, line):
    """Column names for a row with more cells than the header has columns."""
    extra = len(cells) - len(header)
    if not any(cells[len(header) :]):
        return header  # trailing empty cells from a trailing delimiter are harmless
    funding = [i for i, name in enumerate(header) if SCOPUS_FUNDING_TEXT_RE.fullmatch(name)]
    if funding:
        # Scopus names as many 'Funding Text N' columns as its first record has, then writes
        # every record's own number of funding texts: the surplus cells are further funding
        # texts and the rest of the row is aligned with the header again.
        last = funding[-1]
        number = int(SCOPUS_FUNDING_TEXT_RE.fullmatch(header[last]).group(1))
        names = [f"Funding Text {number + n}" for n in range(1, extra + 1)]
        return [*header[: last + 1], *names, *header[last + 1 :]]
    raise ImportFileError(
        f"this row has {len(cells)} cells but the header has {len(header)} columns "
        "(a stray delimiter or quote?)",
        filename=filename,
        line=line,
    )


def _checked_mapping(mapping, header, filename):
    if mapping is None:
        mapping = suggest_mapping(header)
        if needs_mapping(mapping):
            raise ImportFileError(
                "no column was recognised as the title or the abstract; "
                "choose which columns hold them",
                filename=filename,
            )
        return mapping
    unknown = set(mapping) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown fields in mapping: {sorted(unknown)}")
    mapping = {field: column for field, column in mapping.items() if column}
    missing = [column for column in mapping.values() if column not in header]
    if missing:
        raise ImportFileError(
            f"the file has no column named {', '.join(repr(c) for c in missing)}",
            filename=filename,
        )
    return mapping


def _entry(row, mapping, *, position, line, springer):
    def get(field):
        value = row.get(mapping.get(field, ""), "")
        # R-written exports (bibliometrix) write NA for a missing value.
        return "" if value == "NA" else value

    pages = get("pages") or join_pages(get("start_page"), get("end_page"))
    entry = ParsedEntry(
        position=position,
        raw=row,
        source_id=get("source_id"),
        line=line,
        title=get("title"),
        abstract=get("abstract"),
        authors=_authors(get("authors"), run_together=springer),
        year=get("year") or None,
        journal=get("journal"),
        volume=get("volume"),
        issue=get("issue"),
        pages=pages,
        doi=get("doi"),
        pmid=get("pmid"),
        url=get("url"),
        keywords=_keywords(get("keywords")),
        language=get("language"),
        publication_type=get("publication_type"),
    )
    _fill_from_citation(entry, row, mapping)
    if not entry.source_id:
        entry.source_id = entry.pmid
    return entry


def _fill_from_citation(entry, row, mapping):
    """Fill year, volume, issue and pages that some exporters only give inside a citation."""
    if mapping.get("journal") == "Source":
        match = EMBASE_SOURCE_RE.match(entry.journal)
        if match:
            entry.journal = match["journal"]
            _fill(entry, match, ("year", "volume", "issue", "pages"))
    citation = row.get("Citation", "")
    if citation:
        match = PUBMED_CITATION_RE.search(citation.split(" doi:")[0])
        if match:
            _fill(entry, match, ("volume", "issue", "pages"))
    if not entry.pmid:
        match = ZOTERO_EXTRA_PMID_RE.search(row.get("Extra", ""))
        if match:
            entry.pmid = match.group(1)


def _fill(entry, match, fields):
    for field in fields:
        if not getattr(entry, field) and match[field]:
            setattr(entry, field, match[field])


def _list_literal(value):
    """ASReview writes lists as Python literals: "['Marx, Karl', 'Lindgren, Astrid']"."""
    if not (value.startswith("[") and value.endswith("]")):
        return None
    try:
        items = ast.literal_eval(value)
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if isinstance(items, list) and all(isinstance(i, str) for i in items):
        return items
    return None


def _authors(value, *, run_together=False):
    """'Surname, Given' names from one cell, whichever way the exporter separated them."""
    if not value:
        return []
    names = _list_literal(value)
    if names is None:
        value = AUTHOR_ID_RE.sub("", value)
        if ";" in value:
            names = value.split(";")
        elif "|" in value:
            names = value.split("|")  # OpenAlex
        elif " and " in value:
            names = value.split(" and ")  # BibTeX style, e.g. eviatlas
        elif run_together:
            names = _split_run_together(value)
        elif "," in value and _is_name_list(value.split(",")):
            # Old Scopus, Embase, PubMed and IEEE: 'Phillips J.C., Braun R.' is a list;
            # 'Hansson, L' is one name.
            names = value.split(",")
        else:
            names = [value]
    return [_surname_first(name.strip()) for name in names if name.strip()]


def _is_name_list(pieces):
    """True when every comma-separated piece is a whole name, not 'Surname' and 'Given'."""
    pieces = [p.strip() for p in pieces if p.strip()]
    return len(pieces) > 1 and all(" " in p and _has_word(p) for p in pieces)


def _has_word(text):
    # 'Liu R.' and 'Joseph Rottman' have a word; 'P N' and 'J.C.' are initials only.
    return any(len(w) > 1 and any(c.islower() for c in w) for w in text.split())


def _split_run_together(value):
    """Springer CSV joins names without a separator: 'Araz R. AlievNigar T. Ismayilova'.

    Split where a lower-case letter meets an upper-case one inside a word that has at least
    two lower-case letters before it ('Aliev|Nigar'), which keeps 'McDonald' and 'DeVries'.
    """
    names, start, run = [], 0, 0
    for index, char in enumerate(value):
        if char.islower():
            run += 1
            continue
        if char.isupper() and run >= 2 and index > start:
            names.append(value[start:index])
            start = index
        run = 0
    names.append(value[start:])
    return names


def _surname_first(name):
    """'Surname, Given' from 'Liu F.', 'P. Kogge' or 'David De Roure'; 'A, B' stays."""
    words = [w for w in name.split() if w.lower() not in ACADEMIC_TITLES]
    if "," in name or len(words) < 2:
        return " ".join(words) or name
    if INITIALS_RE.fullmatch(words[-1]) and not INITIALS_RE.fullmatch(words[0]):
        return f"{' '.join(words[:-1])}, {words[-1]}"  # Scopus, PubMed: 'Liu F.'
    split = len(words) - 1
    while split > 1 and words[split - 1].lower() in NAME_PARTICLES:
        split -= 1
    return f"{' '.join(words[split:])}, {' '.join(words[:split])}"


def _keywords(value):
    if not value:
        return []
    items = _list_literal(value)
    if items is not None:
        return items
    for separator in (";", "|"):
        if separator in value:
            return [k.strip() for k in value.split(separator) if k.strip()]
    # Embase separates with commas, and puts commas inside brackets too:
    # 'bronchogenic duplication cyst (diagnosis, surgery), colonoscopy'.
    items, depth, start = [], 0, 0
    for index, char in enumerate(value):
        if char in "([":
            depth += 1
        elif char in ")]":
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            items.append(value[start:index])
            start = index + 1
    items.append(value[start:])
    return [k.strip() for k in items if k.strip()]
