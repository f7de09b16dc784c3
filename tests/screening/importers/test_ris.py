import io
import json

import pytest

from screening.importers import ris
from screening.importers.base import ImportFileError
from screening.importers.decode import open_text
from screening.importers.normalise import normalise_entry

# Records per file. These agree with MANIFEST.json's 'records' (lines starting 'TY  -'):
# every TY opens a record that the parser keeps.
COUNTS = {
    "ris/asreview/_baseline.ris": 100,
    "ris/asreview/baseline_zotero.ris": 100,
    "ris/asreview/baseline_empty_values.ris": 4,
    "ris/asreview/baseline_reference_types.ris": 61,
    "ris/asreview/baseline_tag-notes_labels.ris": 32,
    "ris/asreview/baseline_tag-notes_zotero.ris": 4,
    "ris/asreview/embase.ris": 6,
    "ris/asreview/faulty_year.ris": 1,
    "ris/asreview/ovid_psycinfo.ris": 6,
    "ris/asreview/ovid_zotero.ris": 6,
    "ris/asreview/proquest.ris": 6,
    "ris/asreview/pubmed_zotero.ris": 6,
    "ris/asreview/scopus.ris": 6,
    "ris/asreview/web_of_science.txt": 10,
    "ris/asreview/pubmed_endnote.txt": 6,
    "ris/asreview/ris_issue_992.txt": 19,
    "ris/asreview/ris_issue_1099.txt": 7,
    "ris/asreview/ris_many_authors.ris": 1,
    "ris/rispy/example_basic.ris": 1,
    "ris/rispy/example_bom.ris": 1,
    "ris/rispy/example_custom_list_tags.ris": 1,
    "ris/rispy/example_empty_tag.ris": 1,
    "ris/rispy/example_extraneous_data.ris": 2,
    "ris/rispy/example_full.ris": 2,
    "ris/rispy/example_full_without_whitespace.ris": 2,
    "ris/rispy/example_multi_unknown_tags.ris": 1,
    "ris/rispy/example_multiline.ris": 3,
    "ris/rispy/example_single_unknown_tag.ris": 1,
    "ris/rispy/example_starting_newlines.ris": 1,
    "ris/rispy/example_urls.ris": 4,
    "ris/rispy/example_utf_chars.ris": 1,
    "ris/asysd/wos_test.ris": 50,
    "ris/asysd/scopus.ris": 10,
    "ris/asysd/zotero_export.ris": 1000,
    "ris/synthesisr/Scopus_ris_example.ris": 3,
    "ris/synthesisr/citesource_issue_24.ris": 17,
    "ris/synthesisr/scopus.ris": 92,
    "ris/litstudy/example.ris": 25,
    "ris/revtools/avian_ecology_bibliography.ris": 20,
    "ris/colrev/jstor_ris.ris": 4,
    "ris/colrev/trid_ris.ris": 3,
    "ris/colrev/psycinfo_ris.ris": 1,
}


def load(source, filename="test.ris"):
    """Parse a sample path or bytes as the importer does: binary -> open_text -> parse ->
    normalise_entry."""
    with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as binary:
        stream, _ = open_text(binary)
        return [normalise_entry(entry) for entry in ris.parse(stream, filename=filename)]


def by_position(entries):
    return {entry.position: entry for entry in entries}


def test_every_ris_sample_has_a_count(shared_data):
    manifest = json.loads((shared_data / "import-samples" / "MANIFEST.json").read_text())
    listed = {m["file"].removeprefix("import-samples/") for m in manifest if m["format"] == "ris"}
    assert listed == set(COUNTS)
    for m in manifest:
        if m["format"] == "ris":
            assert COUNTS[m["file"].removeprefix("import-samples/")] == m["records"]


@pytest.mark.parametrize("relative", sorted(COUNTS))
def test_record_count(sample, relative):
    entries = load(sample(relative), filename=relative)
    assert len(entries) == COUNTS[relative]
    assert [e.position for e in entries] == list(range(1, len(entries) + 1))
    assert all("TY" in e.raw for e in entries)


