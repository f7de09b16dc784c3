"""Web of Science exports: tagged plain text ('Plain text file') and 'Tab-delimited file'.

Plain text: 'FN'/'VR' header, each record from 'PT J' to 'ER', two-letter tags in columns
1-2, the value from column 4, continuation lines indented three spaces, 'EF' closing the file.
Web of Science always writes that structure, so a break in it (a record without its 'ER', a
field outside any record, a missing 'EF') means the file was cut off or edited, and we reject
the file rather than import part of it. Exports joined one after another (EF then FN again)
are fine.
"""

import csv

from .base import ImportFileError, ParsedEntry
from .normalise import join_pages, parse_year

# Tags holding one item per line (an author, an address, a cited reference); on other tags
# a continuation line is the same text wrapped.
LINE_ITEM_TAGS = frozenset({"AU", "AF", "BA", "BF", "BE", "CA", "GP", "CR", "C1", "C3"})
HEADER_TAGS = frozenset({"FN", "VR"})
NO_RECORDS = "no Web of Science records found: expected a record starting with a line like 'PT J'"


def _records(stream, filename):
    """(start line, raw record) for each plain-text record, one at a time."""
    record, start, last_tag = None, 0, None
    count, closed, number = 0, False, 0
    for number, line in enumerate(stream, 1):
        if number == 1:
            line = line.lstrip("\ufeff")
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if line[0] in " \t":  # continuation of the value above
            if record is None:
                _outside(filename, count, number, line)
            text = line.strip()
            current = record[last_tag]
            if last_tag in LINE_ITEM_TAGS:
                current.append(text)
            elif isinstance(current, list):
                current[-1] = f"{current[-1]} {text}"
            else:
                record[last_tag] = f"{current} {text}"
            continue
        tag = line[:2]
        # 'AU Name' normally; testFile.isi also has 'AUGilles, H' with the space lost.
        value = line[3:].strip() if line[2:3] == " " else line[2:].strip()
        if tag == "PT":
            if record is not None:
                raise ImportFileError(
                    f"this record has no 'ER' end line; the next record starts at line {number}",
                    filename=filename,
                    entry=count + 1,
                    line=start,
                )
            record, start, last_tag, closed = {"PT": value}, number, "PT", False
        elif record is not None:
            if tag == "ER" and not value:
                count += 1
                yield start, record
                record = None
            else:
                _add(record, tag, value)
                last_tag = tag
        elif tag == "EF" and not value:
            closed = True
        elif tag not in HEADER_TAGS:
            _outside(filename, count, number, line)
    if record is not None:
        raise ImportFileError(
            "this record ends without its 'ER' line: the file looks cut off",
            filename=filename,
            entry=count + 1,
            line=start,
        )
    if count == 0:
        raise ImportFileError(NO_RECORDS, filename=filename)
    if not closed:
        raise ImportFileError(
            f"the file ends after entry {count} without the 'EF' line that closes every Web of "
            "Science export: it looks cut off or edited; export it again",
            filename=filename,
            line=number,
        )


def _outside(filename, count, number, line):
    raise ImportFileError(
        f"'{line[:40].strip()}' is outside any record (after entry {count}): the 'PT' line "
        "that starts a record is missing",
        filename=filename,
        line=number,
    )


def _add(record, tag, value):
    current = record.get(tag)
    if current is None:
        record[tag] = [value] if tag in LINE_ITEM_TAGS else value
    elif isinstance(current, list):
        current.append(value)
    else:
        record[tag] = [current, value]


def _text(raw, tag):
    value = raw.get(tag) or ""
    return "; ".join(value) if isinstance(value, list) else value


def _split(value):
    """Items of a field that lists them one per line (plain text) or '; '-separated (tab)."""
    items = value if isinstance(value, list) else [value or ""]
    return [part.strip() for item in items for part in item.split(";") if part.strip()]


def _entry(position, line, raw):
    # AR is the article number of journals without pages; 'UNSP' marks it as unspecified.
    pages = join_pages(_text(raw, "BP"), _text(raw, "EP")) or _text(raw, "AR").removeprefix("UNSP ")
    return ParsedEntry(
        position=position,
        raw=raw,
        line=line,
        source_id=_text(raw, "UT"),
        title=_text(raw, "TI"),
        abstract=_text(raw, "AB"),
        authors=_split(raw.get("AF")) or _split(raw.get("AU")),
        # Early-access records may have no PY yet; EA then holds the online date.
        year=parse_year(_text(raw, "PY")) or parse_year(_text(raw, "EA")),
        journal=_text(raw, "SO"),
        volume=_text(raw, "VL"),
        issue=_text(raw, "IS"),
        pages=pages,
        doi=_text(raw, "DI"),
        pmid=_text(raw, "PM"),
        keywords=_split(raw.get("DE")) + _split(raw.get("ID")),
        language=_text(raw, "LA"),
        publication_type=_text(raw, "DT") or _text(raw, "PT"),
    )


def parse(stream, *, filename=""):
    """ParsedEntry for each record of a Web of Science plain-text export."""
    for position, (line, raw) in enumerate(_records(stream, filename), 1):
        yield _entry(position, line, raw)


def parse_tab(stream, *, filename=""):
    """ParsedEntry for each row of a Web of Science tab-delimited export.

    The header row names the columns by the plain-text tags (PT, AU, TI...). Values are never
    quoted, so quote characters are ordinary text (QUOTE_NONE). `raw` keeps the non-empty
    cells: the export has ~60 columns, most of them empty for any one record.
    """
    reader = csv.reader(stream, delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(reader, None)
    if not header:
        raise ImportFileError(NO_RECORDS, filename=filename)
    header = [name.lstrip("\ufeff").strip() for name in header]
    if "PT" not in header or "UT" not in header:
        raise ImportFileError(
            "the first row is not a Web of Science header: expected column names like "
            "PT, AU, TI, UT",
            filename=filename,
            line=1,
        )
    position = 0
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        position += 1
        # Rows end with a tab the header lacks; anything beyond the header must be empty.
        if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
            raise ImportFileError(
                f"row has {len(row)} cells but the header names {len(header)} columns: a "
                "value contains a tab, or lines were joined",
                filename=filename,
                entry=position,
                line=reader.line_num,
            )
        if len(row) < len(header) - 1:
            raise ImportFileError(
                f"row has {len(row)} cells but the header names {len(header)} columns: a "
                "value contains a line break, or the row was cut off",
                filename=filename,
                entry=position,
                line=reader.line_num,
            )
        raw = {name: cell for name, cell in zip(header, row, strict=False) if name and cell}
        yield _entry(position, reader.line_num, raw)
    if position == 0:
        raise ImportFileError(NO_RECORDS, filename=filename)
