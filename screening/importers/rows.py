"""From an uploaded file to chunks of Record rows: decode, parse, normalise, blocking keys.

No Django here: this runs in the process that stores the rows (a thread of it, for small
files) or in a process of its own (screening.importers.worker, for large ones), and what it
hands over is plain data: rows (lists of values, or lines of PostgreSQL's COPY text format)
and blocking keys.
"""

import io
import json
import json.encoder as json_encoder
import operator
from dataclasses import dataclass

from screening.dedup.fields import key_fields
from screening.dedup.keys import keys_of

from . import bibtex, endnote_xml, pubmed, ris, tabular, wos
from .base import ParsedEntry
from .decode import open_text
from .normalise import normalise_entry

TEXT_PARSERS = {
    "ris": ris.parse,
    "pubmed": pubmed.parse,
    "wos": wos.parse,
    "wos-tab": wos.parse_tab,
    "endnote-xml": endnote_xml.parse,
    "bibtex": bibtex.parse,
}
TABULAR = {"csv", "tsv", "xlsx"}
KEY_FIELDS = ("key_doi", "key_pmid", "key_title", "key_alt")
RECORD_FIELDS = (
    "title", "abstract", "authors", "year", "journal", "volume", "issue", "pages", "doi",
    "pmid", "url", "keywords", "language", "publication_type",
)  # fmt: skip
SKIP_REASON = "no title and no abstract"
# A Record row, in order; id and duplicate_of_id are filled in by the writer.
COLUMNS = ("id", "review_id", "batch_id", "position", "source_id", *RECORD_FIELDS, "raw",
           *KEY_FIELDS, "duplicate_of_id")  # fmt: skip
# The same for COPY: the writer's two columns, then the nullable year, then the rest.
COPY_COLUMNS = ("id", "duplicate_of_id", "year",
                *(name for name in COLUMNS[1:-1] if name != "year"))  # fmt: skip
COPY_NULL = "\\N"
# A stored `raw` names under this key its fields whose value is the record's title or
# abstract, word for word (see compact_raw).
SAME = "@same"
SHARED_TEXT_FIELDS = ("abstract", "title", "journal", "url", "doi", "publication_type")
SHARED_LIST_FIELDS = ("authors", "keywords")
SHARED_FIELDS = frozenset(SHARED_TEXT_FIELDS + SHARED_LIST_FIELDS)
SHARED_MIN_LENGTH = 20  # shorter text costs less to store than to name


@dataclass
class Chunk:
    """Up to `chunk_size` entries, ready to store: their Record rows (lists in COLUMNS order,
    or COPY lines from year to key_alt, see RowBuilder) and their blocking keys, with how
    far through the file they reach."""

    rows: list
    keys: list  # [{key name: value}], one per row
    entries_read: int
    fraction: float


class source:
    """The stream a parser reads: text (universal newlines) or, for XLSX, the binary file.
    Detaching on exit leaves the underlying file open for its owner to close."""

    def __init__(self, binary, fmt, filename):
        self.binary, self.fmt, self.filename = binary, fmt, filename
        self.text = None

    def __enter__(self):
        self.binary.seek(0)
        if self.fmt == "xlsx":
            return self.binary
        self.text, _ = open_text(self.binary, filename=self.filename)
        return self.text

    def __exit__(self, *exc):
        if self.text is not None:
            self.text.detach()


def entries(stream, fmt, filename, mapping=None):
    if fmt in TABULAR:
        return tabular.parse(stream, filename=filename, fmt=fmt, mapping=mapping)
    return TEXT_PARSERS[fmt](stream, filename=filename)