def test_ovid_psycinfo(sample):
    # Line numbers ('1.') before each record, NL after ER, 'No'/'Specified' as SP/EP.
    entries = by_position(load(sample("ris/asreview/ovid_psycinfo.ris")))
    first = entries[1]
    assert first.line == 2
    assert first.title.startswith("The influence of self-criticism on depression symptoms")
    assert first.authors[0] == "Trindade, Ines A"
    assert first.year == 2019
    assert first.doi == "10.1002/cpp.2398"
    assert first.journal == "Clinical Psychology & Psychotherapy"
    assert first.source_id == "2019-65183-001"
    assert first.pages == ""
    assert first.raw["NL"] == "Clin Psychol Psychother"  # written after ER by Ovid
    assert first.raw["DO"] == ["http://dx.doi.org/10.1002/cpp.2398"] * 2
    assert entries[6].doi == "10.1007/s10880-019-09649-9"


def test_proquest(sample):
    first = load(sample("ris/asreview/proquest.ris"))[0]
    assert first.title.startswith("Predictors of posttraumatic stress symptom trajectories")
    assert first.authors[:2] == ["Jones, Hannah", "Dorahy, Martin J"]
    assert first.year == 2019
    assert first.journal == "Journal of Traumatic Stress"
    assert first.doi == "10.1002/jts.22387"
    assert first.language == "English"
    assert first.url == "https://search.proquest.com/docview/2214991469?accountid=14772"
    assert first.source_id == "2214991469; 51887"  # no ID tag: the accession number


def test_embase(sample):
    entries = load(sample("ris/asreview/embase.ris"))  # UTF-8 BOM
    second = entries[1]
    assert second.title.startswith("Endoscopic ultrasound-guided fine-needle aspiration")
    assert second.authors[0] == "Eloubeidi M.A."
    assert (second.year, second.volume, second.issue, second.pages) == (2004, "102", "4", "253-258")
    assert second.journal == "Cancer"
    assert second.doi == "10.1002/cncr.20369"
    assert second.publication_type == "JOUR; Article"
    assert "article" in second.keywords


def test_scopus_pmid_from_c2(sample):
    entries = load(sample("ris/asreview/scopus.ris"))
    second = entries[1]
    assert second.title == (
        "Hypothesis: Mechanism of irritable bowel syndrome in inflammatory bowel disease"
    )
    assert second.authors == ["Uno, Y."]
    assert second.journal == "Medical Hypotheses"
    assert second.doi == "10.1016/j.mehy.2019.109324"
    assert second.pmid == "31421429"
    assert second.raw["C2"] == "31421429"
    assert entries[0].pmid == ""  # a review without a PubMed ID


def test_web_of_science_ris(sample):
    first = load(sample("ris/asreview/web_of_science.txt"))[0]
    assert first.title.startswith("Holding Yourself Captive")
    assert first.authors == ["Alceste, F", "Luke, TJ", "Kassin, SM"]
    assert first.year == 2018
    assert first.journal == "JOURNAL OF APPLIED RESEARCH IN MEMORY AND COGNITION"
    assert first.doi == "10.1016/j.jarmac.2018.03.001"
    assert first.source_id == "WOS:000444108200009"
    # Continuation lines of a list tag become further items.
    assert first.raw["N1"][1:] == ["Total Times Cited:  7", "Cited Reference Count:  30"]


def test_zotero(sample):
    first = load(sample("ris/asreview/baseline_zotero.ris"))[0]  # CRLF
    assert first.title == (
        "An open source machine learning framework for efficient and transparent systematic reviews"
    )
    assert first.authors[0] == "van de Schoot, Rens"
    assert first.journal == "Nature Machine Intelligence"
    assert first.doi == "10.1038/s42256-020-00287-7"
    assert first.pages == "125-133"


