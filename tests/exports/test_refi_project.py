"""REFI-QDA exports: the .qdc codebook and the .qdpx project, checked against the REFI-QDA
schemas, for stable GUIDs and bytes, for privacy (no addresses, no paths), and for offsets
that still point at the coded text when it holds emoji."""

import io
import re
import uuid
import zipfile
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from lxml import etree

from coding.codebook import create_code
from coding.documents import add_document, revise_document
from coding.excerpts import create_excerpt
from coding.models import Excerpt, Memo
from coding.refi import export_codebook, parse_codebook, walk
from exports.registry import ExportError, get_format
from reviewapp.models import Role
from screening.models import Study
from tests.factories import MembershipFactory, ReviewFactory

# shared/ sits beside the clone (as in CI); a developer's clone alone does not have it.
REFI_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "refi-qda"
needs_refi_data = pytest.mark.skipif(
    not REFI_DATA.is_dir(), reason=f"REFI-QDA schemas and samples not found at {REFI_DATA}"
)
NS = {"q": "urn:QDA-XML:project:1.0"}
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")

# Emoji (one a ZWJ sequence), a mathematical letter outside the BMP, curly quotes, a CRLF and
# a form feed (which XML cannot carry, but a source file can).
TEXT_V1 = (
    "Intro 😀 line.\r\nShe said “𝒜 plan was written without me” 👩‍👩‍👧 and left.\x0c\n"
    "Waiting lists of many months meant needs went unmet."
)
TEXT_V2 = TEXT_V1 + "\n\nAdded in v2: nobody called back 📞 for weeks."


def span(text, part):
    """[start, end) of `part` in code points (Python's own indexing)."""
    start = text.index(part)
    return start, start + len(part)


@pytest.fixture
def coded(review, lead, reviewer):
    nameless = MembershipFactory(review=review, role=Role.REVIEWER, user__name="").user
    # A name that is really an address must not leave the app either.
    address = MembershipFactory(review=review, role=Role.REVIEWER,
                                user__name="coder@example.org").user  # fmt: skip
    theme = create_code(review=review, user=lead, name="Harm & <safety>",
                        description="Anything about harm.")  # fmt: skip
    code = create_code(review=review, user=lead, name="Not involved", parent=theme)
    sub = create_code(review=review, user=lead, name="Written for them", parent=code)
    waiting = create_code(review=review, user=lead, name="Waiting lists")
    study = Study.objects.create(review=review, label="Smith 2020")
    document = add_document(study=study, title="Findings", text=TEXT_V1, source="paste",
                            user=lead)  # fmt: skip
    v1 = document.versions.get()
    v2 = revise_document(document=document, text=TEXT_V2, user=lead, note="More text")
    start, end = span(TEXT_V1, "“𝒜 plan was written without me” 👩‍👩‍👧")
    create_excerpt(version=v1, coder=reviewer, start=start, end=end,
                   code_ids=[sub.pk, theme.pk], memo="Strong <quote> & telling")  # fmt: skip
    start, end = span(TEXT_V1, "Waiting lists")
    create_excerpt(version=v1, coder=nameless, start=start, end=end, code_ids=[waiting.pk])
    start, end = span(TEXT_V2, "nobody called back 📞")
    create_excerpt(version=v2, coder=address, start=start, end=end, code_ids=[waiting.pk])
    Memo.objects.create(review=review, code=code, author=lead, text="Check with the panel.")
    Memo.objects.create(review=review, document=document, author=nameless, text="OCR errors")
    return {"review": review, "document": document, "nameless": nameless, "address": address,
            "theme": theme, "code": code, "sub": sub, "waiting": waiting,
            "v1": v1, "v2": v2}  # fmt: skip


def export(review, name, progress=None):
    out = io.BytesIO()
    get_format(name).write(review, out, progress=progress or (lambda f, message="": None),
                           options={})  # fmt: skip
    return out.getvalue()


def project_of(data):
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        qde = archive.read("project.qde")
        sources = {
            name: archive.read(name).decode("utf-8")
            for name in archive.namelist()
            if name.startswith("sources/") and not name.endswith("/")
        }
    return etree.fromstring(qde), sources


def schema(name):
    return etree.XMLSchema(etree.parse(str(REFI_DATA / name)))


