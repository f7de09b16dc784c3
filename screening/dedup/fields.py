"""Field normalisers: one record mapping in, the values deduplication compares out.

`prepare(record)` takes a mapping with the keys title, abstract, authors, year, journal, volume,
issue, pages, doi, pmid and publication_type (any may be missing or empty) and returns a
`DedupFields`. It reuses the importers' cleaners (clean_text, fold, normalise_doi, parse_year)
and adds what comparison needs on top: titles without markup, language tags and prefixes,
surnames rather than full names, a loose journal form, first pages, and the flags that mark
notices (errata, comments, retractions) and conference abstracts.

prepare() runs once per imported record, so it computes only what blocking needs (title, first
author, year, first page, DOI, PMID); the fields only scoring reads (the other authors, journal,
volume, issue, abstract and the notice flags) are computed on first access, and most records
are never in a candidate pair.

No Django here: the engine runs on plain mappings so the benchmark can drive it directly.
"""

import functools
import re
from dataclasses import dataclass
from urllib.parse import unquote

from screening.importers.normalise import (
    clean_text,
    fold,
    normalise_doi,
    normalise_pmid,
    parse_year,
)

# Inline markup inside words (K<inf>Ca</inf>3.1, ApoE<sup>-/-</sup>) is removed without a
# space, so the word stays whole; clean_text turns the remaining tags into spaces.
INLINE_TAG_RE = re.compile(r"</?(?:sup|sub|inf|i|b|em|strong|scp|span)\b[^<>]{0,100}>", re.I)
NON_ALNUM_RE = re.compile(r"[^a-z0-9]+")
ASCII_SQUEEZE = str.maketrans("", "", "".join(c for c in map(chr, range(128)) if not c.isalnum()))
# For ASCII text encoded as bytes (bytes.translate is several times faster than str's):
# NON_ALNUM_RE.sub(" ", text.lower()) in one pass, and the deletion of all but letters and
# digits in lower-case text.
_ALNUM_BYTES = b"abcdefghijklmnopqrstuvwxyz0123456789"
BYTES_LOWER_NON_ALNUM_TO_SPACE = bytes(
    c if c in _ALNUM_BYTES else c + 32 if 65 <= c <= 90 else 32 for c in range(256)
)
BYTES_NON_ALNUM = bytes(c for c in range(256) if c not in _ALNUM_BYTES)
GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ω": "omega",
}
GREEK_RE = re.compile("|".join(GREEK))
# Roman numerals as words: "type II" and "type 2", "DPP-IV" and "DPP-4" are written both ways.
# A lone "i" is only a numeral after these words (otherwise it is a pronoun or an initial).
ROMAN = {"ii": "2", "iii": "3", "iv": "4", "vi": "6", "vii": "7", "viii": "8", "ix": "9"}
ROMAN_I_AFTER = {"type", "phase", "part", "class", "stage", "grade", "complex", "study"}
ROMAN_OR_I = frozenset(ROMAN) | {"i"}