def test_rayyan_keywords_continue_without_tags(sample):
    entries = load(sample("ris/asreview/ris_issue_992.txt"))
    first = entries[0]
    assert first.keywords[:3] == ["Health Facility Administration", "Joint Commission", "Standards"]
    assert len(first.keywords) == 13
    assert first.source_id == "1"
    last = entries[-1]
    assert last.doi == "10.1176/appi.ps.202000115"
    assert last.journal == "Psychiatric Services"
    # EndNote's '<Go to ISI>://WOS:...' is not a web address: kept in raw, not as url.
    assert last.url == ""
    assert last.raw["UR"] == ["<Go to ISI>://WOS:000614610400014"]


def test_pubmed_via_endnote(sample):
    first = load(sample("ris/asreview/pubmed_endnote.txt"))[0]  # leading blank line
    assert first.line == 2
    assert first.title.startswith("Boswellia serrata: an overall assessment")
    assert first.authors[0] == "Abdel-Tawab, M."
    assert first.pmid == "21553931"  # AN with DP 'NLM'
    assert first.doi == "10.2165/11586800-000000000-00000"
    assert first.pages == "349-69"


def test_psycinfo_pmid_tag_and_provider_header(sample):
    entry = load(sample("ris/colrev/psycinfo_ris.ris"))[0]
    assert entry.line == 5  # after the 'Provider:' header lines
    assert entry.pmid == "33355555"
    assert entry.raw["TY"] == "JOUR"  # 'PMID  - ...' did not run into TY
    assert entry.doi == "10.1011/hea0004444"
    assert entry.pages == "1023-1095"


def test_jstor_header_lines_between_records(sample):
    entries = load(sample("ris/colrev/jstor_ris.ris"))
    assert [e.line for e in entries] == [6, 32, 60, 86]
    assert entries[1].doi == "10.1111/something.2014.3.4.56"
    assert entries[3].publication_type == "RPRT"


def test_pmid_from_pubmed_link(sample):
    first = load(sample("ris/asreview/_baseline.ris"))[0]
    assert first.pmid == "22752652"
    assert first.authors[0] == "Blomberg, Björn A."
    assert first.source_id == "000-463-679-101-319"


def test_mixed_line_endings(sample):
    entries = load(sample("ris/litstudy/example.ris"))  # CRLF, LF and CR
    assert entries[0].title == "The European Approach to the Exascale Challenge"
    assert entries[0].doi == "10.1109/mcse.2018.2884139"
    wos = load(sample("ris/asysd/wos_test.ris"))  # LF with CR inside notes
    assert wos[0].raw["N1"] == [
        "Times Cited in Web of Science Core Collection:  13",
        "Total Times Cited:  13",
        "Cited Reference Count:  11",
    ]


def test_rispy_examples(sample):
    multiline = load(sample("ris/rispy/example_multiline.ris"))
    # 'ER then second line' is text, not the end tag.
    assert multiline[2].raw["N2"] == "first line, ER then second line and at the end the last line"
    assert multiline[2].raw["N1"] == ["first line", "* second line", "* last line"]
    empty = load(sample("ris/rispy/example_empty_tag.ris"))[0]
    assert empty.raw["SP"] == ""
    assert empty.doi == "10.1177/2325967120950040"
    urls = load(sample("ris/rispy/example_urls.ris"))
    assert urls[3].raw["UR"] == ["http://example.com;http://www.example.com"]
    assert urls[3].url == "http://example.com"
    extraneous = load(sample("ris/rispy/example_extraneous_data.ris"))
    assert [e.title for e in extraneous] == ["Title of reference", "The title of the reference"]


def test_raw_keeps_unknown_tags(sample):
    entry = load(sample("ris/rispy/example_multi_unknown_tags.ris"))[0]
    assert entry.raw["JP"] == "CRISPR"
    assert entry.raw["DC"] == "Direct Current"
    assert entry.raw["AU"] == ["Shannon,Claude E."]
    repeated = load(sample("ris/rispy/example_single_unknown_tag.ris"))[0]
    assert repeated.raw["JP"] == ["CRISPR", "Direct Current"]


# Small files built in the tests.