def codings(root):
    """(source name, start, end, code name, user name) for each coded text selection, read
    the way another tool would: by following the GUID references."""
    code_names = {c.get("guid"): c.get("name") for c in root.iterfind(".//q:Code", NS)}
    user_names = {u.get("guid"): u.get("name") for u in root.iterfind(".//q:User", NS)}
    found = []
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        for sel in source.iterfind("q:PlainTextSelection", NS):
            for ref in sel.iterfind("q:Coding/q:CodeRef", NS):
                found.append((source.get("name"), int(sel.get("startPosition")),
                              int(sel.get("endPosition")), code_names[ref.get("targetGUID")],
                              user_names.get(sel.get("creatingUser"))))  # fmt: skip
    return found


# ------------------------------------------------------------------------------- .qdc


def test_both_formats_are_registered_in_the_refi_group():
    assert (get_format("qdc").group, get_format("qdc").extension) == ("REFI-QDA", "qdc")
    assert (get_format("qdpx").group, get_format("qdpx").extension) == ("REFI-QDA", "qdpx")
    assert get_format("qdpx").content_type == "application/zip"


@needs_refi_data
def test_qdc_is_the_codebook_export_and_valid(coded):
    data = export(coded["review"], "qdc")
    assert data == export_codebook(coded["review"])
    schema("Codebook.xsd").assertValid(etree.fromstring(data))


def test_qdc_of_an_empty_codebook_is_refused_with_a_reason(review):
    with pytest.raises(ExportError, match="no codes"):
        export(review, "qdc")


# ------------------------------------------------------------------------------ .qdpx


