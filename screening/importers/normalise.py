"""Cleaning the fields parsers map: markup, whitespace, DOIs, years, authors."""

import html
import re
import unicodedata

TAG_RE = re.compile(r"</?[a-zA-Z][^<>]{0,200}>")
DOI_RE = re.compile(r"10\.\d{4,9}/\S+", re.IGNORECASE)
YEAR_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)(?!\d)")
COMPACT_DATE_RE = re.compile(r"(?<!\d)(1[5-9]\d\d|20\d\d|21\d\d)[01]\d[0-3]\d(?!\d)")
PMID_RE = re.compile(r"\d{1,9}")


def clean_text(value):
    """Plain text: HTML entities decoded, tags removed, whitespace collapsed.

    Abstracts arrive with <i>, <sup>, &amp; and worse; we store text, never markup, and the
    templates escape it again on output.
    """
    if type(value) is str:
        text = value
        # Already clean, as most values are: printable (so no whitespace but the plain space,
        # which isprintable() rejects for every other kind; for long text _single_spaced
        # checks that faster), no double, leading or trailing spaces. Scanning is cheaper
        # than splitting a long abstract into words and back.
        if (
            "&" not in text
            and "<" not in text
            and (text.isprintable() if len(text) < 100 else _single_spaced(text))
            and "  " not in text
        ):
            return text if text[:1] != " " and text[-1:] != " " else text.strip(" ")
    elif value is None:
        return ""
    elif isinstance(value, list | tuple):
        text = " ".join(str(v) for v in value if v)
    else:
        text = str(value)
    if "&" in text:
        text = html.unescape(text)
    if "<" in text:
        text = TAG_RE.sub(" ", text)
        if "&" in text:
            text = html.unescape(text)
    # str.split() splits on exactly the characters \s matches, and is twice as fast as a
    # regex here, which matters on 100,000 abstracts.
    return " ".join(text.split())


def _single_spaced(text):
    """No whitespace but the plain space: for ASCII text (most abstracts), nine searches for
    the other characters str.split() splits on, each a memchr(), take a tenth of the time
    isprintable() needs to read a 1,000-character abstract; other text must be printable."""
    if not text.isascii():
        return text.isprintable()
    return not (
        "\n" in text or "\t" in text or "\r" in text or "\x0b" in text or "\x0c" in text
        or "\x1c" in text or "\x1d" in text or "\x1e" in text or "\x1f" in text
    )  # fmt: skip


def normalise_doi(value):
    """Lower-case DOI without a resolver prefix: 'https://doi.org/10.1/AB' -> '10.1/ab'."""
    if not value:
        return ""
    match = DOI_RE.search(html.unescape(str(value)))
    if not match:
        return ""
    doi = match.group(0).lower().rstrip(".,;")
    # A trailing bracket usually belongs to the surrounding text, not the DOI.
    if doi.endswith(")") and doi.count("(") < doi.count(")"):
        doi = doi[:-1]
    return doi[:255]


def normalise_pmid(value):
    if not value:
        return ""
    match = PMID_RE.search(str(value))
    return match.group(0) if match else ""


def parse_year(value):
    """The first plausible year in a date field ('2019/05/01', 'Spring 2008', '2008a')."""
    if value is None:
        return None
    if isinstance(value, int):
        return value if 1500 <= value <= 2199 else None
    if type(value) is str and len(value) == 4 and value.isascii() and value.isdigit():
        # The usual '2011': what the regexes would find, without running them.
        year = int(value)
        return year if 1500 <= year <= 2199 else None
    match = YEAR_RE.search(str(value)) or COMPACT_DATE_RE.search(str(value))
    return int(match.group(1)) if match else None


def split_authors(value, separator=";"):
    """A list of author names from a list or a separated string, cleaned, empties dropped."""
    if not value:
        return []
    items = value if isinstance(value, list | tuple) else str(value).split(separator)
    return [name for name in map(clean_text, items) if name]


def join_pages(start, end):
    start, end = clean_text(start), clean_text(end)
    if start and end and end != start:
        return f"{start}-{end}"
    return start or end


def split_keywords(value):
    if not value:
        return []
    if isinstance(value, list | tuple):
        items = []
        for v in value:
            if type(v) is str and ";" not in v and "\n" not in v:  # one keyword, inline
                if cleaned := clean_text(v):
                    items.append(cleaned)
            else:
                items.extend(split_keywords(v))
        return items
    text = str(value)
    if ";" not in text and "\n" not in text:
        cleaned = clean_text(text)
        return [cleaned] if cleaned else []
    return [k for k in (clean_text(part) for part in re.split(r"[;\n]", text)) if k]


def fold(text):
    """ASCII-folded lower-case text, for comparisons and keys (not for display)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def normalise_entry(entry):
    """Clean a ParsedEntry's mapped fields in place and return it."""
    entry.title = clean_text(entry.title)
    entry.abstract = clean_text(entry.abstract)
    entry.authors = split_authors(entry.authors)
    entry.journal = clean_text(entry.journal)
    entry.volume = clean_text(entry.volume)[:50]
    entry.issue = clean_text(entry.issue)[:50]
    entry.pages = clean_text(entry.pages)[:50]
    entry.doi = normalise_doi(entry.doi)
    entry.pmid = normalise_pmid(entry.pmid)
    entry.url = clean_text(entry.url)[:2000]
    entry.keywords = split_keywords(entry.keywords)
    entry.language = clean_text(entry.language)[:50]
    entry.publication_type = clean_text(entry.publication_type)[:100]
    entry.source_id = clean_text(entry.source_id)[:255]
    if not isinstance(entry.year, int):
        entry.year = parse_year(entry.year)
    return entry
