"""REFI-QDA codebook exchange: export a review's codebook as a .qdc file, and read the codebook
of a .qdc, .qde or .qdpx file from another QDA tool (ATLAS.ti, NVivo, MAXQDA, QualCoder...).

Untrusted files are parsed with defusedxml (no DTDs, so no entity expansion or external
entities) and checked by hand rather than against the XSD: the schemas are reference data,
not part of the app. Call `parse_codebook` on the upload, then `import_codebook` with what it
returns; every problem in a file is a RefiError whose message names the file.
"""

import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import PurePosixPath
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.db import transaction

from reviewapp.models import Review

from .codebook import MAX_DEPTH as CODEBOOK_MAX_DEPTH
from .models import Code

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"
ORIGIN = "reviewapp"
WHEN_TO_USE = "When to use: "
WHEN_NOT_TO_USE = "When not to use: "
# A project.qde carries the whole project; a real one is a few MB. The cap stops a .qdpx
# whose member inflates to gigabytes from exhausting memory.
MAX_MEMBER_BYTES = 50 * 1024 * 1024
# Far beyond any real codebook: stops a file from making one request insert rows for minutes.
MAX_CODES = 10_000
# Parsing is tolerant of deep trees (the import enforces the codebook's own depth); this only
# keeps the recursive walk well inside Python's recursion limit.
MAX_NESTING = 50
NAME_MAX_LENGTH = Code._meta.get_field("name").max_length
DEFAULT_COLOUR = Code._meta.get_field("colour").default

COLOUR_RE = re.compile(r"#[0-9a-f]{6}")
SHORT_COLOUR_RE = re.compile(r"#[0-9a-f]{3}")
# Characters XML 1.0 cannot carry at all, even escaped; written out, they make the file
# unreadable to every tool.
XML_ILLEGAL_RE = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
POSITION_SUFFIX_RE = re.compile(r":\s*line \d+, column \d+$")
# What zipfile raises on a damaged or crafted archive: it checks little, so a bad offset
# surfaces as a negative seek and bad deflate data as zlib's own error.
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError,
              RuntimeError)  # fmt: skip


class RefiError(ValueError):
    """The whole file is rejected; the message names the file and the problem."""

    def __init__(self, message):
        self.message = message
        super().__init__(message)


@dataclass
class ParsedCode:
    guid: uuid.UUID
    name: str
    # None when the file has no <Description>: an import then keeps what the review has.
    description: str | None = None
    inclusion_notes: str = ""
    exclusion_notes: str = ""
    # '#rrggbb' in lower case, or None when the file has no usable colour.
    colour: str | None = None
    children: list["ParsedCode"] = field(default_factory=list)


@dataclass(frozen=True)
class ImportSummary:
    created: int
    updated: int
    # Already in the review exactly as in the file.
    skipped: int


def walk(codes: list[ParsedCode]) -> Iterator[ParsedCode]:
    """Every code of a parsed tree, parents before their children."""
    for code in codes:
        yield code
        yield from walk(code.children)


def codebook_filename(review: Review) -> str:
    return f"{review.slug}-codebook.qdc"


# ----------------------------------------------------------------------------- export


def export_codebook(review: Review) -> bytes:
    """The review's codebook as a REFI-QDA Codebook (.qdc) document, valid against
    Codebook.xsd. The same codebook always gives the same bytes. An empty codebook raises
    RefiError: the schema has no valid form for it (<Codes> needs at least one <Code>)."""
    children = defaultdict(list)
    for code in Code.objects.filter(review=review).order_by("position", "id"):
        children[code.parent_id].append(code)
    if not children[None]:
        raise RefiError("The codebook has no codes yet, so there is nothing to export.")

    # The namespace is written as a plain xmlns attribute on unqualified tags: ElementTree's
    # default_namespace refuses unqualified attributes (origin, guid...) before Python 3.13.
    # No <Sets>: the app has no code groups, and an empty <Sets/> is invalid.
    root = ET.Element("CodeBook", {"xmlns": CODEBOOK_NS, "origin": ORIGIN})
    codes = ET.SubElement(root, "Codes")
    for code in children[None]:
        _append_code(codes, code, children)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _append_code(parent_elem, code, children):
    attrs = {"guid": str(code.guid).upper(), "name": _xml_safe(code.name), "isCodable": "true"}
    if COLOUR_RE.fullmatch(code.colour.lower()):
        attrs["color"] = code.colour.upper()
    elem = ET.SubElement(parent_elem, "Code", attrs)
    description = _describe(code)
    if description:
        ET.SubElement(elem, "Description").text = _xml_safe(description)
    for child in children[code.id]:
        _append_code(elem, child, children)