LANGUAGES = (
    "russian|chinese|japanese|german|french|spanish|italian|portuguese|polish|czech|dutch|"
    "hungarian|turkish|korean|norwegian|danish|swedish|finnish|slovak|ukrainian|croatian|"
    "serbian|romanian|bulgarian|greek|hebrew|persian|arabic|lithuanian|slovenian|estonian"
)
# "Title. [Russian]", "Title [in Japanese]", "Title (author's transl)": markers the indexing
# database adds; the other database's record of the same article has none. Only tried on
# titles ending in a bracket (an end-anchored regex is slow on every title).
LANGUAGE_TAG_RE = re.compile(
    rf"\s*[\[(](?:in\s+)?(?:{LANGUAGES})(?:\s+with\s+\w+\s+abstract)?[\])]\.?\s*$"
    rf"|\s*\((?:author'?s'? transl|authors? translation)\)\.?\s*$",
    re.I,
)
# Trailing "[Review] [33 refs]", "(Review)", "[abstract]", "[Letter]", "[Editorial]" added by
# Ovid/MEDLINE; they describe the record, not the title.
TRAILING_NOTE_RE = re.compile(
    r"(?:\s*[\[(](?:review|\d+\s*refs?|abstract(?:\s+no[:.]?\s*\w+)?|letter|editorial|"
    r"comment|meta-?analysis|systematic review|published erratum[^\])]*|"
    r"erratum (?:appears )?in[^\])]*|see comments?)[\])]\.?)+\s*$",
    re.I,
)
ERRATUM_SUFFIX_RE = re.compile(
    r"\s*[\[(]?\s*(?:erratum (?:appears )?in|published erratum)\b.*$", re.I
)
# Leading labels that some sources put before the real title.
PREFIX_RE = re.compile(
    r"^\s*(?:(?:review|reprint|withdrawn|retracted(?: article)?|original article|"
    r"original research|research article|research letter|brief report|short communication|"
    r"clinical study|case report|abstracts?|poster(?: session)?|oral presentation)\s*[:.\-]\s*)+",
    re.I,
)
# The first letters of PREFIX_RE's labels: a cheap test before it, for ASCII titles.
PREFIX_FIRST_LETTERS = frozenset("rwobscapRWOBSCAP")
LEADING_ARTICLE_RE = re.compile(r"^(?:the|a|an) ")
LEADING_ARTICLES = frozenset(("the", "a", "an"))  # LEADING_ARTICLE_RE on a list of words
# "Main title [Other-language title]": a bracket of several words at the end.
BRACKETED_ALT_RE = re.compile(r"^(.{10,}?)\s*\[([^\[\]]{10,})\]$")

# Notices that are separate works from the article they concern. A notice and its article
# share title words (often the whole title), authors and sometimes a DOI, and must never merge.
ERRATUM_RE = re.compile(
    r"^\s*(?:erratum|errata|corrigendum|corrigenda|correction|author correction|"
    r"publisher correction|publisher'?s note|notice of (?:correction|duplicate))\b"
    r"|\b(?:erratum|corrigendum) (?:to|for|on)\b",
    re.I,
)
COMMENT_RE = re.compile(
    r"^\s*(?:comment(?:ary)? (?:on|to)|re:|in reply|reply|response to|author'?s'? reply|"
    r"authors'? response|letter to the editor|correspondence|a response to)\b"
    r"|\b(?:reply to|response to the comment|comment on)\b",
    re.I,
)
RETRACTION_RE = re.compile(
    r"^\s*(?:retraction(?: note| notice)?|notice of retraction|expression of concern|"
    r"withdrawal)\b",
    re.I,
)
ERRATUM_TYPE_RE = re.compile(r"errat|correction|corrigend", re.I)
RETRACTION_TYPE_RE = re.compile(r"retraction|expression of concern", re.I)
# Conference material: the abstract of a talk and the later journal article of the same study
# are distinct works (the gold standards of ASySD and bib-dedupe treat them so).
# ("Proceedings" is not among the journal words: PNAS and Mayo Clinic Proceedings are journals.)
CONFERENCE_RE = re.compile(
    r"\b(?:conference|congress|meeting|symposium|scientific sessions|"
    r"abstracts?|annual session|workshop|summit|colloquium)\b",
    re.I,
)
CONFERENCE_TYPE_RE = re.compile(r"conference|congress|meeting|proceeding|abstract|poster", re.I)
SUPPLEMENT_RE = re.compile(r"supp|meeting\s*a|abstr", re.I)

JOURNAL_STOPWORDS = {
    "of", "the", "and", "for", "in", "on", "to", "de", "des", "du", "la", "le", "les", "d", "l",
    "et", "und", "fur", "der", "die", "das", "y", "e", "i", "an", "official", "online",
}  # fmt: skip
# Full words that have a standard short form that is not a prefix of them.
JOURNAL_WORDS = {"journal": "j", "american": "am", "british": "br", "society": "soc"}
JOURNAL_MEETING_RE = re.compile(r"\.\s*(?:conference|meeting|congress)\b", re.I)
JOURNAL_PARENTHESIS_RE = re.compile(r"\s*\([^()]*\)\s*$")
JOURNAL_BRACKET_RE = re.compile(r"\s*\[[^\[\]]*\]\s*$")

MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
DAY_MONTH_RE = re.compile(r"^0?(\d{1,2})-([a-z]{3})[a-z]*$", re.I)
MONTH_NUMBER_RE = re.compile(r"^([a-z]{3})[a-z]*-(\d{1,4})$", re.I)
PAGE_RE = re.compile(r"[a-z]{0,4}\.?\s*(\d+)", re.I)
ASCII_DIGITS = frozenset("0123456789")
INTEGER_RE = re.compile(r"\d+")
ABSTRACT_CHARS = 400  # enough to tell two abstracts apart, small enough for 100,000 records

INITIALS_RE = re.compile(r"^(?:[A-Z]\.?-?){1,4}$|^(?:[A-Z]\.\s*)+$")
# "Adeli K.Lewis G. F.": a new name starts right after an initial's dot with two letters
# (a further initial is one letter: "Smith J.A.Jones K." splits only before "Jones").
RUN_TOGETHER_RE = re.compile(r"(?<=[A-Z]\.)(?=[^\W\d_]{2})")
# Finds the same places (as the dot before them), faster: the regex engine looks for the dot.
RUN_TOGETHER_DOT_RE = re.compile(r"\.(?<=[A-Z]\.)(?=[^\W\d_]{2})")
AND_RE = re.compile(r",?\s+and\s+")
AFTER_INITIAL_COMMA_RE = re.compile(r"(?<=\.),\s+")
NAME_START_RE = re.compile(r"[^\W\d_]{2}")  # a surname first, not an initial ("J.Smith")
VANCOUVER_RE = re.compile(r"^[^,]+ [A-Z]{1,4}(?:, [^,]+ [A-Z]{1,4})+,?$")
NAME_PARTICLES = {"van", "von", "der", "den", "de", "da", "di", "del", "della", "la", "le", "du"}
ORGANISATION_RE = re.compile(
    r"\b(?:group|organi[sz]ation|society|association|committee|consortium|council|"
    r"collaborat\w*|investigators|team|agency|institute|university|department|network|"
    r"working party|task force)\b",
    re.I,
)
# The same without re.I, for lower-cased ASCII names (case-insensitive matching is slower).
ORGANISATION_LOWER_RE = re.compile(ORGANISATION_RE.pattern)
NAME_SUFFIXES = {"jr", "sr", "ii", "iii", "iv", "2nd", "3rd"}
NO_AUTHOR = {"anonymous", "anon", "na", "unknown", "etal"}  # squeezed
MAX_AUTHORS = 10  # scoring compares the first ten surnames


# The fields prepare() leaves until first read: only score_pair() reads them. (It computes
# the others at once: title, title_sq, alt_title, first_author, year, first_page, doi, pmid,
# which blocking_keys() and find_pairs() read for every record.)
LAZY_FIELDS = frozenset(("authors", "journal", "volume", "issue", "abstract", "is_erratum",
                         "is_comment", "is_retraction", "is_abstract_only"))  # fmt: skip


