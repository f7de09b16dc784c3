"""PubMed/MEDLINE exports ('Save > PubMed format', .nbib or .txt).

Each line is a tag padded to four characters, '- ', and a value ('PMID- 25932596',
'TI  - Efficacy of...'); a value continues on lines indented by six spaces. Records are
separated by blank lines and start with PMID. Read line by line, one record in memory.
"""

from .base import ImportFileError, ParsedEntry
from .normalise import parse_year

# Tags that repeat in ordinary records: always lists in `raw`, so consumers can rely on the
# shape. Any other tag becomes a list only if a record repeats it.
LIST_TAGS = frozenset(
    {"AU", "FAU", "AD", "AUID", "CN", "ED", "FED", "IR", "FIR", "IRAD", "AID", "LID", "IS"}
    | {"MH", "OT", "PT", "LA", "GR", "PHST", "RN", "SI", "MID", "PMCR"}
    | {"CIN", "CON", "CRI", "CRF", "EIN", "EFR", "ECI", "ECF", "ERI", "ERF", "RIN", "ROF"}
    | {"UIN", "UOF", "SPIN", "ORI"}
)
NO_RECORDS = "no PubMed records found: expected lines like 'PMID- 12345678'"


def _tag(line):
    """(tag, value) for a tag line, or (None, None)."""
    if line[4:5] == "-" and line[5:6] in (" ", "\n", ""):
        tag = line[:4].rstrip()
        if tag and tag.isalnum() and tag.isupper():
            return tag, line[6:].strip()
    return None, None


def _add(record, tag, value):
    current = record.get(tag)
    if current is None:
        record[tag] = [value] if tag in LIST_TAGS else value
    elif isinstance(current, list):
        current.append(value)
    else:
        record[tag] = [current, value]


def _continue(record, tag, text):
    current = record[tag]
    if isinstance(current, list):
        current[-1] = f"{current[-1]} {text}" if current[-1] else text
    else:
        record[tag] = f"{current} {text}" if current else text


def _records(stream):
    """(start line, raw record) for each record, one at a time."""
    record, start, last_tag = None, 0, None
    for number, line in enumerate(stream, 1):
        if number == 1:
            line = line.lstrip("\ufeff")
        tag, value = _tag(line)
        if tag is not None:
            # A new PMID also starts a record when an exporter leaves out the blank line.
            if record is not None and tag == "PMID" and "PMID" in record:
                yield start, record
                record = None
            if record is None:
                record, start = {}, number
            _add(record, tag, value)
            last_tag = tag
            continue
        text = line.strip()
        if not text:
            if record is not None:
                yield start, record
                record = None
        elif record is not None:
            # Indented six spaces in real exports; an unindented stray line is kept too,
            # as part of the value above it, rather than dropped.
            _continue(record, last_tag, text)
    if record is not None:
        yield start, record


def _values(raw, tag):
    value = raw.get(tag)
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def _first(raw, *tags):
    for tag in tags:
        for value in _values(raw, tag):
            if value:
                return value
    return ""


def _doi(raw):
    for value in _values(raw, "AID") + _values(raw, "LID"):
        if value.endswith("[doi]"):
            return value[: -len("[doi]")].strip()
    return ""


def _entry(position, line, raw):
    pmid = _first(raw, "PMID")
    return ParsedEntry(
        position=position,
        raw=raw,
        line=line,
        source_id=pmid,
        title=_first(raw, "TI", "BTI"),
        abstract=_first(raw, "AB"),
        authors=_values(raw, "FAU") or _values(raw, "AU") or _values(raw, "CN"),
        year=parse_year(_first(raw, "DP")),
        journal=_first(raw, "JT", "TA"),
        volume=_first(raw, "VI"),
        issue=_first(raw, "IP"),
        pages=_first(raw, "PG"),
        doi=_doi(raw),
        pmid=pmid,
        keywords=_values(raw, "OT") + _values(raw, "MH"),
        language=_first(raw, "LA"),
        publication_type="; ".join(_values(raw, "PT")),
    )


def parse(stream, *, filename=""):
    """ParsedEntry for each PubMed/MEDLINE record in `stream` (decoded text)."""
    position = 0
    for line, raw in _records(stream):
        position += 1
        yield _entry(position, line, raw)
    if position == 0:
        raise ImportFileError(NO_RECORDS, filename=filename)
