"""EndNote XML, as written by EndNote, Zotero and Mendeley (Mendeley's is one single line).

Parsed with defusedxml so entity expansion ("billion laughs") and external entities are
impossible, and streamed record by record so a large export costs little memory.
"""

import re
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from .base import ImportFileError, ParsedEntry
from .normalise import normalise_doi

# Leaf tags that hold one value per element and may repeat: always stored as a list in raw,
# so a record with one author looks like a record with three.
REPEATED_TAGS = {"author", "keyword", "url"}
# <style face="italic">...</style> only formats text; its text belongs to the parent field.
STYLE_TAG = "style"
# PMIDs have at most 8 digits today; longer numbers are other databases' accession numbers.
PMID_ACCESSION_RE = re.compile(r"\d{1,8}")
PUBMED_NAME_RE = re.compile(r"pubmed|medline|\bnlm\b", re.IGNORECASE)
POSITION_SUFFIX_RE = re.compile(r":\s*line \d+, column \d+$")


def parse(stream, *, filename="") -> Iterator[ParsedEntry]:
    """Yield one ParsedEntry per <record>; a malformed or hostile file raises ImportFileError."""
    position = 0
    saw_root = False
    # Elements from the root down to the current one, so each record can be detached from
    # its parent once it is read and the tree never grows.
    stack = []
    try:
        for event, elem in iterparse(stream, events=("start", "end")):
            if event == "start":
                if not saw_root:
                    saw_root = True
                    _check_root(elem, filename)
                stack.append(elem)
                continue
            stack.pop()
            if elem.tag != "record":
                continue
            position += 1
            yield _entry(elem, position)
            elem.clear()
            if stack:
                stack[-1].remove(elem)
    except DefusedXmlException as exc:
        raise ImportFileError(
            "the file contains an XML entity declaration, which we refuse for safety "
            f"({type(exc).__name__})",
            filename=filename,
        ) from exc
    except ParseError as exc:
        line = exc.position[0] if exc.position else None
        problem = POSITION_SUFFIX_RE.sub("", str(exc))
        raise ImportFileError(
            f"the XML is malformed ({problem}); the file may be truncated or damaged",
            filename=filename,
            line=line,
        ) from exc


def _check_root(elem, filename):
    # EndNote XML is <xml><records><record>...; any other root is a different XML format that
    # would otherwise import as an empty file without a word.
    if elem.tag not in ("xml", "records"):
        raise ImportFileError(
            f"this XML file is not an EndNote XML export (its root element is <{elem.tag}>)",
            filename=filename,
        )


def _text(elem):
    """All text inside a field, including text wrapped in <style> elements."""
    return "".join(elem.itertext()).strip()


def _collect(elem, prefix, raw):
    """Add every leaf field under `elem` to raw as 'parent/child' paths."""
    for child in elem:
        path = f"{prefix}{child.tag}"
        for name, value in child.attrib.items():
            _add(raw, f"{path}@{name}", value, repeated=False)
        if any(grandchild.tag != STYLE_TAG for grandchild in child):
            _collect(child, f"{path}/", raw)
            continue
        text = _text(child)
        if text:
            _add(raw, path, text, repeated=child.tag in REPEATED_TAGS)


def _add(raw, path, value, *, repeated):
    if repeated:
        raw.setdefault(path, []).append(value)
    elif path in raw:
        # An unexpected repeat: keep every value rather than the last one only.
        existing = raw[path]
        raw[path] = [*existing, value] if isinstance(existing, list) else [existing, value]
    else:
        raw[path] = value


def _first(raw, *paths):
    for path in paths:
        value = raw.get(path)
        if isinstance(value, list):
            value = next((v for v in value if v), "")
        if value:
            return value
    return ""


def _doi(raw):
    doi = normalise_doi(raw.get("electronic-resource-num", ""))
    if doi:
        return doi
    for path in ("urls/related-urls/url", "urls/web-urls/url", "urls/text-urls/url"):
        for url in raw.get(path, []):
            doi = normalise_doi(url) if "doi" in url.lower() else ""
            if doi:
                return doi
    return ""


def _pmid(raw):
    accession = _first(raw, "accession-num")
    if not PMID_ACCESSION_RE.fullmatch(accession):
        return ""
    # EndNote names the source database of records it fetched; when it names one other than
    # PubMed the number is that database's accession number. Mendeley names none but writes
    # PMIDs here.
    database = " ".join(
        _first(raw, path) for path in ("remote-database-name", "remote-database-provider")
    )
    if database.strip() and not PUBMED_NAME_RE.search(database):
        return ""
    return accession


def _entry(record, position):
    raw = {}
    _collect(record, "", raw)
    authors = raw.get("contributors/authors/author", [])
    return ParsedEntry(
        position=position,
        raw=raw,
        source_id=_first(raw, "rec-number", "accession-num"),
        title=_first(raw, "titles/title"),
        abstract=_first(raw, "abstract"),
        authors=list(authors) if isinstance(authors, list) else [authors],
        year=_first(raw, "dates/year", "dates/pub-dates/date") or None,
        journal=_first(
            raw,
            "periodical/full-title",
            "titles/secondary-title",
            "alt-periodical/full-title",
            "periodical/abbr-1",
        ),
        volume=_first(raw, "volume"),
        # EndNote itself writes a journal issue as <number>; Zotero writes both, Mendeley
        # only <issue>.
        issue=_first(raw, "issue", "number"),
        pages=_first(raw, "pages"),
        doi=_doi(raw),
        pmid=_pmid(raw),
        url=_first(raw, "urls/related-urls/url", "urls/web-urls/url"),
        keywords=list(raw.get("keywords/keyword", [])),
        language=_first(raw, "language"),
        publication_type=_first(raw, "ref-type@name"),
    )