@dataclass(frozen=True, init=False)
class DedupFields:
    """Normalised values of one record, ready for blocking and scoring.

    Strings are folded (lower-case ASCII) and empty when unknown; `year` is None when unknown.
    Built by prepare(), the fields in LAZY_FIELDS are computed when one of them is first read
    (see _fill_details); equality, hash, repr and pickling see the computed values.
    """

    __slots__ = ("title", "title_sq", "alt_title", "authors", "first_author", "year", "journal",
                 "volume", "issue", "first_page", "doi", "pmid", "abstract", "is_erratum",
                 "is_comment", "is_retraction", "is_abstract_only", "_source")  # fmt: skip

    title: str  # words separated by single spaces, leading article dropped
    title_sq: str  # title without spaces: robust to "d isease", "ApoE -/-"
    alt_title: str  # the other language's title, from "[...]" after or around it
    authors: tuple  # first ten surnames, squeezed ("El Hachmane" -> "elhachmane")
    first_author: str
    year: int | None
    journal: str  # words, stop words dropped, "journal" -> "j"
    volume: str  # first integer, no leading zeros
    issue: str
    first_page: str  # digits only: "e123" -> "123", "S12" -> "12", "123-9" -> "123"
    doi: str
    pmid: str
    abstract: str  # first ABSTRACT_CHARS of the folded, squeezed abstract
    is_erratum: bool
    is_comment: bool
    is_retraction: bool
    is_abstract_only: bool  # conference abstract or meeting supplement

    def __init__(
        self,
        title="",
        title_sq="",
        alt_title="",
        authors=(),
        first_author="",
        year=None,
        journal="",
        volume="",
        issue="",
        first_page="",
        doi="",
        pmid="",
        abstract="",
        is_erratum=False,
        is_comment=False,
        is_retraction=False,
        is_abstract_only=False,
    ):
        values = locals()
        for name in FIELD_NAMES:
            _set(self, name, values[name])
        _set(self, "_source", None)

    def __getattr__(self, name):
        # Only called for a slot not set yet: a lazy field of a record from prepare().
        if name not in LAZY_FIELDS:
            raise AttributeError(f"'DedupFields' object has no attribute '{name}'")
        _fill_details(self)
        return object.__getattribute__(self, name)

    def __reduce__(self):
        return (DedupFields, tuple(getattr(self, name) for name in FIELD_NAMES))

    @property
    def kind(self):
        """The record's kind of work: notices never merge with the article they concern."""
        if self.is_erratum:
            return "erratum"
        if self.is_retraction:
            return "retraction"
        if self.is_comment:
            return "comment"
        return "work"


FIELD_NAMES = tuple(DedupFields.__dataclass_fields__)
_new = object.__new__
_set = object.__setattr__  # DedupFields is frozen: its own __setattr__ refuses


def _clean(value):
    """clean_text(value), skipping its regexes when there is nothing for them to do.

    Most field values are already plain single-spaced text; prepare() cleans a dozen values per
    record and this keeps 100,000 records fast.
    """
    if type(value) is str:
        if "&" not in value and "<" not in value and "  " not in value and value.isprintable():
            return value.strip()
        return clean_text(value)
    if value is None:
        return ""
    return clean_text(value)


def _fold(text):
    """fold(), with a fast path for the ASCII text most fields are."""
    return text.lower() if text.isascii() else fold(text)


def _squeeze(text):
    """Folded text with everything but letters and digits removed."""
    if text.isascii():
        return text.lower().translate(ASCII_SQUEEZE)
    return NON_ALNUM_RE.sub("", fold(text).lower())


def _words(text):
    """Folded text as words: non-alphanumerics become spaces, Greek letters are spelled."""
    if text.isascii():
        text = text.encode("ascii").translate(BYTES_LOWER_NON_ALNUM_TO_SPACE)
        words = text.decode("ascii").split()
    else:
        text = fold(text)
        if GREEK_RE.search(text):
            text = GREEK_RE.sub(lambda m: " " + GREEK[m.group(0)] + " ", text)
        words = NON_ALNUM_RE.sub(" ", text).split()
    if ROMAN_OR_I.isdisjoint(words):
        return words
    out = []
    for i, word in enumerate(words):
        if word in ROMAN:
            word = ROMAN[word]
        elif word == "i" and i and words[i - 1] in ROMAN_I_AFTER:
            word = "1"
        out.append(word)
    return out


def _join_title(words):
    """ " ".join(words) without a leading article: LEADING_ARTICLE_RE on the joined words."""
    if len(words) > 1 and words[0] in LEADING_ARTICLES:
        return " ".join(words[1:])
    return " ".join(words)