def read_chunks(binary, *, fmt, filename, mapping, review_id, batch_id, chunk_size,
                copy_text=False, skipped=None, file_size=None):  # fmt: skip
    """Chunks of the entries of `binary` (a plain binary file) as Record rows of the batch.

    Entries with neither title nor abstract are appended to `skipped` instead. Raises
    ImportFileError (or UnicodeDecodeError) for a file that cannot be imported; the chunks
    read before it must then be thrown away.
    """
    size = file_size or 1
    row_of = RowBuilder(review_id, batch_id, copy_text=copy_text).row
    rows, keys = [], []
    entries_read = 0
    with source(binary, fmt, filename) as stream:
        for entry in entries(stream, fmt, filename, mapping):
            entries_read += 1
            normalise_entry(entry)
            if entry.is_empty:
                if skipped is not None:
                    skipped.append(
                        {
                            "position": entry.position,
                            "line": entry.line,
                            "source_id": entry.source_id,
                            "reason": SKIP_REASON,
                        }
                    )
                continue
            row, row_keys = row_of(entry)
            rows.append(row)
            keys.append(row_keys)
            if len(rows) >= chunk_size:
                yield Chunk(rows, keys, entries_read, binary.tell() / size)
                rows, keys = [], []
    # Always a last chunk, empty or not: it tells the caller how many entries were read.
    yield Chunk(rows, keys, entries_read, 1.0)


class RowBuilder:
    """An entry's Record row (COLUMNS, id and duplicate_of_id left empty) and its blocking
    keys.

    With `copy_text`, the row is a line of COPY's text format instead, for PostgreSQL:
    COPY_COLUMNS but the first two (id and duplicate_of_id, which the writer puts in front),
    without the newline. Formatting it here leaves the process that stores chunks free to
    keep the database busy.
    """

    def __init__(self, review_id, batch_id, *, copy_text=False):
        self.review_id, self.batch_id = review_id, batch_id
        self.copy_text = copy_text

    def row(self, entry):
        # The entry's own attribute dict holds RECORD_FIELDS (and a few more that prepare()
        # does not read): no copy per entry.
        if type(entry) is ParsedEntry:
            values = entry.__dict__
        else:
            values = {name: getattr(entry, name) for name in RECORD_FIELDS}
        keys = keys_of(*key_fields(values))
        # COLUMNS in order, spelt out: cheaper than a generator over the field names and a
        # set lookup per field.
        v = values.__getitem__
        authors, keywords = v("authors"), v("keywords")
        row = [
            None, self.review_id, self.batch_id, entry.position, entry.source_id,
            v("title"), v("abstract"), encode_json(authors), v("year"), v("journal"),
            v("volume"), v("issue"), v("pages"), v("doi"), v("pmid"), v("url"),
            encode_json(keywords), v("language"), v("publication_type"),
            entry.raw,
            keys["key_doi"], keys["key_pmid"], keys["key_title"], keys["key_alt"], None,
        ]  # fmt: skip
        # Text fields lose NUL characters (see _text): one search through all of them
        # together finds the rare record that has any.
        try:
            has_nul = "\x00" in "".join(_TEXT_VALUES(row))
        except TypeError:  # a value that is not text
            has_nul = True
        if has_nul:
            for n in _TEXT_POSITIONS:
                row[n] = _text(row[n])
        shared = {
            "title": row[5], "abstract": row[6], "journal": row[9], "doi": row[13],
            "url": row[15], "publication_type": row[18], "authors": authors,
            "keywords": keywords,
        }  # fmt: skip
        row[19] = encode_json(compact_raw(entry.raw, shared))
        if self.copy_text:
            return copy_line(row), keys
        return row, keys


def compact_raw(raw, values):
    """`raw` as stored: the fields whose value is, exactly, one of the record's own `values`
    ({field: value}, as stored) are named under SAME instead of being stored a second time
    (expand_raw puts them back). Titles, abstracts and author lists are most of an
    export's text: stored twice, they made every record half as long again, and its
    import and every copy of the database slower."""
    same = None
    for key, value in raw.items():
        kind = type(value)
        if kind is str:
            if len(value) < SHARED_MIN_LENGTH:
                continue
            for name in SHARED_TEXT_FIELDS:
                if value == values[name]:
                    break
            else:
                continue
        elif kind is list and value:
            for name in SHARED_LIST_FIELDS:
                if value == values[name]:
                    break
            else:
                continue
        else:
            continue
        if same is None:
            same = {}
        same[key] = name
    if same is None or SAME in raw:
        return raw
    stored = {key: value for key, value in raw.items() if key not in same}
    stored[SAME] = same
    return stored


