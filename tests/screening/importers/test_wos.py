import io
import json

import pytest

from screening.importers import wos
from screening.importers.base import ImportFileError
from screening.importers.decode import open_text
from screening.importers.normalise import normalise_entry

# Agree with MANIFEST.json's 'records' ('PT ' lines, data rows). badFile.isi is listed with 32
# records but must be rejected: see test_bad_file_is_rejected.
PLAIN = {
    "wos/rispy/example_wos.ris": 2,
    "wos/wosfile/wos_plaintext.txt": 50,
    "wos/metaknowledge/testFile.isi": 34,
    "wos/metaknowledge/OnePaper.isi": 1,
    "wos/metaknowledge/TwoPaper.isi": 2,
    "wos/synthesisr/WoS_txt_example.txt": 4,
    "wos/bibliometrix/wos_sample.txt": 8,
}
TAB = {"wos/wosfile/wos_tab_delimited_win_utf8.txt": 50}
BAD = "wos/metaknowledge/badFile.isi"


def load(source, parse=wos.parse, filename="test.txt"):
    with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as binary:
        stream, _ = open_text(binary)
        return [normalise_entry(entry) for entry in parse(stream, filename=filename)]


def test_every_wos_sample_has_a_count(shared_data):
    manifest = json.loads((shared_data / "import-samples" / "MANIFEST.json").read_text())
    listed = {
        m["file"].removeprefix("import-samples/"): m["records"]
        for m in manifest
        if m["format"] in ("wos-plain", "wos-tab")
    }
    assert listed == {**PLAIN, **TAB, BAD: 32}


@pytest.mark.parametrize("relative", sorted(PLAIN))
def test_plain_record_count(sample, relative):
    entries = load(sample(relative), filename=relative)
    assert len(entries) == PLAIN[relative]
    assert all(e.title for e in entries)
    # UT is 'WOS:...' or, in all-databases exports, 'MEDLINE:...'; testFile.isi's 8th
    # record has none.
    ids = [e.source_id for e in entries]
    assert all(i.startswith(("WOS:", "MEDLINE:")) for i in ids if i)


def test_tab_record_count(sample):
    relative = "wos/wosfile/wos_tab_delimited_win_utf8.txt"
    assert len(load(sample(relative), parse=wos.parse_tab)) == TAB[relative]


def test_plain_and_tab_exports_agree(sample):
    plain = load(sample("wos/wosfile/wos_plaintext.txt"))
    tab = load(sample("wos/wosfile/wos_tab_delimited_win_utf8.txt"), parse=wos.parse_tab)
    fields = ("title", "authors", "year", "journal", "volume", "issue", "pages", "doi", "source_id")
    for p, t in zip(plain, tab, strict=True):
        assert [getattr(p, f) for f in fields] == [getattr(t, f) for f in fields]
    first = plain[0]
    assert first.line == 3
    assert first.title == (
        "Knowledge networks as channels and conduits: The effects of spillovers in the Boston "
        "biotechnology community"
    )
    assert first.authors == ["Owen-Smith, J", "Powell, WW"]
    assert (first.year, first.volume, first.issue, first.pages) == (2004, "15", "1", "5-21")
    assert first.journal == "ORGANIZATION SCIENCE"
    assert first.doi == "10.1287/orsc.1030.0054"
    assert first.source_id == "WOS:000220015600001"
    assert first.publication_type == "Article"
    assert first.keywords[:2] == ["knowledge networks", "economic geography"]
    assert "STRATEGIC ALLIANCE FORMATION" in first.keywords  # ID (Keywords Plus) too
    assert tab[0].line == 2
    assert tab[0].raw["PT"] == "J"
    assert "BA" not in tab[0].raw  # empty cells are not kept


def test_wos_with_ris_extension(sample):
    entries = load(sample("wos/rispy/example_wos.ris"))
    second = entries[1]
    assert second.title.startswith("Proximal and distal influences on ligand binding kinetics")
    assert second.authors[0] == "Cao, WX"
    assert second.pmid == "15170339"
    assert second.doi == "10.1021/bi0497291"
    assert second.raw["AU"][:2] == ["Cao, WX", "Ye, X"]  # one author per line


def test_full_names_preferred(sample):
    entry = load(sample("wos/metaknowledge/OnePaper.isi"))[0]  # UTF-8 BOM
    assert entry.authors == ["Marghetis, Tyler", "Nunez, Rafael"]
    assert entry.pmid == "23460466"
    assert entry.doi == "10.1111/tops.12013"
    assert entry.year == 2013


def test_article_number_as_pages(sample):
    first = load(sample("wos/synthesisr/WoS_txt_example.txt"))[0]
    assert first.pages == "1722034"  # AR 'UNSP 1722034'
    assert first.raw["AR"] == "UNSP 1722034"
    assert first.publication_type == "J"  # no DT in this export: PT
    assert load(sample("wos/synthesisr/WoS_txt_example.txt"))[3].source_id == "MEDLINE:31858815"


