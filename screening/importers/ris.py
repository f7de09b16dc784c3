"""RIS exports: Ovid, ProQuest, EBSCO, Embase, Scopus, Web of Science, Zotero, EndNote, Rayyan.

rispy's RisParser builds each record (list tags, repeated tags, continuation lines); we drive
it one line at a time instead of calling `rispy.load`, because `load` returns a list of every
record (a 100,000-record export would sit in memory whole) and cannot tell us line numbers or
notice a record that never ends.

Leniency, chosen to match what reference managers accept:
- anything outside TY ... ER (provider headers, Ovid's '1.' numbers, blank lines) is skipped;
- tagged lines straight after ER belong to the record just closed (Ovid writes NL after ER);
- the last record may lack its ER line if it has any field besides TY: the file ended, the
  data is there. A record missing ER *before another TY* is rejected: mid-file that means a
  damaged or hand-edited export whose record may be cut short, and a clean export is better
  than a silently half-imported record.
"""

import re

import rispy
from rispy.config import LIST_TYPE_TAGS, TAG_KEY_MAPPING

from .base import ImportFileError, ParsedEntry
from .normalise import parse_year

# Tags from the RIS specification and common exporters. Only these may use irregular
# spacing ('TY - JOUR'); any other two-character tag must be written 'XX  - '.
KNOWN_TAGS = frozenset(TAG_KEY_MAPPING) | {"ER", "BT", "CT", "CP", "J1", "VO", "L3", "LK"}
LIST_TAGS = frozenset(LIST_TYPE_TAGS)
# 'TY - JOUR', 'TY   - JOUR', 'TY  -JOUR', 'ER -': a known tag with a dash set off by spaces
# (but not 'ET-1 levels', a continuation line that merely starts like a tag).
LOOSE_TAG_RE = re.compile(r"([A-Z][A-Z0-9])(?: +- *| *- +| *-$)(.*)")
# Longer tags some exporters add with standard spacing: 'PMID  - 33355555' (APA PsycInfo).
LONG_TAG_RE = re.compile(r"([A-Z][A-Z0-9]{2,3})  - ?(.*)")
PUBMED_URL_RE = re.compile(r"ncbi\.nlm\.nih\.gov/(?:pubmed/)?(\d{1,9})(?!\d)")
PMID_NOTE_RE = re.compile(r"\bPMID:?\s*(?:NLM)?(\d{1,9})\b")
DOI_URL_RE = re.compile(r"doi\.org/10\.|\bdoi:\s*10\.", re.IGNORECASE)
NO_RECORDS = "no RIS records found: expected lines like 'TY  - JOUR'"
# The tags _doi and _pmid search when the record has no DO or PMID tag.
DOI_LINK_TAGS = ("UR", "L2", "L1", "L3", "L4", "M3")
PMID_TAGS = ("PMID", "AN", "C2", "UR", "L2", "L1", "N1")


class _Tags(dict):
    """rispy renames tags ('TI' -> 'title') through its mapping; ours maps each tag to itself
    so `raw` is keyed by the file's own tags, unknown ones included."""

    def __missing__(self, tag):
        self[tag] = tag
        return tag


class _RecordBuilder(rispy.RisParser):
    def __init__(self):
        super().__init__(
            mapping=_Tags({tag: tag for tag in KNOWN_TAGS}),
            list_tags=LIST_TAGS,
            # Keep 'UR  - a;b' as written; the url mapping below takes the first address.
            delimiter_tags_mapping={},
            # Repeated single tags (two DO or SN lines) become lists instead of being dropped.
            enforce_list_tags=False,
        )

    def parse_line(self, line):
        # Fast path, as rispy's own: 'XX  - value'.
        if line[2:5] == "  -" and line[5:6] in " \n" and line[:2].isupper() and line[0].isalpha():
            return line[:2], line[6:].strip()
        match = LOOSE_TAG_RE.match(line)
        if match and match[1] in KNOWN_TAGS:
            return match[1], match[2].strip()
        match = LONG_TAG_RE.match(line)
        if match:
            return match[1], match[2].strip()
        return None, line.strip()

    def _add_single_value(self, record, name, value, is_multi=False):
        # rispy joins a continuation line onto a single value with a space, and fails when the
        # tag was repeated (the value is then a list): continue the last item instead.
        if is_multi and isinstance(record[name], list):
            record[name][-1] = f"{record[name][-1]} {value}"
        else:
            super()._add_single_value(record, name, value, is_multi)


def _records(stream, filename):
    """(start line, raw record) for each record, one at a time."""
    builder = _RecordBuilder()
    parse_line, add_tag = builder.parse_line, builder._add_tag
    record = pending = None  # the open record; the closed one awaiting trailing tags
    start = pending_start = 0
    last_tag = None
    count = 0
    for number, line in enumerate(stream, 1):
        # The usual 'XX  - value' line is split here, and a new single or list tag stored
        # directly, rather than through rispy's methods: the calls per line made the parse
        # 40% slower on a 100,000-record file. Everything else goes through rispy.
        if line[2:5] == "  -" and line[5:6] in " \n" and line[:2].isupper() and line[0].isalpha():
            tag, content = line[:2], line[6:].strip()
        else:
            if number == 1:
                line = line.lstrip("\ufeff")
            tag, content = parse_line(line)
        if tag == "TY":
            if record is not None:
                raise ImportFileError(
                    f"this record has no 'ER  -' end tag; the next record starts at line {number}",
                    filename=filename,
                    entry=count + 1,
                    line=start,
                )
            if pending is not None:
                yield pending_start, pending
                pending = None
            record, start, last_tag = {"TY": content}, number, "TY"
        elif record is None:
            if pending is not None and tag is not None and tag != "ER":
                add_tag(pending, tag, content)
        elif tag == "ER":
            count += 1
            pending, pending_start, record = record, start, None
        elif tag is None:
            if content:  # blank lines inside a record carry nothing
                add_tag(record, last_tag, content, extend_multiline=True)
        else:
            if tag in LIST_TAGS and tag in record:
                record[tag].append(content)
            elif tag in LIST_TAGS:
                record[tag] = [content]
            elif tag not in record:
                record[tag] = content
            else:
                add_tag(record, tag, content)  # a repeated single tag: rispy makes a list
            last_tag = tag
    if pending is not None:
        yield pending_start, pending
    if record is not None:
        if not any(value for key, value in record.items() if key != "TY"):
            raise ImportFileError(
                "this record has no 'ER  -' end tag and no fields: the file looks cut off",
                filename=filename,
                entry=count + 1,
                line=start,
            )
        count += 1
        yield start, record
    if count == 0:
        raise ImportFileError(NO_RECORDS, filename=filename)