def _describe(code):
    # REFI-QDA has one free-text field per code, so the notes travel inside it as labelled
    # paragraphs, which _split_description takes apart again on import.
    paragraphs = [code.description.strip()]
    if code.inclusion_notes.strip():
        paragraphs.append(WHEN_TO_USE + code.inclusion_notes.strip())
    if code.exclusion_notes.strip():
        paragraphs.append(WHEN_NOT_TO_USE + code.exclusion_notes.strip())
    return "\n\n".join(p for p in paragraphs if p)


def _xml_safe(text):
    return XML_ILLEGAL_RE.sub("", text.replace("\r\n", "\n"))


# ------------------------------------------------------------------------------ parse


def parse_codebook(data: bytes, filename: str) -> list[ParsedCode]:
    """The top-level codes of a .qdc codebook, a .qde project or a .qdpx archive. A file
    without a known extension is recognised by its content."""
    suffix = PurePosixPath(filename.lower()).suffix
    if suffix == ".qdpx" or (suffix not in (".qdc", ".qde") and data[:4] == b"PK\x03\x04"):
        data = _project_from_archive(data, filename)
    root = _parse_xml(data, filename)
    if root.tag == f"{{{CODEBOOK_NS}}}CodeBook":
        codebook, ns = root, CODEBOOK_NS
        sets = codebook.find(f"{{{ns}}}Sets")
        if sets is not None and len(sets) == 0:
            raise RefiError(
                f"{filename}: the codebook has an empty <Sets/> element, which the REFI-QDA "
                "schema forbids (<Sets> must hold at least one <Set>; Taguette writes such "
                "files). Delete the <Sets/> element and upload the file again."
            )
    elif root.tag == f"{{{PROJECT_NS}}}Project":
        ns = PROJECT_NS
        codebook = root.find(f"{{{ns}}}CodeBook")
        if codebook is None:
            raise RefiError(f"{filename}: the project has no codebook (no <CodeBook> element).")
    else:
        raise RefiError(
            f"{filename}: this is not a REFI-QDA codebook or project: its root element is "
            f"{_describe_tag(root.tag)}, expected <CodeBook> in namespace {CODEBOOK_NS} "
            f"or <Project> in namespace {PROJECT_NS}."
        )
    codes = codebook.find(f"{{{ns}}}Codes")
    if codes is None:
        raise RefiError(f"{filename}: the codebook has no <Codes> element.")
    seen = set()
    parsed = _parse_codes(codes, ns, filename, seen, depth=1)
    if not parsed:
        raise RefiError(f"{filename}: the codebook has no codes.")
    return parsed


def _project_from_archive(data, filename):
    try:
        archive = zipfile.ZipFile(BytesIO(data))
    except ZIP_ERRORS as exc:
        raise RefiError(
            f"{filename}: this is not a ZIP archive, and a .qdpx file must be one ({exc})."
        ) from exc
    with archive:
        infos = archive.infolist()
        for info in infos:
            # Nothing is extracted, but an archive built to escape its folder is hostile
            # and nothing else in it deserves trust.
            path = info.filename.replace("\\", "/")
            if path.startswith("/") or re.match(r"[A-Za-z]:", path) or ".." in path.split("/"):
                raise RefiError(
                    f"{filename}: the archive holds a file with an unsafe path "
                    f"({info.filename!r}); refusing it."
                )
        # The spec says project.qde; ATLAS.ti and others also write Project.qde.
        candidates = [i for i in infos if PurePosixPath(i.filename).name.lower() == "project.qde"]
        if not candidates:
            raise RefiError(f"{filename}: the archive has no project.qde file.")
        shallowest = min(len(PurePosixPath(i.filename).parts) for i in candidates)
        candidates = [i for i in candidates if len(PurePosixPath(i.filename).parts) == shallowest]
        if len(candidates) > 1:
            names = ", ".join(i.filename for i in candidates)
            raise RefiError(f"{filename}: the archive has more than one project file ({names}).")
        info = candidates[0]
        if info.file_size > MAX_MEMBER_BYTES:
            raise RefiError(
                f"{filename}: {info.filename} would unpack to {info.file_size:,} bytes, over "
                f"the limit of {MAX_MEMBER_BYTES:,}; refusing it."
            )
        try:
            with archive.open(info) as member:
                # The declared size may lie; never read past the limit whatever it says.
                content = member.read(MAX_MEMBER_BYTES + 1)
        except ZIP_ERRORS as exc:
            raise RefiError(f"{filename}: {info.filename} cannot be unpacked ({exc}).") from exc
    if len(content) > MAX_MEMBER_BYTES:
        raise RefiError(
            f"{filename}: {info.filename} unpacks to more than {MAX_MEMBER_BYTES:,} bytes; "
            "refusing it."
        )
    return content