def _sub_tail(pattern, text, window=200):
    """pattern.sub("", text) for a pattern anchored at the end, searching the tail only.

    An end-anchored regex is tried at every position of the string; the notes it removes are
    short, so trying the last `window` characters gives the same result much faster.
    """
    if len(text) <= window:
        return pattern.sub("", text)
    return text[:-window] + pattern.sub("", text[-window:])


def _strip_title(text):
    """Remove database notes around a title (language tags, [Review], 'Review:').

    The result is a fixed point: _strip_title(_strip_title(t)) == _strip_title(t).
    """
    previous = None
    while previous != text:
        previous = text
        if text[-1:] in ")]":
            text = _sub_tail(LANGUAGE_TAG_RE, text)
            text = _sub_tail(TRAILING_NOTE_RE, text)
        if "rratum" in text.lower():
            text = _sub_tail(ERRATUM_SUFFIX_RE, text)
        # PREFIX_RE cannot match ASCII text that does not start with one of its labels' letters.
        if text.lstrip()[:1] in PREFIX_FIRST_LETTERS or not text.isascii():
            text = PREFIX_RE.sub("", text)
        text = text.strip().rstrip(".").strip()
    return text


def normalise_title(value, cleaned=False):
    """(title words, alternative-language title words) of a raw title.

    Databases index non-English articles as "[English translation]" (MEDLINE), as "English
    title [Original title]" or "Original [English]"; both parts are kept so that either can
    match the other database's version.
    """
    text = value if cleaned else clean_text(INLINE_TAG_RE.sub("", str(value or "")))
    text = _strip_title(text)
    alt = ""
    if text[:1] == "[" or text[-1:] == "]":
        text, alt = _split_brackets(text)
    # (Otherwise text is _strip_title's result already, which it would return unchanged.)
    words = _words(text)
    if len(words) > 1 and words[0] in LEADING_ARTICLES:
        words = words[1:]  # LEADING_ARTICLE_RE on the joined words
    title = " ".join(words)
    alt_title = _join_title(_words(alt)) if alt else ""
    return title, alt_title


def _split_brackets(text):
    """(title, alternative-language title) of a stripped title starting with "[" or ending
    with "]", the title stripped again."""
    if text.startswith("[") and text.endswith("]") and text.count("[") == 1:
        return _strip_title(text[1:-1]), ""
    # "Main title [Other-language title]": a bracket of several words at the end.
    # (_strip_title's results have no trailing newline: "\]$" needs a final "]".)
    match = BRACKETED_ALT_RE.search(text) if text.endswith("]") else None
    if match and len(match.group(2).split()) >= 2:
        return _strip_title(match.group(1)), match.group(2)
    if text.startswith("[") and "]" in text:
        # "[Original title] English title" or "[Translated]. Subtitle".
        close = text.index("]")
        inner, rest = text[1:close], text[close + 1 :].strip(" .:")
        if len(inner.split()) >= 3 and len(rest.split()) >= 3:
            return _strip_title(inner), rest
        return _strip_title((inner + " " + rest).strip()), ""
    return text, ""  # _strip_title(text) is text


def surname(name):
    """The folded, squeezed surname of one author name in any of the usual forms.

    "Smith, John A." / "Smith JA" / "Smith J. A." / "J. A. Smith" / "John Smith" -> "smith";
    "van der Berg, K." -> "vanderberg"; organisation names come back squeezed whole.
    """
    name = _clean(name)
    if not name:
        return ""
    if (
        ORGANISATION_LOWER_RE.search(name.lower())
        if name.isascii()
        else ORGANISATION_RE.search(name)
    ):
        pass  # "World Health Organization", "DCCT Research Group": the whole name
    elif "," in name:
        name = name.split(",", 1)[0]
    else:
        tokens = name.split()
        while len(tokens) > 1 and (
            INITIALS_RE.match(tokens[-1]) or tokens[-1].lower().strip(".") in NAME_SUFFIXES
        ):
            tokens.pop()
        if len(tokens) > 1 and len(tokens) == len(name.split()):
            # No trailing initials: "J. A. Smith" or "John Smith" -> the last name, with the
            # particles that belong to it ("Ludwig van Beethoven" -> "van beethoven").
            start = len(tokens) - 1
            while start > 1 and tokens[start - 1].lower() in NAME_PARTICLES:
                start -= 1
            tokens = tokens[start:]
        name = " ".join(tokens)
    squeezed = _squeeze(name)
    return "" if squeezed in NO_AUTHOR else squeezed