def _values(raw, tag):
    value = raw.get(tag)
    if not value:
        return []
    return value if isinstance(value, list) else [value]


def _first(raw, *tags):
    """The first non-empty value of the first of `tags` that has one."""
    for tag in tags:
        value = raw.get(tag)
        if not value:  # most tags are absent: no type check for them
            continue
        if isinstance(value, list):
            value = next((v for v in value if v), "")
            if not value:
                continue
        return value
    return ""


def _year(raw):
    for tag in ("PY", "Y1", "DA", "Y2"):
        year = parse_year(_first(raw, tag))
        if year:
            return year
    return None


def _pages(raw):
    start, end = _first(raw, "SP"), _first(raw, "EP")
    if start == "No" and end == "Specified":  # Ovid writes 'No Specified' across SP and EP
        return ""
    if "-" in start or "\u2013" in start:  # SP already holds the range
        return start
    return f"{start}-{end}" if start and end and end != start else start or end


def _doi(raw):
    doi = _first(raw, "DO")
    if doi or raw.keys().isdisjoint(DOI_LINK_TAGS):
        return doi
    # No DO tag: some exporters give the DOI only as a link or in M3 ('doi:10.1011/x').
    for tag in DOI_LINK_TAGS:
        for value in _values(raw, tag):
            if DOI_URL_RE.search(value):
                return value
    return ""


def _pmid(raw):
    if raw.keys().isdisjoint(PMID_TAGS):  # most records: no tag to look in
        return ""
    if pmid := _first(raw, "PMID"):  # APA PsycInfo
        return pmid
    accession, custom2 = _first(raw, "AN"), _first(raw, "C2")
    if accession.isdigit() or custom2.isdigit():
        database = f"{_first(raw, 'DB')} {_first(raw, 'DP')}".lower()
        if accession.isdigit() and any(n in database for n in ("pubmed", "medline", "nlm")):
            return accession  # PubMed/MEDLINE via EndNote or Ovid: the PMID is the accession
        if custom2.isdigit() and "scopus" in database:
            return custom2  # Scopus puts the PubMed ID in C2
    for tag in ("UR", "L2", "L1"):
        for value in _values(raw, tag):
            if "ncbi.nlm.nih.gov" in value and (match := PUBMED_URL_RE.search(value)):
                return match[1]
    for tag in ("N1", "AN", "C2"):
        for value in _values(raw, tag):
            # CINAHL notes: 'PMID: NLM23803397.'
            if "PMID" in value and (match := PMID_NOTE_RE.search(value)):
                return match[1]
    return ""


def _publication_type(raw):
    kind = _first(raw, "TY")
    work = _first(raw, "M3")
    # M3 is 'type of work' ('Article', 'Review') for Scopus and Embase, but Ovid puts a
    # classification code there and APA a DOI: only a short word-only M3 is a type.
    if work and len(work) <= 40 and not any(c.isdigit() for c in work):
        return f"{kind}; {work}" if kind else work
    return kind


def _url(raw):
    # 'UR  - a;b' holds two addresses; EndNote writes '<Go to ISI>://WOS:...', which is no
    # link (it stays in raw). The first web address is the record's.
    for value in _values(raw, "UR"):
        for address in value.split(";"):
            address = address.strip()
            if address.startswith(("http://", "https://", "www.")):
                return address
    return ""


def _entry(position, line, raw):
    authors = _values(raw, "AU")
    if "A1" in raw:
        authors = authors + [a for a in _values(raw, "A1") if a not in raw.get("AU", ())]
    else:
        authors = list(authors)  # not raw's own list
    return ParsedEntry(
        position=position,
        raw=raw,
        line=line,
        source_id=_first(raw, "ID", "AN"),
        title=_first(raw, "TI", "T1", "CT", "BT", "ST"),
        abstract="\n".join(_values(raw, "AB") or _values(raw, "N2")),
        authors=authors,
        year=_year(raw),
        journal=_first(raw, "JF", "JO", "T2", "JA", "J2", "J1"),
        volume=_first(raw, "VL", "VO"),
        issue=_first(raw, "IS"),
        pages=_pages(raw),
        doi=_doi(raw),
        pmid=_pmid(raw),
        url=_url(raw),
        keywords=_values(raw, "KW"),
        language=_first(raw, "LA"),
        publication_type=_publication_type(raw),
    )


def parse(stream, *, filename=""):
    """ParsedEntry for each RIS record in `stream` (decoded text, universal newlines)."""
    for position, (line, raw) in enumerate(_records(stream, filename), 1):
        yield _entry(position, line, raw)
