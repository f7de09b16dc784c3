"""REFI-QDA codebook exchange: export validity, round trips, the published samples, and
hostile files."""

import io
import struct
import uuid
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from coding import refi
from coding.models import PALETTE, Code
from coding.refi import (
    ImportSummary,
    ParsedCode,
    RefiError,
    codebook_filename,
    export_codebook,
    import_codebook,
    parse_codebook,
    walk,
)
from tests.factories import ReviewFactory

# shared/ sits beside the clone (as in CI); a developer's clone alone does not have it.
REFI_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "refi-qda"
SAMPLES = REFI_DATA / "samples"
needs_refi_data = pytest.mark.skipif(
    not REFI_DATA.is_dir(), reason=f"REFI-QDA schemas and samples not found at {REFI_DATA}"
)

QDE_NAMES = [
    "happiness",
    "Feelings",
    "disgust",
    "waste of time",
    "Coke::full-fat Coke",
    "Coke::diet Coke",
    "Coke",
    "milk",
    "serene",
    "bacon and eggs",
    "sleepy",
    "Breakfast food",
    "cornflakes",
    '"rushed"',
]


@pytest.fixture
def codebook(review, lead):
    """Two themes; the first has a code with a sub-code. Positions are given out of creation
    order so the export's ordering shows."""
    harm = Code.objects.create(
        review=review,
        name="Harm & <safety>",
        description="Anything about harm.",
        inclusion_notes="Patient-reported harm.",
        exclusion_notes="Near misses.",
        colour="#fde68a",
        position=1,
        created_by=lead,
    )
    trust = Code.objects.create(
        review=review, name="Trust", colour="#bfdbfe", position=0, created_by=lead
    )
    blame = Code.objects.create(
        review=review,
        parent=harm,
        name="Blame “culture”",
        description="First line\nsecond line",
        colour="#bbf7d0",
        created_by=lead,
    )
    shame = Code.objects.create(
        review=review,
        parent=blame,
        name="Shame",
        exclusion_notes="Guilt alone.",
        colour="#fecaca",
        created_by=lead,
    )
    return {"harm": harm, "trust": trust, "blame": blame, "shame": shame}


def tree_of(review):
    """(name, description, inclusion notes, exclusion notes, colour, guid, children) from the
    database, siblings in position order."""
    codes = list(Code.objects.filter(review=review).order_by("position", "id"))

    def build(parent_id):
        return [
            (c.name, c.description, c.inclusion_notes, c.exclusion_notes, c.colour, c.guid,
             build(c.pk))
            for c in codes
            if c.parent_id == parent_id
        ]  # fmt: skip

    return build(None)


def qdc(codes_xml, *, extra=""):
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes_xml}</Codes>{extra}</CodeBook>'
    ).encode()