# surname() of a name string, remembered: names repeat across records (20-50% of first authors
# in the import samples had appeared before in the same file), and duplicates share them.
_surname = functools.lru_cache(maxsize=8192)(surname)


def split_author_names(value, limit=None):
    """A list of author names from a list, a ';' / ' and ' string or a run-together export.

    Besides the separators the brief names, two exports are common enough to handle: the
    EndNote/Ovid CSV form "Adeli K.Lewis G. F." (names run together after the initials' dot)
    and the Vancouver form "Adeli K, Lewis GF". `limit`: at most that many names.
    """
    if not value:
        return []
    if isinstance(value, (list, tuple)):  # noqa: UP038 (faster than list | tuple)
        return [n for n in map(_clean, value[:limit]) if n]
    text = _clean(value)
    if ";" in text:
        parts = text.split(";")
    elif " and " in text:
        parts = AND_RE.split(text)
        # "Smith, J., Jones, K. and Brown, L." -> split the leading list too.
        if parts and parts[0].count(",") >= 3:
            head = AFTER_INITIAL_COMMA_RE.split(parts[0])
            parts = head + parts[1:]
    else:
        parts = RUN_TOGETHER_RE.split(text) if RUN_TOGETHER_DOT_RE.search(text) else None
        if parts and all(NAME_START_RE.match(p) for p in parts):
            pass
        elif VANCOUVER_RE.match(text):
            parts = text.split(",")
        else:
            parts = [text]
    return [p.strip() for p in parts[:limit] if p.strip()]


def normalise_journal(value):
    """Journal words for loose comparison: 'J. Am. Coll. Cardiol.' -> 'j am coll cardiol'.

    A trailing parenthesis ("Nutr Metab (Lond)") and everything after ". Conference:" go.
    """
    if type(value) is str:
        return _normalise_journal_text(value)  # cached: journals repeat a lot
    return _normalise_journal(value)


def _normalise_journal(value):
    text = _clean(value)
    if not text:
        return ""
    text = JOURNAL_MEETING_RE.split(text, maxsplit=1)[0]
    text = JOURNAL_PARENTHESIS_RE.sub("", text)
    text = JOURNAL_BRACKET_RE.sub("", text)
    words = [JOURNAL_WORDS.get(w, w) for w in NON_ALNUM_RE.sub(" ", _fold(text)).split()]
    return " ".join(w for w in words if w not in JOURNAL_STOPWORDS)


_normalise_journal_text = functools.lru_cache(maxsize=4096)(_normalise_journal)


def first_integer(value):
    text = _clean(value)
    if text.isdecimal():  # \d is a decimal digit, as isdecimal() reads it: "12", not ""
        return text.lstrip("0") or "0"
    match = INTEGER_RE.search(text)
    if not match:
        return ""
    return match.group(0).lstrip("0") or "0"