def _parse_xml(data, filename):
    try:
        return fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise RefiError(
            f"{filename}: the file contains a DTD or entity declarations, which REFI-QDA "
            f"files never need and which we refuse for safety ({type(exc).__name__})."
        ) from exc
    except (LookupError, UnicodeError) as exc:
        raise RefiError(
            f"{filename}: the file's text encoding cannot be read ({exc}); REFI-QDA files "
            "are UTF-8."
        ) from exc
    except ParseError as exc:
        line = f" at line {exc.position[0]}" if exc.position else ""
        problem = POSITION_SUFFIX_RE.sub("", str(exc))
        raise RefiError(
            f"{filename}: this is not well-formed XML ({problem}{line}); the file may be "
            "damaged or of another kind."
        ) from exc


def _describe_tag(tag):
    ns, _, local = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
    return f"<{local}> in namespace {ns}" if ns else f"<{local}> with no namespace"


def _parse_codes(parent_elem, ns, filename, seen, depth):
    if depth > MAX_NESTING:
        raise RefiError(f"{filename}: codes are nested more than {MAX_NESTING} levels deep.")
    parsed = []
    for elem in parent_elem.findall(f"{{{ns}}}Code"):
        code = _parse_code(elem, ns, filename, seen)
        code.children = _parse_codes(elem, ns, filename, seen, depth + 1)
        parsed.append(code)
    return parsed


def _parse_code(elem, ns, filename, seen):
    # Whitespace collapsed as coding.codebook does, so a re-import matches the stored name.
    name = " ".join((elem.get("name") or "").split())
    raw_guid = (elem.get("guid") or "").strip()
    label = f"the code {name!r}" if name else f"code number {len(seen) + 1}"
    if not name:
        raise RefiError(f"{filename}: {label} (guid {raw_guid or 'missing'}) has no name.")
    if len(name) > NAME_MAX_LENGTH:
        raise RefiError(
            f"{filename}: a code's name is longer than {NAME_MAX_LENGTH} characters "
            f"({name[:40]!r}...)."
        )
    try:
        guid = _parse_guid(raw_guid)
    except ValueError:
        shown = repr(raw_guid) if raw_guid else "none"
        raise RefiError(
            f"{filename}: {label} has a missing or malformed guid ({shown}); REFI-QDA needs "
            "a GUID such as 1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294."
        ) from None
    if guid in seen:
        raise RefiError(f"{filename}: the guid {raw_guid} is used by more than one code.")
    seen.add(guid)
    if len(seen) > MAX_CODES:
        raise RefiError(f"{filename}: the codebook has more than {MAX_CODES:,} codes.")

    code = ParsedCode(guid=guid, name=name, colour=normalise_colour(elem.get("color")))
    description = elem.find(f"{{{ns}}}Description")
    if description is not None:
        code.description, code.inclusion_notes, code.exclusion_notes = _split_description(
            "".join(description.itertext())
        )
    return code


def _parse_guid(raw):
    # uuid.UUID also takes 32 bare hex digits or a urn: prefix; REFI-QDA allows only the
    # hyphenated form, with or without braces.
    if not re.fullmatch(r"\{?[0-9a-fA-F]{8}(-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}\}?", raw):
        raise ValueError(raw)
    if raw.startswith("{") != raw.endswith("}"):
        raise ValueError(raw)
    return uuid.UUID(raw.strip("{}"))