def test_tag_without_space(sample):
    # testFile.isi has the line 'AUGilles, H': the tag is still columns 1-2.
    entries = load(sample("wos/metaknowledge/testFile.isi"))
    gilles = next(e for e in entries if e.source_id == "WOS:000177484FG0017")
    assert gilles.raw["AU"] == ["Gilles, H", "Girard, S", "Hamel, J"]
    assert gilles.pmid == "18026466"


def test_bad_file_is_rejected(sample):
    # badFile.isi is testFile.isi with two records and the closing 'EF' line removed: the
    # export was cut off or edited, so no part of it is imported.
    with pytest.raises(ImportFileError) as caught:
        load(sample(BAD), filename="badFile.isi")
    assert caught.value.line == 2070
    assert str(caught.value) == (
        "badFile.isi (line 2070): the file ends after entry 32 without the 'EF' line that "
        "closes every Web of Science export: it looks cut off or edited; export it again"
    )


RECORD = (
    "PT J\n"
    "AU Doe, J\n"
    "   Roe, R\n"
    "AF Doe, Jane\n"
    "   Roe, Rick\n"
    "TI A &amp; <i>novel</i> title wrapped\n"
    "   over two lines\n"
    "SO JOURNAL OF TESTS\n"
    "DE one; two;\n"
    "   three\n"
    "PY 2021\n"
    "DI 10.1000/ABC\n"
    "XX unknown tag\n"
    "UT WOS:1\n"
    "ER\n"
)
FILE = "FN Clarivate Analytics Web of Science\nVR 1.0\n" + RECORD + "\n" + RECORD + "\nEF\n"


def test_fields_and_html_cleaned():
    entries = load(FILE.encode())
    assert [e.line for e in entries] == [3, 19]
    entry = entries[0]
    assert entry.title == "A & novel title wrapped over two lines"
    assert entry.authors == ["Doe, Jane", "Roe, Rick"]
    assert entry.keywords == ["one", "two", "three"]
    assert entry.doi == "10.1000/abc"
    assert entry.raw["XX"] == "unknown tag"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(newline):
    entries = load(FILE.replace("\n", newline).encode())
    assert [e.line for e in entries] == [3, 19]
    assert entries[1].authors == ["Doe, Jane", "Roe, Rick"]


def test_bom_and_utf16():
    assert len(load(b"\xef\xbb\xbf" + FILE.encode())) == 2
    assert load(FILE.replace("Jane", "Jöns").encode("utf-16"))[0].authors[0] == "Doe, Jöns"


def test_concatenated_exports():
    assert len(load((FILE + FILE).encode())) == 4


def test_record_without_er_before_next():
    data = FILE.replace("UT WOS:1\nER\n", "UT WOS:1\n", 1)
    with pytest.raises(
        ImportFileError,
        match=r"\(entry 1, line 3\): this record has no 'ER' end line; the next record starts at "
        r"line 18",
    ):
        load(data.encode())


def test_cut_off_inside_a_record():
    data = "FN x\nVR 1.0\n" + RECORD[:60]
    with pytest.raises(
        ImportFileError, match=r"\(entry 1, line 3\): this record ends without its 'ER'"
    ):
        load(data.encode())


def test_field_outside_a_record():
    data = FILE.replace("\n\nPT J\n", "\n\n", 1)
    with pytest.raises(ImportFileError) as caught:
        load(data.encode())
    assert caught.value.line == 19
    assert "'AU Doe, J' is outside any record (after entry 1)" in str(caught.value)


def test_no_records():
    with pytest.raises(ImportFileError, match="no Web of Science records found"):
        load(b"FN Clarivate Analytics Web of Science\nVR 1.0\nEF\n")


TAB_FILE = (
    "PT\tAU\tAF\tTI\tSO\tPY\tDI\tUT\n"
    "J\tDoe, J; Roe, R\t\tA title\tJ TEST\t2020\t10.1000/X\tWOS:9\t\n"
)


def test_tab_fields():
    entry = load(TAB_FILE.encode(), parse=wos.parse_tab)[0]
    assert entry.authors == ["Doe, J", "Roe, R"]  # AF empty: AU
    assert (entry.title, entry.year, entry.doi, entry.source_id) == (
        "A title",
        2020,
        "10.1000/x",
        "WOS:9",
    )
    assert entry.raw == {
        "PT": "J",
        "AU": "Doe, J; Roe, R",
        "TI": "A title",
        "SO": "J TEST",
        "PY": "2020",
        "DI": "10.1000/X",
        "UT": "WOS:9",
    }


def test_tab_row_with_extra_cells():
    data = TAB_FILE + "J\tX\t\tT\tS\t2020\t\tWOS:10\tstray\n"
    with pytest.raises(ImportFileError, match=r"\(entry 2, line 3\): row has 9 cells"):
        load(data.encode(), parse=wos.parse_tab)


def test_tab_row_cut_short():
    data = TAB_FILE + "J\tX\tY\n"
    with pytest.raises(ImportFileError, match="a value contains a line break"):
        load(data.encode(), parse=wos.parse_tab)


def test_tab_without_wos_header():
    with pytest.raises(ImportFileError, match="not a Web of Science header"):
        load(b"title\tauthors\nA\tB\n", parse=wos.parse_tab)
