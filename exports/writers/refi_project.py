"""REFI-QDA exports for other QDA tools (ATLAS.ti, NVivo, MAXQDA, QualCoder...): the
codebook (.qdc) and the whole coding project (.qdpx).

A .qdpx is a ZIP holding project.qde (valid against Project.xsd) and sources/<GUID>.txt, the
UTF-8 text of each document version. GUIDs the app does not store are derived with uuid5
from ones it does, the project's date is its latest recorded change and the ZIP entries carry
that date, so exporting an unchanged review twice gives the same bytes. People appear by
name, or as "Coder 1", "Coder 2"... when they have none; never by email address.
"""

import re
import uuid
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from datetime import UTC
from xml.sax.saxutils import quoteattr

from defusedxml.ElementTree import fromstring
from django.db.models import Max

from coding.models import Code, DocumentVersion, Excerpt, ExcerptCode, Memo, ThemeRevision
from coding.refi import CODEBOOK_NS, ORIGIN, PROJECT_NS, XML_ILLEGAL_RE, RefiError, export_codebook
from reviewapp.models import User

from ..registry import ExportError, register

# Users' GUIDs are uuid5 over this, the review and the user: stable from one export to the
# next without storing anything. Changing it changes every exported user's GUID.
USER_NAMESPACE = uuid.UUID("c069b56f-707a-40ed-8972-606a4d0f5d89")
# A name that looks like an address is treated as no name: the file leaves the app.
EMAIL_RE = re.compile(r"[^\s@]+@[^\s@]+")
# ATLAS.ti names a selection after its quote, cut at this length; other tools show the name
# in their lists of codings.
SELECTION_NAME_LENGTH = 100


@register(
    "qdc",
    label="REFI-QDA codebook",
    extension="qdc",
    content_type="application/xml",
    group="REFI-QDA",
    description="The codebook (themes, codes and their descriptions) for other QDA tools.",
)
def write_codebook(review, out, *, progress, options):
    try:
        data = export_codebook(review)
    except RefiError as exc:
        raise ExportError(exc.message) from exc
    out.write(data)
    progress(1.0, "Codebook written")


@register(
    "qdpx",
    label="REFI-QDA project",
    extension="qdpx",
    content_type="application/zip",
    group="REFI-QDA",
    description="The whole coding project (documents, codebook, coded excerpts, memos) for "
    "other QDA tools.",
)
def write_project(review, out, *, progress, options):
    project = _Project(review)
    if not project.code_ids and not project.versions:
        raise ExportError(
            "There is no coding to export yet: the review has no codes and no documents."
        )
    steps = 2 * len(project.versions) + 1
    with zipfile.ZipFile(out, "w") as archive:
        # The spec (§8.1) names the project file project.qde, in lower case, at the top.
        with archive.open(project.entry("project.qde"), "w") as member:
            project.write_qde(member, lambda done: progress(done / steps, "Writing project.qde"))
        archive.writestr(project.entry("sources/", folder=True), b"")
        for done, version in enumerate(project.versions, start=len(project.versions) + 1):
            text = DocumentVersion.objects.values_list("text", flat=True).get(pk=version.pk)
            # Written byte for byte, no BOM and no newline translation: selections point into
            # this text by character position.
            archive.writestr(project.entry(f"sources/{version.guid}.txt"), text.encode("utf-8"))
            progress(done / steps, "Writing the documents' text")
    progress(1.0, "Project written")


def _guid(value):
    return str(value).upper()