def _as_uuid(value):
    """A UUID from a UUID or its string form; None for anything else."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return _parse_guid(str(value).strip())
    except ValueError:
        return None


def normalise_colour(value: str | None) -> str | None:
    """'#rrggbb' in lower case from '#RRGGBB' or '#RGB'; None for anything else."""
    value = (value or "").strip().lower()
    if SHORT_COLOUR_RE.fullmatch(value):
        value = "#" + "".join(c * 2 for c in value[1:])
    return value if COLOUR_RE.fullmatch(value) else None


def _split_description(text):
    """(description, inclusion notes, exclusion notes) from a Description that may end with
    the labelled paragraphs _describe writes."""
    rest = "\n\n" + text.replace("\r\n", "\n").strip()
    rest, found, exclusion = rest.rpartition("\n\n" + WHEN_NOT_TO_USE)
    if not found:
        rest, exclusion = exclusion, ""
    rest, found, inclusion = rest.rpartition("\n\n" + WHEN_TO_USE)
    if not found:
        rest, inclusion = inclusion, ""
    return rest.strip(), inclusion.strip(), exclusion.strip()


# ----------------------------------------------------------------------------- import


def import_codebook(
    review: Review, parsed: list[ParsedCode], user, *, parent: Code | None = None
) -> ImportSummary:
    """Add the parsed codes under `parent` (None: as themes), in one transaction.

    A code whose guid the review already has is updated in place (name, description, notes,
    colour) and stays where it is; its new children go beneath it. New codes keep the file's
    guid, follow their existing siblings in file order, and take the default colour when the
    file has none. A file whose tree would go deeper than the codebook allows (theme, code,
    sub-code) is refused whole with a RefiError."""
    if parent is not None and parent.review_id != review.pk:
        raise ValueError("the parent code belongs to another review")
    with transaction.atomic():
        # The review row serialises imports into an empty codebook; the code rows are what
        # coding.codebook's own changes lock, so edits and imports take turns.
        Review.objects.select_for_update().get(pk=review.pk)
        codes = list(Code.objects.select_for_update().filter(review=review))
        importer = _Importer(review, user, codes)
        top_depth = 0 if parent is None else importer.depth(parent.pk) + 1
        importer.add(parsed, parent, top_depth)
    return ImportSummary(importer.created, importer.updated, importer.skipped)


class _Importer:
    def __init__(self, review, user, codes):
        self.review, self.user = review, user
        self.by_guid = {c.guid: c for c in codes}
        self.parent_of = {c.pk: c.parent_id for c in codes}
        self.next_position = defaultdict(int)
        for c in codes:
            self.next_position[c.parent_id] = max(self.next_position[c.parent_id], c.position + 1)
        self.created = self.updated = self.skipped = 0

    def depth(self, pk):
        depth = 0
        while self.parent_of.get(pk) is not None:
            pk = self.parent_of[pk]
            depth += 1
        return depth

    def add(self, parsed, parent, depth):
        for item in parsed:
            code = self.by_guid.get(_as_uuid(item.guid))
            if code is None:
                code = self._create(item, parent, depth)
                code_depth = depth
            else:
                self._update(code, item)
                code_depth = self.depth(code.pk)
            self.add(item.children, code, code_depth + 1)

    def _create(self, item, parent, depth):
        if depth >= CODEBOOK_MAX_DEPTH:
            raise RefiError(
                f"“{item.name}” would sit {depth + 1} levels deep, and the codebook has "
                f"{CODEBOOK_MAX_DEPTH} (theme, code, sub-code); nothing was imported. Flatten "
                "the deeper codes in the other tool, or import under a higher level."
            )
        parent_id = parent.pk if parent is not None else None
        guid = _as_uuid(item.guid)
        if guid is None or guid in self.by_guid:
            guid = uuid.uuid4()
        code = Code.objects.create(
            review=self.review,
            parent=parent,
            name=item.name[:NAME_MAX_LENGTH],
            description=item.description or "",
            inclusion_notes=item.inclusion_notes,
            exclusion_notes=item.exclusion_notes,
            colour=normalise_colour(item.colour) or DEFAULT_COLOUR,
            position=self.next_position[parent_id],
            guid=guid,
            created_by=self.user,
        )
        self.next_position[parent_id] += 1
        self.by_guid[guid] = code
        self.parent_of[code.pk] = parent_id
        self.created += 1
        return code

    def _update(self, code, item):
        new = {"name": item.name[:NAME_MAX_LENGTH]}
        # A file without a <Description> says nothing about it, so the review's text stays.
        if item.description is not None:
            new |= {
                "description": item.description,
                "inclusion_notes": item.inclusion_notes,
                "exclusion_notes": item.exclusion_notes,
            }
        if normalise_colour(item.colour):
            new["colour"] = normalise_colour(item.colour)
        changed = [name for name, value in new.items() if getattr(code, name) != value]
        for name in changed:
            setattr(code, name, new[name])
        if changed:
            code.save(update_fields=changed)
            self.updated += 1
        else:
            self.skipped += 1