RECORD = (
    "TY  - JOUR\n"
    "TI  - A &amp; B: <i>in vitro</i> study\n"
    "AU  - Doe, Jane\n"
    "AU  - Roe, Rick\n"
    "PY  - 2020/05/01\n"
    "JO  - Journal of Tests\n"
    "SP  - 12\n"
    "EP  - 34\n"
    "DO  - https://doi.org/10.1000/ABC.123\n"
    "XX  - unknown tag value\n"
    "ER  - \n"
)


def test_fields_and_html_cleaned():
    entry = load(RECORD.encode())[0]
    assert entry.title == "A & B: in vitro study"
    assert entry.authors == ["Doe, Jane", "Roe, Rick"]
    assert (entry.year, entry.journal, entry.pages) == (2020, "Journal of Tests", "12-34")
    assert entry.doi == "10.1000/abc.123"
    assert entry.raw["XX"] == "unknown tag value"
    assert entry.raw["TI"] == "A &amp; B: <i>in vitro</i> study"  # raw is as written


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(newline):
    data = (RECORD + "\n" + RECORD).replace("\n", newline).encode()
    entries = load(data)
    assert [e.line for e in entries] == [1, 13]
    assert entries[1].title == "A & B: in vitro study"
    assert "ER" not in entries[1].raw


def test_utf8_bom_and_utf16():
    assert load(b"\xef\xbb\xbf" + RECORD.encode())[0].raw["TY"] == "JOUR"
    utf16 = load(RECORD.replace("Doe", "Dø").encode("utf-16"))[0]
    assert utf16.authors[0] == "Dø, Jane"
    assert utf16.year == 2020


def test_irregular_spacing():
    data = b"TY - JOUR\nTI   - Spaced title\nET-1 levels rose\nAU  -Doe, J\nER -\n"
    entry = load(data)[0]
    # 'ET-1' starts like the ET tag but has no spaced dash: it continues the title.
    assert entry.title == "Spaced title ET-1 levels rose"
    assert entry.authors == ["Doe, J"]
    assert entry.raw["TY"] == "JOUR"


def test_no_records():
    with pytest.raises(ImportFileError, match="no RIS records found: expected lines like"):
        load(b"Provider: Nobody\nJust some text\n")


def test_missing_er_before_next_record():
    data = (RECORD + RECORD.replace("ER  - \n", "") + RECORD).encode()
    with pytest.raises(ImportFileError) as caught:
        load(data, filename="cut.ris")
    assert (caught.value.entry, caught.value.line) == (2, 12)
    assert str(caught.value) == (
        "cut.ris (entry 2, line 12): this record has no 'ER  -' end tag; the next record "
        "starts at line 22"
    )


def test_truncated_last_record_is_kept_if_it_has_fields():
    # Lenient like reference managers: the file ended, the fields read so far are data.
    data = (RECORD + "TY  - JOUR\nTI  - Cut off here\nAB  - The abstr").encode()
    entries = load(data)
    assert [e.title for e in entries] == ["A & B: in vitro study", "Cut off here"]
    assert entries[1].abstract == "The abstr"


def test_truncated_last_record_without_fields_is_an_error():
    with pytest.raises(ImportFileError, match=r"\(entry 2, line 12\): .* looks cut off"):
        load((RECORD + "TY  - JOUR\n").encode())


def test_repeated_single_tag_with_continuation():
    data = b"TY  - JOUR\nAD  - First address\nAD  - Second\n  address continued\nER  -\n"
    assert load(data)[0].raw["AD"] == ["First address", "Second address continued"]


def test_streams_without_building_a_list():
    def lines():
        for i in range(3):
            yield f"TY  - JOUR\nTI  - Title {i}\nER  -\n"
        raise AssertionError("the parser read past the record it yielded")

    class Stream:
        def __iter__(self):
            for chunk in lines():
                yield from chunk.splitlines(keepends=True)

    entries = ris.parse(Stream(), filename="s.ris")
    assert next(entries).title == "Title 0"
    assert next(entries).title == "Title 1"