def first_page(value):
    """The first page as digits: '123-9' -> '123', 'e70933' -> '70933', 'S12' -> '12'.

    Spreadsheet exports turn ranges into dates ('01-Jul' was 1-7, 'Jan-32' was 1-32); those are
    read back. Runs of more than 8 digits are mangled e-locators (Excel's 2.05E+15) and a year
    standing in for a page is a misplaced field: both count as unknown.
    """
    text = _clean(value)
    if not text:
        return ""
    # A date form starts (month-number) or ends (day-month) with a letter: "123-135" is neither.
    if text[0] not in ASCII_DIGITS or text[-1] not in ASCII_DIGITS:
        match = DAY_MONTH_RE.match(text)
        if match and match.group(2).lower() in MONTHS:
            return match.group(1)
        match = MONTH_NUMBER_RE.match(text)
        if match and match.group(1).lower() in MONTHS:
            return str(MONTHS[match.group(1).lower()])
    match = PAGE_RE.search(text)
    if not match:
        return ""
    digits = match.group(1).lstrip("0") or "0"
    if len(digits) > 8:
        return ""
    return digits


def _doi(value):
    """normalise_doi, after undoing URL escapes ('S0735-1097%2813%29...' from resolver links)."""
    if not value:
        return ""
    text = str(value)
    if "%" in text:
        text = unquote(text)
    return normalise_doi(text)


# Words without which the notice patterns cannot match: a cheap test before the regexes.
NOTICE_HINTS = ("errat", "corrig", "correction", "note", "notice", "comment", "re:", "repl",
                "respon", "letter", "correspondence", "retract", "concern", "withdraw")  # fmt: skip
NOTICE_HINT_RE = re.compile("|".join(map(re.escape, NOTICE_HINTS)))  # any(h in text for h ...)


def _snapshot(value):
    """An immutable stand-in for a raw value, with the same _clean() result.

    clean_text() reads a list or tuple as its items joined by spaces and anything else as
    str(value); the lazy fields are computed from these, so a caller that changes its record
    after prepare() does not change them.
    """
    if value is None or type(value) is str:
        return value
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value if v)
    return str(value)