def zipped(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(zipfile.ZipInfo(name), content)
    return buffer.getvalue()


def declare_size(data, size):
    """The archive with its (single) member's uncompressed size rewritten in both headers."""
    data = bytearray(data)
    local = data.index(b"PK\x03\x04")
    central = data.index(b"PK\x01\x02")
    data[local + 22 : local + 26] = struct.pack("<I", size)
    data[central + 24 : central + 28] = struct.pack("<I", size)
    return bytes(data)


GUID = "1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294"
ONE_CODE = qdc(f'<Code guid="{GUID}" name="code1" isCodable="true"/>')


# ------------------------------------------------------------------------------ export


@needs_refi_data
@pytest.mark.django_db
def test_export_validates_against_the_codebook_schema(codebook):
    schema = etree.XMLSchema(etree.parse(str(REFI_DATA / "Codebook.xsd")))
    document = etree.fromstring(export_codebook(codebook["harm"].review))
    schema.assertValid(document)


@pytest.mark.django_db
def test_export_writes_the_tree_in_position_order_with_notes_and_colours(codebook):
    root = etree.fromstring(export_codebook(codebook["harm"].review))
    ns = {"q": "urn:QDA-XML:codebook:1.0"}

    assert root.tag == "{urn:QDA-XML:codebook:1.0}CodeBook"
    assert root.get("origin") == "reviewapp"
    assert root.find("q:Sets", ns) is None
    themes = root.findall("q:Codes/q:Code", ns)
    assert [t.get("name") for t in themes] == ["Trust", "Harm & <safety>"]
    trust, harm = themes
    assert trust.get("color") == "#BFDBFE"
    assert trust.get("isCodable") == "true"
    assert trust.find("q:Description", ns) is None
    assert harm.get("guid") == str(codebook["harm"].guid).upper()
    assert harm.get("color") == "#FDE68A"
    assert harm.find("q:Description", ns).text == (
        "Anything about harm.\n\n"
        "When to use: Patient-reported harm.\n\n"
        "When not to use: Near misses."
    )
    (blame,) = harm.findall("q:Code", ns)
    assert blame.get("name") == "Blame “culture”"
    (shame,) = blame.findall("q:Code", ns)
    assert shame.find("q:Description", ns).text == "When not to use: Guilt alone."


@pytest.mark.django_db
def test_export_leaves_out_a_colour_the_schema_would_refuse(review):
    Code.objects.create(review=review, name="Odd", colour="teal")

    root = etree.fromstring(export_codebook(review))

    assert root.find("{*}Codes/{*}Code").get("color") is None


@pytest.mark.django_db
def test_export_is_byte_for_byte_stable_and_names_no_person(codebook, lead):
    review = codebook["harm"].review

    first = export_codebook(review)

    assert export_codebook(review) == first
    assert lead.name.encode() not in first
    assert lead.email.encode() not in first
    assert first.startswith(b"<?xml version='1.0' encoding='utf-8'?>\n<CodeBook ")


@pytest.mark.django_db
def test_export_orders_siblings_with_equal_positions_by_id(review):
    for name in ("b", "a", "c"):
        Code.objects.create(review=review, name=name, position=0)

    root = etree.fromstring(export_codebook(review))

    assert [c.get("name") for c in root.iter("{*}Code")] == ["b", "a", "c"]


@pytest.mark.django_db
def test_export_drops_characters_xml_cannot_carry(review):
    Code.objects.create(review=review, name="bell\x07", description="tab\tvertical\x0btab")

    parsed = parse_codebook(export_codebook(review), "x.qdc")

    assert (parsed[0].name, parsed[0].description) == ("bell", "tab\tverticaltab")


@pytest.mark.django_db
def test_export_of_an_empty_codebook_is_refused(review):
    with pytest.raises(RefiError, match="no codes yet"):
        export_codebook(review)


@pytest.mark.django_db
def test_codebook_filename_uses_the_review_slug(review):
    assert codebook_filename(review) == "harm-codebook.qdc"


# --------------------------------------------------------------------------- round trip


@pytest.mark.django_db
def test_round_trip_into_a_fresh_review_reproduces_the_codebook(codebook, lead):
    source = codebook["harm"].review
    target = ReviewFactory()

    parsed = parse_codebook(export_codebook(source), codebook_filename(source))
    summary = import_codebook(target, parsed, lead)

    assert summary == ImportSummary(created=4, updated=0, skipped=0)
    assert tree_of(target) == tree_of(source)
    assert Code.objects.filter(review=target, created_by=lead).count() == 4


@pytest.mark.django_db
def test_reimport_updates_codes_instead_of_duplicating_them(codebook, lead):
    review = codebook["harm"].review
    edited = (
        export_codebook(review)
        .replace(b'name="Trust"', b'name="Trust in staff"')
        .replace(b"Near misses.", b"Near misses and hunches.")
        .replace(b'color="#FDE68A"', b'color="#123456"')
    )

    summary = import_codebook(review, parse_codebook(edited, "edited.qdc"), lead)

    assert summary == ImportSummary(created=0, updated=2, skipped=2)
    assert Code.objects.filter(review=review).count() == 4
    harm, trust = codebook["harm"], codebook["trust"]
    harm.refresh_from_db()
    trust.refresh_from_db()
    assert trust.name == "Trust in staff"
    assert (harm.description, harm.inclusion_notes, harm.exclusion_notes, harm.colour) == (
        "Anything about harm.",
        "Patient-reported harm.",
        "Near misses and hunches.",
        "#123456",
    )
    again = import_codebook(review, parse_codebook(edited, "edited.qdc"), lead)
    assert again == ImportSummary(created=0, updated=0, skipped=4)


@pytest.mark.django_db
def test_an_update_without_description_or_colour_keeps_the_reviews(codebook, lead):
    harm = codebook["harm"]
    file = qdc(f'<Code guid="{harm.guid}" name="Harm" isCodable="true"/>')

    import_codebook(harm.review, parse_codebook(file, "bare.qdc"), lead)

    harm.refresh_from_db()
    assert (harm.name, harm.description, harm.inclusion_notes, harm.colour) == (
        "Harm",
        "Anything about harm.",
        "Patient-reported harm.",
        "#fde68a",
    )


@pytest.mark.django_db
def test_new_codes_follow_existing_siblings_in_file_order(codebook, lead):
    review = codebook["harm"].review
    new_a, new_b, new_child = (str(uuid.uuid4()) for _ in range(3))
    file = qdc(
        f'<Code guid="{new_a}" name="Zeta" isCodable="true"/>'
        f'<Code guid="{codebook["harm"].guid}" name="Harm &amp; &lt;safety&gt;" isCodable="true">'
        f'<Code guid="{new_child}" name="Fear" isCodable="true"/></Code>'
        f'<Code guid="{new_b}" name="Alpha" isCodable="true"/>'
    )

    summary = import_codebook(review, parse_codebook(file, "more.qdc"), lead)

    assert summary == ImportSummary(created=3, updated=0, skipped=1)
    themes = Code.objects.filter(review=review, parent=None).order_by("position", "id")
    assert [(c.name, c.position) for c in themes] == [
        ("Trust", 0),
        ("Harm & <safety>", 1),
        ("Zeta", 2),
        ("Alpha", 3),
    ]
    fear = Code.objects.get(review=review, name="Fear")
    assert (fear.parent, fear.position, str(fear.guid)) == (codebook["harm"], 1, new_child)


@pytest.mark.django_db
def test_import_under_a_parent_and_into_several_reviews_keeps_guids(codebook, lead):
    other = ReviewFactory()
    parent = Code.objects.create(review=other, name="Imported")
    parsed = parse_codebook(ONE_CODE, "one.qdc")

    import_codebook(codebook["harm"].review, parsed, lead, parent=codebook["trust"])
    import_codebook(other, parsed, lead, parent=parent)

    mine = Code.objects.get(review=codebook["harm"].review, name="code1")
    theirs = Code.objects.get(review=other, name="code1")
    assert (mine.parent, mine.guid) == (codebook["trust"], uuid.UUID(GUID))
    assert (theirs.parent, theirs.guid) == (parent, uuid.UUID(GUID))


@pytest.mark.django_db
def test_import_of_hand_built_codes_fixes_bad_guids_and_colours(review, lead):
    parsed = [ParsedCode(guid="not-a-guid", name="Loose", colour="red")]

    import_codebook(review, parsed, lead)

    code = Code.objects.get(review=review)
    assert code.colour == PALETTE[0] == Code._meta.get_field("colour").default
    assert code.guid != "not-a-guid"


@pytest.mark.django_db
def test_a_tree_deeper_than_the_codebook_allows_is_refused_whole(review, lead):
    guids = [str(uuid.uuid4()) for _ in range(4)]
    file = qdc(
        f'<Code guid="{guids[0]}" name="L1" isCodable="true">'
        f'<Code guid="{guids[1]}" name="L2" isCodable="true">'
        f'<Code guid="{guids[2]}" name="L3" isCodable="true">'
        f'<Code guid="{guids[3]}" name="L4" isCodable="true"/>'
        "</Code></Code></Code>"
    )

    with pytest.raises(RefiError, match="“L4” would sit 4 levels deep"):
        import_codebook(review, parse_codebook(file, "deep.qdc"), lead)

    assert not Code.objects.filter(review=review).exists()


@pytest.mark.django_db
def test_import_refuses_a_parent_from_another_review(review, lead):
    stranger = Code.objects.create(review=ReviewFactory(), name="Elsewhere")

    with pytest.raises(ValueError, match="another review"):
        import_codebook(review, parse_codebook(ONE_CODE, "one.qdc"), lead, parent=stranger)


# ------------------------------------------------------------------------------ samples


def sample(name):
    return (SAMPLES / name).read_bytes()


@needs_refi_data
@pytest.mark.django_db
def test_atlasti_codebook_sample_imports_its_one_code(review, lead):
    parsed = parse_codebook(sample("atlasti-win-23.4-codebook.qdc"), "atlas.qdc")

    summary = import_codebook(review, parsed, lead)

    assert summary == ImportSummary(created=1, updated=0, skipped=0)
    code = Code.objects.get(review=review)
    assert (code.name, code.description, code.colour, code.guid, code.parent) == (
        "code1",
        "description",
        "#46aa00",
        uuid.UUID(GUID),
        None,
    )


@needs_refi_data
@pytest.mark.django_db
def test_atlasti_project_sample_imports_its_fourteen_flat_codes(review, lead):
    parsed = parse_codebook(sample("atlasti-8.4-standard-project.qde"), "standard.qde")

    summary = import_codebook(review, parsed, lead)

    assert summary == ImportSummary(created=14, updated=0, skipped=0)
    codes = list(Code.objects.filter(review=review).order_by("position"))
    # ATLAS.ti writes its code groups as "Coke::diet Coke" names in a flat list.
    assert [c.name for c in codes] == QDE_NAMES
    assert {c.parent_id for c in codes} == {None}
    assert [c.position for c in codes] == list(range(14))
    by_name = {c.name: c for c in codes}
    assert by_name["Coke::diet Coke"].description == "non sucré"
    assert by_name["cornflakes"].description == "breakfast cereal made by Kellogg’s"
    assert by_name["happiness"].description == ""
    assert sum(1 for c in codes if c.description) == 7
    assert by_name["cornflakes"].colour == "#dc0000"
    # The one code without a colour takes the default.
    assert by_name["milk"].colour == PALETTE[0]
    assert by_name["milk"].guid == uuid.UUID("C3C7D437-6932-4B14-A55D-30B7F811BBF3")


@needs_refi_data
def test_skyloom_archive_sample_holds_the_same_codes_as_the_project():
    from_archive = parse_codebook(sample("skyloom-TestProject.qdpx"), "TestProject.qdpx")
    from_project = parse_codebook(sample("atlasti-8.4-standard-project.qde"), "standard.qde")

    assert [c.name for c in from_archive] == QDE_NAMES
    assert from_archive == from_project


@needs_refi_data
def test_taguette_sample_with_an_empty_sets_element_is_refused():
    name = "taguette-1.5-codebook.INVALID.qdc"

    with pytest.raises(RefiError) as caught:
        parse_codebook(sample(name), name)

    assert str(caught.value) == (
        f"{name}: the codebook has an empty <Sets/> element, which the REFI-QDA schema forbids "
        "(<Sets> must hold at least one <Set>; Taguette writes such files). Delete the <Sets/> "
        "element and upload the file again."
    )


# --------------------------------------------------------------------- tolerated input


def test_colours_may_be_lower_case_short_or_missing_and_descriptions_absent():
    guids = [str(uuid.uuid4()) for _ in range(4)]
    file = qdc(
        f'<Code guid="{guids[0]}" name="a" isCodable="true" color="#abcdef"/>'
        f'<Code guid="{{{guids[1]}}}" name="b" isCodable="true" color="#FA0"/>'
        f'<Code guid="{guids[2]}" name="  c   d " isCodable="true"/>'
        f'<Code guid="{guids[3]}" name="e" isCodable="true" color="teal"><Description/></Code>'
    )

    parsed = parse_codebook(file, "loose.qdc")

    assert [(c.name, c.colour, c.description) for c in parsed] == [
        ("a", "#abcdef", None),
        ("b", "#ffaa00", None),
        ("c d", None, None),
        ("e", None, ""),
    ]
    assert parsed[1].guid == uuid.UUID(guids[1])


def test_sets_with_members_are_ignored():
    sets = f'<Sets><Set guid="{uuid.uuid4()}" name="group"><MemberCode guid="{GUID}"/></Set></Sets>'

    file = qdc(f'<Code guid="{GUID}" name="x" isCodable="true"/>', extra=sets)

    parsed = parse_codebook(file, "sets.qdc")

    assert [c.name for c in parsed] == ["x"]


def test_a_qdpx_may_name_its_project_file_in_any_case():
    project = (
        '<Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook><Codes>'
        f'<Code guid="{GUID}" name="inside" isCodable="true"/></Codes></CodeBook></Project>'
    )
    archive = zipped({"sources/": b"", "PROJECT.QDE": project.encode()})

    assert [c.name for c in parse_codebook(archive, "p.qdpx")] == ["inside"]


def test_walk_visits_parents_before_children():
    file = qdc(
        f'<Code guid="{uuid.uuid4()}" name="a" isCodable="true">'
        f'<Code guid="{uuid.uuid4()}" name="b" isCodable="true"/></Code>'
        f'<Code guid="{uuid.uuid4()}" name="c" isCodable="true"/>'
    )

    assert [c.name for c in walk(parse_codebook(file, "w.qdc"))] == ["a", "b", "c"]


# ------------------------------------------------------------------ malformed and hostile


def refused(data, filename):
    with pytest.raises(RefiError) as caught:
        parse_codebook(data, filename)
    message = str(caught.value)
    assert message.startswith(f"{filename}: ")
    return message


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE CodeBook [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
<Code guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="&lol4;" isCodable="true"/>
</Codes></CodeBook>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE CodeBook [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>
<Code guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="x" isCodable="true">
<Description>&secret;</Description></Code>
</Codes></CodeBook>"""


@pytest.mark.parametrize("data", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["laughs", "external"])
def test_entity_declarations_are_refused(data):
    message = refused(data, "evil.qdc")

    assert "DTD or entity declarations" in message
    assert "refuse for safety" in message


def test_entity_declarations_inside_a_qdpx_are_refused():
    message = refused(zipped({"project.qde": BILLION_LAUGHS}), "evil.qdpx")

    assert "DTD or entity declarations" in message


@pytest.mark.parametrize("member", ["../x", "../project.qde", "/etc/project.qde", "a/../../b"])
def test_a_qdpx_with_an_unsafe_member_path_is_refused(member):
    message = refused(zipped({"project.qde": ONE_CODE, member: b"x"}), "escape.qdpx")

    assert f"unsafe path ({member!r})" in message


def test_a_qdpx_member_declaring_a_huge_size_is_refused_unread():
    bomb = declare_size(zipped({"project.qde": ONE_CODE}), 0xF000_0000)

    message = refused(bomb, "bomb.qdpx")

    assert "project.qde would unpack to 4,026,531,840 bytes, over the limit" in message


def test_a_qdpx_member_over_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(refi, "MAX_MEMBER_BYTES", 1000)

    message = refused(zipped({"project.qde": b" " * 5000}), "big.qdpx")

    assert "would unpack to 5,000 bytes, over the limit of 1,000" in message


def test_a_qdpx_member_lying_about_its_size_is_refused():
    liar = declare_size(zipped({"project.qde": ONE_CODE + b" " * 5000}), 100)

    message = refused(liar, "liar.qdpx")

    assert "project.qde cannot be unpacked" in message


@pytest.mark.parametrize(
    ("data", "filename", "problem"),
    [
        (b"<CodeBook/>", "plain.qdpx", "not a ZIP archive, and a .qdpx file must be one"),
        (bytes(range(256)) * 4, "noise.qdpx", "not a ZIP archive"),
        (bytes(range(256)) * 4, "noise.qdc", "not well-formed XML"),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "picture.qde", "not well-formed XML"),
        (b"", "empty.qdc", "not well-formed XML"),
        (
            b'<?xml version="1.0" encoding="utf-9"?><CodeBook/>',
            "odd.qdc",
            "text encoding cannot be read (unknown encoding: utf-9)",
        ),
        (
            declare_size(zipped({"project.qde": b"x" * 100}), 10),
            "crc.qdpx",
            "project.qde cannot be unpacked (Bad CRC-32",
        ),
        (
            zipped({"project.qde": ONE_CODE})[:-30],
            "cut.qdpx",
            "not a ZIP archive",
        ),
        (zipped({"notes.txt": b"hi"}), "hollow.qdpx", "the archive has no project.qde file"),
        (
            zipped({"a/project.qde": ONE_CODE, "b/Project.qde": ONE_CODE}),
            "twice.qdpx",
            "more than one project file (a/project.qde, b/Project.qde)",
        ),
        (
            b"<html><body>hello</body></html>",
            "page.qdc",
            "its root element is <html> with no namespace, expected <CodeBook> in namespace "
            "urn:QDA-XML:codebook:1.0",
        ),
        (
            b'<CodeBook xmlns="urn:QDA-XML:codebook:0.4"><Codes/></CodeBook>',
            "old.qdc",
            "its root element is <CodeBook> in namespace urn:QDA-XML:codebook:0.4",
        ),
        (
            b'<Project xmlns="urn:QDA-XML:project:1.0" name="p"/>',
            "bare.qde",
            "the project has no codebook (no <CodeBook> element)",
        ),
        (
            b'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"/>',
            "nocodes.qdc",
            "the codebook has no <Codes> element",
        ),
        (qdc(""), "empty-codes.qdc", "the codebook has no codes"),
        (
            qdc(f'<Code guid="{GUID}" name="  " isCodable="true"/>'),
            "nameless.qdc",
            f"code number 1 (guid {GUID}) has no name",
        ),
        (
            qdc('<Code name="x" isCodable="true"/>'),
            "guidless.qdc",
            "the code 'x' has a missing or malformed guid (none)",
        ),
        (
            qdc('<Code guid="1234" name="x" isCodable="true"/>'),
            "badguid.qdc",
            "the code 'x' has a missing or malformed guid ('1234')",
        ),
        (
            qdc(f'<Code guid="{{{GUID}" name="x" isCodable="true"/>'),
            "brace.qdc",
            "the code 'x' has a missing or malformed guid",
        ),
        (
            qdc(
                f'<Code guid="{GUID}" name="x" isCodable="true">'
                f'<Code guid="{GUID.lower()}" name="y" isCodable="true"/></Code>'
            ),
            "twins.qdc",
            f"the guid {GUID.lower()} is used by more than one code",
        ),
        (
            qdc(f'<Code guid="{GUID}" name="{"n" * 201}" isCodable="true"/>'),
            "long.qdc",
            "a code's name is longer than 200 characters",
        ),
    ],
)
def test_malformed_files_are_refused_with_a_clear_message(data, filename, problem):
    assert problem in refused(data, filename)


def test_absurdly_deep_nesting_is_refused_before_recursion_trouble():
    depth = refi.MAX_NESTING + 1
    codes = "".join(f'<Code guid="{uuid.uuid4()}" name="n" isCodable="true">' for _ in range(depth))

    message = refused(qdc(codes + "</Code>" * depth), "deep.qdc")

    assert f"nested more than {refi.MAX_NESTING} levels deep" in message


def test_too_many_codes_are_refused(monkeypatch):
    monkeypatch.setattr(refi, "MAX_CODES", 2)
    codes = "".join(f'<Code guid="{uuid.uuid4()}" name="n" isCodable="true"/>' for _ in range(3))

    assert "more than 2 codes" in refused(qdc(codes), "many.qdc")


@needs_refi_data
def test_the_schema_itself_refuses_the_taguette_sample_for_its_empty_sets():
    # Proves the XSD check above has teeth, and that our reason for refusing is the schema's.
    schema = etree.XMLSchema(etree.parse(str(REFI_DATA / "Codebook.xsd")))

    assert not schema.validate(etree.fromstring(sample("taguette-1.5-codebook.INVALID.qdc")))
    assert "Sets" in str(schema.error_log.last_error)
    assert "Missing child element(s)" in str(schema.error_log.last_error)
