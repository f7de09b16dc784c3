"""BibTeX and BibLaTeX, split into blocks by bibtexparser 2.

We run bibtexparser with an empty middleware stack and evaluate field values ourselves
(@string macros, `#` concatenation, outer braces or quotes): its middlewares skip entries that
it files as failed blocks, and two of those (a repeated citation key, a repeated field) are
common in real exports and perfectly importable. LaTeX is decoded only in the fields we show,
and only when they contain a backslash: pylatexenc is about 60 times slower than splitting.
"""

import contextlib
import logging
import re
from collections.abc import Iterator

import bibtexparser
from bibtexparser.middlewares.names import (
    parse_single_name_into_parts,
    split_multiple_persons_names,
)
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    ParsingFailedBlock,
    String,
)

from .base import ImportFileError, ParsedEntry

PAGE_RANGE_RE = re.compile(r"\s*(?:-{1,3}|[\u2010-\u2015\u2212])\s*")
KEY_RE = re.compile(r"@\s*\w+\s*[{(]\s*([^,\s{}()=]+)\s*,")
# Europe PMC writes the PMID as the citation key: @article {PMID:36788546, ...
PMID_KEY_RE = re.compile(r"PMID:?(\d{1,9})", re.IGNORECASE)
BARE_TOKEN_RE = re.compile(r"[^\s{}\"#]+")
# Escapes that Zotero and others put in plain prose (\%, {\textless}); replacing them directly
# spares most abstracts the slow full decoder.
SIMPLE_LATEX_RE = re.compile(
    r"\{\\(textless|textgreater)\}|\\(textless|textgreater)(?![a-zA-Z])(?:\{\})?|\\([%&_#$])"
)
SIMPLE_LATEX = {"textless": "<", "textgreater": ">"}

logger = logging.getLogger(__name__)
_decoder = None


def parse(stream, *, filename="") -> Iterator[ParsedEntry]:
    """Yield one ParsedEntry per entry; a block bibtexparser cannot split rejects the file."""
    library = bibtexparser.parse_string(stream.read(), parse_stack=[])
    strings = {}
    entries = []
    for block in library.blocks:
        if isinstance(block, DuplicateBlockKeyBlock | DuplicateFieldKeyBlock):
            # A repeated citation key (two records, often duplicates, which deduplication
            # handles later) or a repeated field (Scopus repeats funding_details): the entry
            # itself is intact.
            block = block.ignore_error_block
        elif isinstance(block, ParsingFailedBlock):
            raise _failure(block, filename)
        if isinstance(block, String):
            # BibTeX lets a macro use earlier macros; later definitions win.
            value = _checked_value(block.value, strings, block, block, filename)
            strings[block.key.lower()] = value
        elif isinstance(block, Entry):
            entries.append(block)
    # @comment, @preamble and text between entries are not records.

    fields_by_key = {}
    evaluated = []
    for entry in entries:
        fields = _fields(entry, strings, filename)
        fields_by_key.setdefault(entry.key.lower(), fields)
        evaluated.append((entry, fields))
    for position, (entry, fields) in enumerate(evaluated, start=1):
        parent = fields_by_key.get(_get(fields, "crossref").lower(), {})
        yield _parsed(entry, fields, parent, position)


def _failure(block, filename):
    raw = block.raw or ""
    match = KEY_RE.match(raw.lstrip())
    reason = getattr(block.error, "abort_reason", "") or str(block.error) or "unreadable"
    return ImportFileError(
        f"this BibTeX entry could not be read: {reason.rstrip('.')}. "
        "Please correct it (or remove it) and upload the file again.",
        filename=filename,
        entry=match.group(1) if match else None,
        line=block.start_line + 1 if block.start_line is not None else None,
    )


def _fields(entry, strings, filename):
    """Field name (lower case) -> evaluated value, or list of values for a repeated field."""
    fields = {}
    for field in entry.fields:
        value = _checked_value(field.value, strings, entry, field, filename)
        key = field.key.lower()
        if key in fields:
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
    return fields


def _checked_value(value, strings, block, field, filename):
    """`_evaluate`, with a malformed value reported against its entry and line."""
    try:
        return _evaluate(value, strings)
    except ValueError as exc:
        line = field.start_line if field.start_line is not None else block.start_line
        raise ImportFileError(
            f"the value of field '{field.key}' is not valid BibTeX "
            "(is a comma missing after it, or a brace or quote unmatched?)",
            filename=filename,
            entry=block.key,
            line=line + 1 if line is not None else None,
        ) from exc


def _evaluate(value, strings):
    """The text of a BibTeX value: macros resolved, parts joined, outer delimiters removed."""
    if not isinstance(value, str):
        return str(value)
    text = []
    for part in _split_concatenation(value):
        part = part.strip()
        if _is_enclosed(part):
            text.append(part[1:-1])
        elif BARE_TOKEN_RE.fullmatch(part):
            # A number or a macro name; an unknown macro (month = jan) stays as written.
            text.append(strings.get(part.lower(), part))
        elif part:
            # bibtexparser ends a value at a comma or the closing brace, so a value that is
            # neither delimited nor a bare word ran into the next field.
            raise ValueError(part)
    return "".join(text)


def _split_concatenation(value):
    """Split 'a # {b} # "c"' at the #s that are outside braces and quotes."""
    parts, start, depth, quoted = [], 0, 0, False
    for index, char in enumerate(value):
        if index and value[index - 1] == "\\":
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            quoted = not quoted
        elif char == "#" and depth == 0 and not quoted:
            parts.append(value[start:index])
            start = index + 1
    parts.append(value[start:])
    return parts