def prepare(record):
    """DedupFields for one record mapping (missing keys and None are fine)."""
    get = record.get
    raw_title = _raw_title(get("title"))
    title, alt_title = normalise_title(raw_title, cleaned=True)
    names = split_author_names(get("authors"), limit=MAX_AUTHORS + 2)
    first_author = _first_surname(names)
    year, page = _year_and_page(get("year"), get("pages"))

    fields = _new(DedupFields)
    _set(fields, "title", title)
    _set(fields, "title_sq", title.replace(" ", ""))
    _set(fields, "alt_title", alt_title)
    _set(fields, "first_author", first_author)
    _set(fields, "year", year)
    _set(fields, "first_page", page)
    _set(fields, "doi", _doi(get("doi")))
    _set(fields, "pmid", normalise_pmid(get("pmid")))
    # Only the first ABSTRACT_CHARS are kept: clean a slice with room for markup and spaces.
    abstract = get("abstract")
    abstract = str(abstract)[: ABSTRACT_CHARS * 3 // 2] if abstract else ""
    journal, volume, issue = get("journal"), get("volume"), get("issue")
    publication_type = get("publication_type")
    if not (type(journal) is type(volume) is type(issue) is type(publication_type) is str):
        journal, volume, issue, publication_type = map(
            _snapshot, (journal, volume, issue, publication_type)
        )
    # Strings only, names joined by "\n" (cleaned names have no newline): no container the
    # garbage collector has to keep visiting.
    source = (raw_title, "\n".join(names), abstract, journal, volume, issue, publication_type)
    _set(fields, "_source", source)
    return fields


def key_fields(record):
    """(title_sq, first_author, year, first_page, doi, pmid) of one record mapping, exactly as
    prepare(record) has them: what blocking_keys() reads, without the rest of DedupFields,
    for an import's records (most of which are never compared with another)."""
    get = record.get
    title, _ = normalise_title(_raw_title(get("title")), cleaned=True)
    authors = get("authors")
    if isinstance(authors, list | tuple):
        # split_author_names(authors, limit=...), cleaned only as far as the first surname.
        names = (name for name in map(_clean, authors[: MAX_AUTHORS + 2]) if name)
    else:
        names = split_author_names(authors, limit=MAX_AUTHORS + 2)
    year, page = _year_and_page(get("year"), get("pages"))
    doi, pmid = _doi(get("doi")), normalise_pmid(get("pmid"))
    return title.replace(" ", ""), _first_surname(names), year, page, doi, pmid


def _raw_title(value):
    """The title as prepare() reads it: no inline tags, cleaned."""
    raw_title = str(value or "")
    if "<" in raw_title:
        raw_title = INLINE_TAG_RE.sub("", raw_title)
    return _clean(raw_title)


def _first_surname(names):
    """authors[0]: the surname of the first name that has one."""
    for name in names:
        surname_ = _surname(name)
        if surname_:
            return surname_
    return ""


def _year_and_page(year, pages):
    """(year, first page): no first page when it is the year (a misfiled field)."""
    year = parse_year(year)
    page = first_page(_clean(pages))
    if page and year and page == str(year):
        page = ""
    return year, page


# The lazy fields' parts that depend on one raw value, which repeats across records (journal
# names, publication types, volume and issue numbers): computed once per distinct value.
# Raw values here are str or None (see _snapshot).
@functools.lru_cache(maxsize=4096)
def _journal_details(journal):
    """(journal words, conference?) of a raw journal value."""
    text = _clean(journal)
    return normalise_journal(text), CONFERENCE_RE.search(text) is not None


@functools.lru_cache(maxsize=1024)
def _type_flags(publication_type):
    """(erratum?, retraction?, conference?) of a raw publication type."""
    text = _clean(publication_type)
    return (
        ERRATUM_TYPE_RE.search(text) is not None,
        RETRACTION_TYPE_RE.search(text) is not None,
        CONFERENCE_TYPE_RE.search(text) is not None,
    )


@functools.lru_cache(maxsize=4096)
def _number_details(value):
    """(first integer, supplement?) of a raw volume or issue."""
    text = _clean(value)
    return first_integer(text), SUPPLEMENT_RE.search(text) is not None


def _fill_details(fields):
    """Compute the lazy fields (LAZY_FIELDS) of a DedupFields from prepare()."""
    source = fields._source
    if source is None:  # another thread filled them meanwhile
        return
    raw_title, names, abstract, journal, volume, issue, publication_type = source
    journal, conference_journal = _journal_details(journal)
    erratum_type, retraction_type, conference_type = _type_flags(publication_type)
    volume, supplement_volume = _number_details(volume)
    issue, supplement_issue = _number_details(issue)
    names = names.split("\n") if names else ()
    authors = tuple(s for s in map(_surname, names) if s)[:MAX_AUTHORS]
    if "&" in abstract or "<" in abstract:
        abstract = _squeeze(_clean(abstract))[:ABSTRACT_CHARS]
    elif abstract.isascii():
        # Cleaning only changes whitespace here, which squeezing removes anyway.
        abstract = abstract.encode("ascii").lower().translate(None, BYTES_NON_ALNUM)
        abstract = abstract[:ABSTRACT_CHARS].decode("ascii")
    else:
        abstract = _squeeze(abstract)[:ABSTRACT_CHARS]

    notice = NOTICE_HINT_RE.search(raw_title.lower()) is not None
    is_erratum = (notice and ERRATUM_RE.search(raw_title) is not None) or erratum_type
    is_retraction = (notice and RETRACTION_RE.search(raw_title) is not None) or retraction_type
    # Publication types such as "Letter" describe many original works too, and databases
    # disagree on them; a comment is recognised by its title only.
    is_comment = notice and COMMENT_RE.search(raw_title) is not None
    _set(fields, "authors", authors)
    _set(fields, "journal", journal)
    _set(fields, "volume", volume)
    _set(fields, "issue", issue)
    _set(fields, "abstract", abstract)
    _set(fields, "is_erratum", is_erratum)
    _set(fields, "is_comment", is_comment and not is_erratum)
    _set(fields, "is_retraction", is_retraction)
    _set(
        fields,
        "is_abstract_only",
        conference_journal or conference_type or supplement_volume or supplement_issue,
    )
    _set(fields, "_source", None)