def test_qdpx_holds_project_qde_and_one_text_file_per_version(coded):
    data = export(coded["review"], "qdpx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = archive.namelist()
        assert archive.testzip() is None
    root, sources = project_of(data)
    guids = [s.get("guid") for s in root.iterfind("q:Sources/q:TextSource", NS)]
    assert len(guids) == 2
    assert names == ["project.qde", "sources/"] + [f"sources/{g}.txt" for g in guids]
    assert [sources[f"sources/{g}.txt"] for g in guids] == [TEXT_V1, TEXT_V2]
    paths = [s.get("plainTextPath") for s in root.iterfind("q:Sources/q:TextSource", NS)]
    assert paths == [f"internal://{g}.txt" for g in guids]


@needs_refi_data
def test_qdpx_project_is_valid_against_the_schema(coded):
    root, _ = project_of(export(coded["review"], "qdpx"))
    schema("Project.xsd").assertValid(root)


def test_project_lists_users_codes_sources_and_codings(coded, lead, reviewer):
    review = coded["review"]
    root, _ = project_of(export(review, "qdpx"))
    assert root.tag == "{urn:QDA-XML:project:1.0}Project"
    assert (root.get("name"), root.get("origin")) == ("Avoidable harm review", "reviewapp")
    assert root.get("basePath") is None
    # Coders and memo authors in id order; the two without a usable name are numbered.
    users = [u.get("name") for u in root.iterfind("q:Users/q:User", NS)]
    assert users == ["Lena Lead", "Rita Reviewer", "Coder 1", "Coder 2"]
    name = "Smith 2020 — Findings"
    sources = [s.get("name") for s in root.iterfind("q:Sources/q:TextSource", NS)]
    assert sources == [f"{name} (v1)", f"{name} (v2)"]
    v1, v2 = TEXT_V1, TEXT_V2
    quote = span(v1, "“𝒜 plan was written without me” 👩‍👩‍👧")
    # A selection's codes follow the codebook's order, not the order they were chosen in.
    assert codings(root) == [
        (f"{name} (v1)", *quote, "Harm & <safety>", "Rita Reviewer"),
        (f"{name} (v1)", *quote, "Written for them", "Rita Reviewer"),
        (f"{name} (v1)", *span(v1, "Waiting lists"), "Waiting lists", "Coder 1"),
        (f"{name} (v2)", *span(v2, "nobody called back 📞"), "Waiting lists", "Coder 2"),
    ]
    excerpt = Excerpt.objects.get(coder=reviewer)
    [selection] = root.xpath("//q:PlainTextSelection[@guid=$g]", namespaces=NS,
                             g=str(excerpt.guid).upper())  # fmt: skip
    assert selection.get("name") == excerpt.text
    codings_of = selection.findall("q:Coding", NS)
    assert all(c.get("creatingUser") == selection.get("creatingUser") for c in codings_of)


def test_codebook_in_the_project_is_the_qdc_codebook(coded):
    review = coded["review"]
    qdc = parse_codebook(export(review, "qdc"), "codebook.qdc")
    qdpx = parse_codebook(export(review, "qdpx"), "project.qdpx")
    assert qdpx == qdc
    assert [c.name for c in walk(qdpx)] == [
        "Harm & <safety>", "Not involved", "Written for them", "Waiting lists",
    ]  # fmt: skip


def test_memos_are_notes_referenced_from_what_they_annotate(coded, reviewer):
    root, _ = project_of(export(coded["review"], "qdpx"))
    notes = {n.get("guid"): n for n in root.iterfind("q:Notes/q:Note", NS)}
    text = {g: n.findtext("q:PlainTextContent", namespaces=NS) for g, n in notes.items()}
    user_names = {u.get("guid"): u.get("name") for u in root.iterfind(".//q:User", NS)}

    code_memo = Memo.objects.get(code=coded["code"])
    guid = str(code_memo.guid).upper()
    [code] = root.xpath("//q:Code[@name='Not involved']", namespaces=NS)
    assert [r.get("targetGUID") for r in code.findall("q:NoteRef", NS)] == [guid]
    assert text[guid] == "Check with the panel."
    assert notes[guid].get("name") == "Memo on Not involved"
    assert user_names[notes[guid].get("creatingUser")] == "Lena Lead"

    # A document's memo is referenced from each of its versions.
    document_memo = Memo.objects.get(document=coded["document"])
    guid = str(document_memo.guid).upper()
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        assert [r.get("targetGUID") for r in source.findall("q:NoteRef", NS)] == [guid]
    assert text[guid] == "OCR errors"
    assert user_names[notes[guid].get("creatingUser")] == "Coder 1"

    excerpt = Excerpt.objects.get(coder=reviewer)
    [selection] = root.xpath("//q:PlainTextSelection[@guid=$g]", namespaces=NS,
                             g=str(excerpt.guid).upper())  # fmt: skip
    [ref] = selection.findall("q:NoteRef", NS)
    assert text[ref.get("targetGUID")] == "Strong <quote> & telling"
    assert notes[ref.get("targetGUID")].get("creatingUser") == selection.get("creatingUser")
    assert len(notes) == 3
    # Selections without a memo refer to no note.
    assert len(root.findall(".//q:PlainTextSelection/q:NoteRef", NS)) == 1


def test_every_guid_is_unique_and_every_reference_resolves(coded):
    root, _ = project_of(export(coded["review"], "qdpx"))
    guids = [e.get("guid") for e in root.iter() if e.get("guid")]
    assert len(guids) == len(set(guids))
    targets = {e.get("targetGUID") for e in root.iter() if e.get("targetGUID")}
    users = {e.get("creatingUser") for e in root.iter() if e.get("creatingUser")}
    assert targets <= set(guids)
    assert users <= {u.get("guid") for u in root.iterfind("q:Users/q:User", NS)}


def test_offsets_point_at_the_coded_text_in_the_source_file(coded):
    """REFI-QDA positions count characters; an emoji is one, as in our offsets, not two as
    in UTF-16, so the source file's text sliced at the selection is the excerpt's text."""
    root, sources = project_of(export(coded["review"], "qdpx"))
    excerpts = {str(e.guid).upper(): e.text for e in Excerpt.objects.all()}
    checked = 0
    for source in root.iterfind("q:Sources/q:TextSource", NS):
        text = sources["sources/" + source.get("plainTextPath").removeprefix("internal://")]
        for sel in source.iterfind("q:PlainTextSelection", NS):
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
            assert text[start:end] == excerpts[sel.get("guid")]
            checked += 1
    assert checked == 3
    assert "😀" in TEXT_V1 and TEXT_V1.index("😀") < span(TEXT_V1, "Waiting lists")[0]


def test_exporting_twice_gives_identical_files(coded):
    review = coded["review"]
    first = export(review, "qdpx")
    assert export(review, "qdpx") == first
    root, _ = project_of(first)
    # Dated by the latest change to the coding (here the last memo), not by the export.
    stamp = max(Memo.objects.latest("updated_at").updated_at,
                Excerpt.objects.latest("updated_at").updated_at)  # fmt: skip
    assert root.get("creationDateTime") == stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_user_guids_are_stable_per_review_and_differ_between_reviews(coded, reviewer):
    review = coded["review"]
    root, _ = project_of(export(review, "qdpx"))
    guid_of = {u.get("name"): u.get("guid") for u in root.iterfind("q:Users/q:User", NS)}
    other = ReviewFactory(title="Another review")
    MembershipFactory(review=other, user=reviewer)
    code = create_code(review=other, user=reviewer, name="Other code")
    study = Study.objects.create(review=other, label="Jones 2021")
    document = add_document(study=study, title="Notes", text="Some text here.", source="paste",
                            user=reviewer)  # fmt: skip
    create_excerpt(version=document.versions.get(), coder=reviewer, start=0, end=4,
                   code_ids=[code.pk])  # fmt: skip
    root, _ = project_of(export(other, "qdpx"))
    [user] = root.iterfind("q:Users/q:User", NS)
    assert user.get("name") == "Rita Reviewer"
    assert user.get("guid") != guid_of["Rita Reviewer"]
    uuid.UUID(user.get("guid"))


def test_a_change_to_the_coding_changes_the_project_date(coded, reviewer):
    review = coded["review"]
    before, _ = project_of(export(review, "qdpx"))
    excerpt = Excerpt.objects.get(coder=reviewer)
    excerpt.updated_at = timezone.now() + timedelta(minutes=5)
    excerpt.save(update_fields=["updated_at"])
    after, _ = project_of(export(review, "qdpx"))
    assert after.get("creationDateTime") > before.get("creationDateTime")


def test_no_email_address_or_path_leaves_the_app(coded, lead, reviewer):
    data = export(coded["review"], "qdpx")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        text = "".join(archive.read(n).decode("utf-8") for n in archive.namelist())
    assert EMAIL_RE.findall(text) == []
    for user in (lead, reviewer, coded["nameless"], coded["address"]):
        assert user.email not in text
    assert "basePath" not in text
    assert str(Path(__file__).resolve().parents[2]) not in text
    assert not re.search(r"(?:file:|[A-Za-z]:\\|=\"/)", text)


def test_progress_runs_from_zero_to_one(coded):
    seen = []
    export(coded["review"], "qdpx", progress=lambda f, message="": seen.append(f))
    assert seen == sorted(seen)
    assert seen[0] > 0 and seen[-1] == 1.0


def test_a_review_with_documents_but_no_codes_still_exports(review, lead):
    study = Study.objects.create(review=review, label="Smith 2020")
    add_document(study=study, title="Findings", text="Just text.", source="paste", user=lead)
    root, sources = project_of(export(review, "qdpx"))
    assert root.find("q:CodeBook", NS) is None and root.find("q:Users", NS) is None
    assert list(sources.values()) == ["Just text."]


@needs_refi_data
def test_a_review_with_codes_but_no_documents_is_a_valid_project(review, lead):
    create_code(review=review, user=lead, name="Only code")
    root, sources = project_of(export(review, "qdpx"))
    schema("Project.xsd").assertValid(root)
    assert sources == {}


def test_a_review_without_coding_is_refused_with_a_reason(review):
    with pytest.raises(ExportError, match="no codes and no documents"):
        export(review, "qdpx")


@needs_refi_data
def test_sample_project_reads_the_same_way_as_ours():
    """The reader in `codings` follows the GUID references of a real ATLAS.ti export, so
    the structure our tests read is the one other tools write."""
    with zipfile.ZipFile(REFI_DATA / "samples" / "skyloom-TestProject.qdpx") as archive:
        root = etree.fromstring(archive.read("Project.qde"))
    schema("Project.xsd").assertValid(root)
    found = codings(root)
    assert found and all(isinstance(start, int) and end > start for _, start, end, _, _ in found)


@needs_refi_data
def test_demo_review_exports_a_valid_project(db):
    from reviewapp.demo import DEMO_SLUG, seed_demo
    from reviewapp.models import Review

    seed_demo()
    review = Review.objects.get(slug=DEMO_SLUG)
    data = export(review, "qdpx")
    root, sources = project_of(data)
    schema("Project.xsd").assertValid(root)
    assert len(codings(root)) >= Excerpt.objects.filter(review=review).count()
    assert {u.get("name") for u in root.iterfind("q:Users/q:User", NS)} == {
        "Demo Reviewer One", "Demo Reviewer Two",
    }  # fmt: skip
    assert len(sources) == root.xpath("count(//q:TextSource)", namespaces=NS)
    assert b"@demo.example" not in data
    assert export(review, "qdpx") == data