def expand_raw(stored, record):
    """Every field of the source entry, from a stored `raw` and the record's own values
    (an object with the SHARED_FIELDS as attributes)."""
    same = stored.get(SAME) if type(stored) is dict else None
    if type(same) is not dict:  # stored whole (no parser makes a field with a dict value)
        return stored
    raw = {key: value for key, value in stored.items() if key != SAME}
    for key, name in same.items():
        if name in SHARED_FIELDS:
            raw[key] = getattr(record, name)
    return raw


def row_values(row):
    """{field: value} of a row from RowBuilder (a list or a COPY line), with the authors
    as a list: what screening.dedup.prepare() reads."""
    if type(row) is str:
        values = [None if v == COPY_NULL else _unescape(v) for v in row.split("\t")]
        values = dict(zip(COPY_COLUMNS[2:], values, strict=True))
        values["year"] = int(values["year"]) if values["year"] is not None else None
    else:
        values = dict(zip(COLUMNS, row, strict=True))
    values["authors"] = json.loads(values["authors"])
    return values


# Where RowBuilder.row puts the text fields (title ... publication_type, not the JSON).
_TEXT_POSITIONS = (5, 6, 9, 10, 11, 12, 13, 14, 15, 17, 18)
_TEXT_VALUES = operator.itemgetter(*_TEXT_POSITIONS)
# The values of a row that are never NULL, in COPY_COLUMNS order: review_id ... source_id,
# title ... authors, journal ... key_alt (the year can be NULL).
_COPY_VALUES = operator.itemgetter(*range(1, 8), *range(9, 24))
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_UNESCAPES = {"\\": "\\", "t": "\t", "n": "\n", "r": "\r"}


def copy_line(row):
    """The row's values from year to key_alt as a line of COPY's text format (see
    RowBuilder): tab-separated, NULL as \\N, and backslash, tab, newline and carriage return
    escaped with a backslash."""
    # (int() fails loudly on a None, which the database would have refused as well.)
    values = [value if type(value) is str else str(int(value)) for value in _COPY_VALUES(row)]
    line = "\t".join(values)
    # Cleaned text has no tabs, newlines or carriage returns, nor JSON text: then the only
    # character to escape is the backslash (JSON's own escapes), and it can be escaped in
    # the whole line at once.
    if line.count("\t") != len(values) - 1 or "\n" in line or "\r" in line:
        line = "\t".join(value.translate(_COPY_ESCAPES) for value in values)
    elif "\\" in line:
        line = line.replace("\\", "\\\\")
    year = row[8]
    return f"{COPY_NULL if year is None else year}\t{line}"


def _unescape(value):
    if "\\" not in value:
        return value
    out, chars = [], iter(value)
    for char in chars:
        out.append(_COPY_UNESCAPES[next(chars)] if char == "\\" else char)
    return "".join(out)


# One encoder for the whole import: json.dumps builds a new one per call when given options.
encode_json = json.JSONEncoder(ensure_ascii=False, default=str).encode
if json_encoder.c_make_encoder is not None:
    # What JSONEncoder.encode runs for a list or dict, made once instead of per call (the
    # same output; no circular-reference check, which parsed data cannot need): 20% less
    # time for a record's raw dict, 70% less for a short list.
    try:
        _iterencode = json_encoder.c_make_encoder(
            None, str, json_encoder.c_encode_basestring, None, ": ", ", ", False, False, True
        )
        if "".join(_iterencode({"a": ["b", 1, None]}, 0)) == '{"a": ["b", 1, null]}':

            def encode_json(value, _plain=encode_json):
                if type(value) is dict or type(value) is list:
                    return "".join(_iterencode(value, 0))
                return _plain(value)

    except TypeError:  # another Python's signature: keep the plain encoder
        pass


def _text(value):
    # PostgreSQL text cannot hold NUL characters, which do turn up in broken exports.
    if type(value) is str:
        return value.replace("\x00", "") if "\x00" in value else value
    return value.replace("\x00", "") if isinstance(value, str) else value


def unwrap(binary):
    """The io file object under wrappers that only delegate to it (Django's File): a text
    stream checks its buffer's `closed` once per line, and a wrapper's property costs two
    Python calls per check (1.8 million for a 100,000-record RIS file); both share one file
    object, so positions stay in step."""
    inner = binary
    while not isinstance(inner, io.IOBase) and hasattr(inner, "file"):
        inner = inner.file
    return inner if isinstance(inner, io.IOBase) else binary