def _when(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _clean(text):
    return XML_ILLEGAL_RE.sub("", text.replace("\r\n", "\n"))


def _attrs(**values):
    """Attributes for ET, leaving out the ones with no value."""
    return {name: _clean(str(value)) for name, value in values.items() if value is not None}


class _Version:
    def __init__(self, row, source_name):
        self.pk = row["pk"]
        self.document_id = row["document_id"]
        self.number = row["number"]
        self.created_at = row["created_at"]
        self.guid = _guid(uuid.uuid5(row["document__guid"], f"version {row['number']}"))
        self.name = f"{source_name} (v{row['number']})"


class _Project:
    """What the project file needs in memory: names and GUIDs of users, codes and document
    versions. Excerpts, memos and texts are read a version or a batch at a time."""

    def __init__(self, review):
        self.review = review
        self.stamp = _last_change(review)
        codes = list(Code.objects.filter(review=review).values_list("pk", "guid", "name"))
        self.code_ids = {pk for pk, _, _ in codes}
        self.code_guid = {pk: _guid(guid) for pk, guid, _ in codes}
        self.code_name = {pk: name for pk, _, name in codes}
        # Codes on an excerpt follow the codebook's order, as the .qdc lists them.
        self.code_rank = {pk: rank for rank, pk in enumerate(_codebook_order(review))}
        rows = (
            DocumentVersion.objects.filter(document__review=review)
            .order_by("document__study__label", "document__title", "document_id", "number")
            .values("pk", "document_id", "number", "created_at", "document__guid",
                    "document__title", "document__study__label")
        )  # fmt: skip
        self.document_name = {}
        self.versions = []
        for row in rows:
            name = f"{row['document__study__label']} — {row['document__title']}"
            self.document_name[row["document_id"]] = name
            self.versions.append(_Version(row, name))
        self.version_name = {v.pk: v.name for v in self.versions}
        self.users = _users(review)

    def entry(self, name, *, folder=False):
        # The ZIP's own timestamps are the project's too, so two exports match byte for byte.
        stamp = self.stamp.astimezone(UTC)
        date_time = max((stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute,
                         stamp.second), (1980, 1, 1, 0, 0, 0))  # fmt: skip
        info = zipfile.ZipInfo(name, date_time=date_time)
        info.compress_type = zipfile.ZIP_STORED if folder else zipfile.ZIP_DEFLATED
        info.external_attr = ((0o40755 if folder else 0o100644) << 16) | (0x10 if folder else 0)
        return info

    # --------------------------------------------------------------------- project.qde

    def write_qde(self, out, step):
        def put(text):
            out.write(text.encode("utf-8"))

        def put_element(elem, level):
            ET.indent(elem, space="  ", level=level)
            put("  " * level + ET.tostring(elem, encoding="unicode") + "\n")

        # The root is written by hand so the sections can stream into it one by one; the
        # namespace is a plain xmlns attribute on unqualified tags, as in coding.refi.
        root = _attrs(xmlns=PROJECT_NS, name=self.review.title, origin=ORIGIN,
                      creationDateTime=_when(self.stamp))  # fmt: skip
        put('<?xml version="1.0" encoding="utf-8"?>\n<Project')
        put("".join(f" {name}={quoteattr(value)}" for name, value in root.items()) + ">\n")
        # Users, CodeBook, Sources and Notes each need at least one child when present.
        if self.users:
            users = ET.Element("Users")
            for guid, name in self.users.values():
                ET.SubElement(users, "User", _attrs(guid=guid, name=name))
            put_element(users, 1)
        if self.code_ids:
            put_element(self._codebook(), 1)
        if self.versions:
            put("  <Sources>\n")
            document_notes = self._document_notes()
            for done, version in enumerate(self.versions, start=1):
                put_element(self._text_source(version, document_notes[version.document_id]), 2)
                step(done)
            put("  </Sources>\n")
        notes = self._notes()
        first = next(notes, None)
        if first is not None:
            put("  <Notes>\n")
            put_element(first, 2)
            for note in notes:
                put_element(note, 2)
            put("  </Notes>\n")
        if self.review.question.strip():
            put_element(_text_element("Description", self.review.question), 1)
        put("</Project>\n")

    def _user_guid(self, user_id):
        entry = self.users.get(user_id)
        return entry[0] if entry else None

    def _codebook(self):
        """The .qdc's own codes, moved into the project namespace, with a NoteRef to each
        code's memos: the two files cannot disagree about the codebook."""
        notes = defaultdict(list)
        for code_id, guid in (
            Memo.objects.filter(review=self.review, code__isnull=False)
            .order_by("created_at", "id")
            .values_list("code_id", "guid")
        ):
            notes[self.code_guid[code_id]].append(_guid(guid))
        # Our own output, but parsed with defusedxml all the same, as every XML here is.
        qdc = fromstring(export_codebook(self.review))
        for elem in qdc.iter():
            elem.tag = elem.tag.removeprefix(f"{{{CODEBOOK_NS}}}")
        codes = qdc.find("Codes")
        for code in list(codes.iter("Code")):
            # Project.xsd orders a code's children Description, NoteRef, then sub-codes.
            at = 1 if len(code) and code[0].tag == "Description" else 0
            for offset, note_guid in enumerate(notes[code.get("guid")]):
                code.insert(at + offset, ET.Element("NoteRef", targetGUID=note_guid))
        codebook = ET.Element("CodeBook")
        codebook.append(codes)
        return codebook

    def _document_notes(self):
        notes = defaultdict(list)
        for document_id, guid in (
            Memo.objects.filter(review=self.review, document__isnull=False)
            .order_by("created_at", "id")
            .values_list("document_id", "guid")
        ):
            notes[document_id].append(_guid(guid))
        return notes

    def _text_source(self, version, note_guids):
        source = ET.Element("TextSource", _attrs(
            guid=version.guid, name=version.name, plainTextPath=f"internal://{version.guid}.txt",
            creationDateTime=_when(version.created_at),
        ))  # fmt: skip
        excerpts = list(
            Excerpt.objects.filter(version_id=version.pk)
            .order_by("start", "end", "id")
            .only("pk", "guid", "coder_id", "start", "end", "text", "memo", "created_at",
                  "updated_at")
        )  # fmt: skip
        applied = defaultdict(list)
        for excerpt_id, code_id in ExcerptCode.objects.filter(
            excerpt__version_id=version.pk
        ).values_list("excerpt_id", "code_id"):
            applied[excerpt_id].append(code_id)
        for excerpt in excerpts:
            coder = self._user_guid(excerpt.coder_id)
            selection = ET.SubElement(source, "PlainTextSelection", _attrs(
                guid=_guid(excerpt.guid),
                name=_selection_name(excerpt.text),
                # REFI-QDA counts positions in characters, meaning Unicode code points, and
                # so do our offsets (coding.models): they go out unchanged, and a character
                # outside the BMP (an emoji) counts one, not two as in UTF-16.
                startPosition=excerpt.start,
                endPosition=excerpt.end,
                creatingUser=coder,
                creationDateTime=_when(excerpt.created_at),
                modifiedDateTime=_when(excerpt.updated_at),
            ))  # fmt: skip
            codes = sorted(applied[excerpt.pk], key=self.code_rank.__getitem__)
            for code_id in codes:
                code_guid = self.code_guid[code_id]
                coding = ET.SubElement(selection, "Coding", _attrs(
                    guid=_guid(uuid.uuid5(excerpt.guid, code_guid)), creatingUser=coder,
                ))  # fmt: skip
                ET.SubElement(coding, "CodeRef", targetGUID=code_guid)
            if excerpt.memo:
                ET.SubElement(selection, "NoteRef", targetGUID=_excerpt_note_guid(excerpt))
        # A document's memos are about the document whatever its version, so each version
        # refers to them.
        for note_guid in note_guids:
            ET.SubElement(source, "NoteRef", targetGUID=note_guid)
        return source

    def _notes(self):
        """Note elements, one at a time: memos on codes and documents, then excerpt memos."""
        memos = (
            Memo.objects.filter(review=self.review)
            .order_by("created_at", "id")
            .only("guid", "code_id", "document_id", "author_id", "text", "created_at",
                  "updated_at")
        )  # fmt: skip
        for memo in memos.iterator(chunk_size=500):
            if memo.code_id is not None:
                about = self.code_name[memo.code_id]
            else:
                about = self.document_name.get(memo.document_id, "a document")
            yield _note(guid=_guid(memo.guid), name=f"Memo on {about}", text=memo.text,
                        user=self._user_guid(memo.author_id), created=memo.created_at,
                        modified=memo.updated_at)  # fmt: skip
        excerpts = (
            Excerpt.objects.filter(review=self.review)
            .exclude(memo="")
            .order_by("document__study__label", "document__title", "document_id",
                      "version__number", "start", "end", "id")
            .only("guid", "version_id", "coder_id", "start", "end", "memo", "created_at",
                  "updated_at")
        )  # fmt: skip
        for excerpt in excerpts.iterator(chunk_size=500):
            where = f"{self.version_name[excerpt.version_id]}, {excerpt.start}–{excerpt.end}"
            yield _note(guid=_excerpt_note_guid(excerpt), name=f"Memo on the excerpt {where}",
                        text=excerpt.memo, user=self._user_guid(excerpt.coder_id),
                        created=excerpt.created_at, modified=excerpt.updated_at)  # fmt: skip


def _note(*, guid, name, text, user, created, modified):
    # Notes are TextSources in the schema: the memo's text travels inline.
    note = ET.Element("Note", _attrs(guid=guid, name=name, creatingUser=user,
                                     creationDateTime=_when(created),
                                     modifiedDateTime=_when(modified)))  # fmt: skip
    note.append(_text_element("PlainTextContent", text))
    return note


def _text_element(tag, text):
    elem = ET.Element(tag)
    elem.text = _clean(text)
    return elem


def _excerpt_note_guid(excerpt):
    return _guid(uuid.uuid5(excerpt.guid, "memo"))


def _selection_name(text):
    text = " ".join(text.split())
    if len(text) > SELECTION_NAME_LENGTH:
        return text[: SELECTION_NAME_LENGTH - 1].rstrip() + "…"
    return text


def _codebook_order(review):
    children = defaultdict(list)
    for pk, parent_id in (
        Code.objects.filter(review=review).order_by("position", "id").values_list("pk", "parent_id")
    ):
        children[parent_id].append(pk)
    order, stack = [], list(reversed(children[None]))
    while stack:
        pk = stack.pop()
        order.append(pk)
        stack.extend(reversed(children[pk]))
    return order


def _users(review):
    """{user id: (GUID, name)} for every coder and memo author, in id order; those without a
    name are "Coder 1", "Coder 2"... in that order."""
    ids = set(Excerpt.objects.filter(review=review).values_list("coder_id", flat=True))
    ids |= set(
        Memo.objects.filter(review=review, author__isnull=False).values_list("author_id", flat=True)
    )
    users, unnamed = {}, 0
    for pk, name in User.objects.filter(pk__in=ids).order_by("pk").values_list("pk", "name"):
        name = " ".join(name.split())
        if not name or EMAIL_RE.search(name):
            unnamed += 1
            name = f"Coder {unnamed}"
        guid = uuid.uuid5(USER_NAMESPACE, f"review {review.pk} user {pk}")
        users[pk] = (_guid(guid), name)
    return users


def _last_change(review):
    """The latest change the coding data records (deletions leave no trace), so an unchanged
    review exports with the same date; the review's creation when it has no coding yet."""
    moments = [
        Code.objects.filter(review=review).aggregate(t=Max("created_at"))["t"],
        ThemeRevision.objects.filter(review=review).aggregate(t=Max("created_at"))["t"],
        DocumentVersion.objects.filter(document__review=review).aggregate(t=Max("created_at"))["t"],
        Excerpt.objects.filter(review=review).aggregate(t=Max("updated_at"))["t"],
        Memo.objects.filter(review=review).aggregate(t=Max("updated_at"))["t"],
    ]
    return max((m for m in moments if m is not None), default=review.created_at)