def _is_enclosed(part):
    if len(part) < 2:
        return False
    if part[0] == '"' and part[-1] == '"':
        return True
    if part[0] != "{" or part[-1] != "}":
        return False
    # '{a} and {b}' starts and ends with braces that are not one pair.
    depth = 0
    for index, char in enumerate(part):
        if char == "{" and (index == 0 or part[index - 1] != "\\"):
            depth += 1
        elif char == "}" and part[index - 1] != "\\":
            depth -= 1
            if depth == 0 and index < len(part) - 1:
                return False
    return depth == 0


def _get(fields, *names):
    for name in names:
        value = fields.get(name)
        if isinstance(value, list):
            value = next((v for v in value if v), "")
        if value:
            return value
    return ""


def _latex_to_text(value):
    """Plain text from a LaTeX field value: accents, escapes and protecting braces."""
    if "\\" in value:
        simple = SIMPLE_LATEX_RE.sub(_simple_latex, value)
        if "\\" not in simple:
            value = simple
        else:
            # The full decoder must see the original: a bare & means something else to it.
            text = _decode_latex(value)
            if text is not None and "\\backslash" in value:
                # Mendeley escapes LaTeX once more (R$\backslash$'enyi): decode what remains.
                text = _decode_latex(text)
            if text is not None:
                return text
    if "{" in value or "}" in value or "~" in value:
        return value.replace("{", "").replace("}", "").replace("~", " ")
    return value


def _decode_latex(value):
    try:
        return _latex_decoder().latex_to_text(value)
    except Exception:  # pylatexenc parses tolerantly, but an import must never fail on it
        logger.warning("LaTeX decoding failed; keeping the text as written", exc_info=True)
        return None


def _simple_latex(match):
    name = match.group(1) or match.group(2)
    return SIMPLE_LATEX[name] if name else match.group(3)


def _latex_decoder():
    global _decoder
    if _decoder is None:
        from pylatexenc.latex2text import (
            LatexNodes2Text,
            MacroTextSpec,
            get_default_latex_context_db,
        )

        context = get_default_latex_context_db()
        # Like bibtexparser's decoding middleware: \url{x} is x, not <x>.
        # Unknown macros decode to nothing, so name the ones that appear in titles.
        macros = [
            MacroTextSpec("url", simplify_repl="%s"),
            MacroTextSpec("TeX", simplify_repl="TeX"),
            MacroTextSpec("LaTeX", simplify_repl="LaTeX"),
            MacroTextSpec("hyphen", simplify_repl="-"),
            MacroTextSpec("textless", simplify_repl="<"),
            MacroTextSpec("textgreater", simplify_repl=">"),
        ]
        context.add_context_category("reviewapp", prepend=True, macros=macros)
        _decoder = LatexNodes2Text(latex_context=context, math_mode="text")
    return _decoder


def _authors(value):
    """'Last, First' names from a BibTeX name list ('A. Smith and Jones, B. and {WHO}')."""
    names = []
    for name in split_multiple_persons_names(value):
        if name.strip().lower() == "others":
            continue  # 'and others' is BibTeX for et al.
        # An unparseable name is kept as written.
        with contextlib.suppress(ValueError):
            name = parse_single_name_into_parts(name, strict=False).merge_last_name_first
        names.append(_latex_to_text(name))
    return names


def _keywords(value):
    # Zotero and Mendeley separate keywords with commas, Scopus and others with semicolons.
    separator = ";" if ";" in value else ","
    return [_latex_to_text(k.strip()) for k in value.split(separator) if k.strip()]


def _pmid(entry, fields):
    if _get(fields, "pmid"):
        return _get(fields, "pmid")
    if _get(fields, "eprinttype").lower() == "pubmed":
        return _get(fields, "eprint")
    match = PMID_KEY_RE.fullmatch(entry.key)
    return match.group(1) if match else ""


def _parsed(entry, fields, parent, position):
    raw = {"ENTRYTYPE": entry.entry_type, "ID": entry.key}
    for field in entry.fields:
        value = fields[field.key.lower()]
        raw.setdefault(field.key, value)

    def inherited(*names):
        # BibTeX fills a missing field from the entry named in crossref (an @inbook's year
        # from its @book); the parent's title is the child's book title.
        return _get(fields, *names) or _get(parent, *names)

    journal = inherited("journal", "journaltitle", "booktitle") or _get(parent, "title")
    keywords = []
    for name in ("keywords", "keyword", "author_keywords"):
        keywords.extend(_keywords(_get(fields, name)))
    url = _get(fields, "url")
    return ParsedEntry(
        position=position,
        raw=raw,
        source_id=entry.key,
        line=entry.start_line + 1 if entry.start_line is not None else None,
        title=_latex_to_text(_get(fields, "title")),
        abstract=_latex_to_text(_get(fields, "abstract")),
        authors=_authors(_get(fields, "author")),
        year=inherited("year", "date") or None,
        journal=_latex_to_text(journal),
        volume=inherited("volume"),
        issue=_get(fields, "number", "issue"),
        pages=PAGE_RANGE_RE.sub("-", _get(fields, "pages")),
        doi=_get(fields, "doi") or (url if "doi.org/" in url else ""),
        pmid=_pmid(entry, fields),
        url=url,
        keywords=list(dict.fromkeys(keywords)),
        language=_get(fields, "language", "langid"),
        publication_type=entry.entry_type,
    )
