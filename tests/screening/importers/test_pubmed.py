import io
import json

import pytest

from screening.importers import pubmed
from screening.importers.base import ImportFileError
from screening.importers.decode import open_text
from screening.importers.normalise import normalise_entry

# Agree with MANIFEST.json's 'records' ('PMID-' lines): every record starts with PMID.
COUNTS = {
    "pubmed-nbib/litsearchr-tutorial/pubmed-medication-set.nbib": 133,
    "pubmed-nbib/synthesisr/PubMed_example.txt": 3,
}


def load(source, filename="test.nbib"):
    with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as binary:
        stream, _ = open_text(binary)
        return [normalise_entry(entry) for entry in pubmed.parse(stream, filename=filename)]


def test_every_nbib_sample_has_a_count(shared_data):
    manifest = json.loads((shared_data / "import-samples" / "MANIFEST.json").read_text())
    listed = {m["file"].removeprefix("import-samples/"): m["records"] for m in manifest}
    assert {f: n for f, n in listed.items() if f.startswith("pubmed-nbib/")} == COUNTS


@pytest.mark.parametrize("relative", sorted(COUNTS))
def test_record_count(sample, relative):
    entries = load(sample(relative), filename=relative)
    assert len(entries) == COUNTS[relative]
    assert all(e.pmid and e.source_id == e.pmid for e in entries)


def test_medication_set(sample):
    entries = load(sample("pubmed-nbib/litsearchr-tutorial/pubmed-medication-set.nbib"))  # CRLF
    first = entries[0]
    assert first.line == 1
    assert first.title == "Efficacy of treatments for anxiety disorders: a meta-analysis."
    assert first.authors[:3] == ["Bandelow, Borwin", "Reitt, Markus", "Röver, Christian"]
    assert first.year == 2015
    assert first.journal == "International clinical psychopharmacology"
    assert (first.volume, first.issue, first.pages) == ("30", "4", "183-92")
    assert first.doi == "10.1097/yic.0000000000000078"
    assert first.pmid == "25932596"
    assert first.language == "eng"
    assert first.publication_type == "Journal Article; Meta-Analysis; Review"
    assert "Humans" in first.keywords
    # The abstract's continuation lines are joined into one text.
    assert "pharmacological, psychological and combined treatments" in first.abstract
    assert first.abstract.endswith("contraindications.")
    assert first.raw["AU"][:2] == ["Bandelow B", "Reitt M"]
    assert first.raw["IS"] == ["1473-5857 (Electronic)", "0268-1315 (Linking)"]
    assert first.raw["AD"][0].endswith("Göttingen, Göttingen, Germany.")
    last = entries[-1]
    assert last.pmid == "19729149"
    assert last.doi == "10.1016/j.jbtep.2009.08.005"


def test_books_and_group_authors(sample):
    entries = load(sample("pubmed-nbib/litsearchr-tutorial/pubmed-medication-set.nbib"))
    book = entries[5]
    assert book.title == "Anxiety in Children"
    assert book.publication_type == "Review; Book"
    assert book.journal == ""
    group = entries[61]
    assert group.authors == ["Swedish Council on Health Technology Assessment"]  # CN only


def test_synthesisr_example(sample):
    entries = load(sample("pubmed-nbib/synthesisr/PubMed_example.txt"))
    first = entries[0]
    # TI wrapped over two lines.
    assert first.title == (
        "Differences in nitrate and phosphorus export between wooded and grassed riparian zones "
        "from farmland to receiving waterways under varying rainfall conditions."
    )
    assert first.doi == "10.1016/j.scitotenv.2017.04.075"  # the [pii] LID comes first
    assert first.raw["LID"][0] == "S0048-9697(17)30912-9 [pii]"
    assert first.journal == "The Science of the total environment"
    assert first.year == 2017
    assert entries[2].pages == "e5082"


RECORD = (
    "PMID- 123\n"
    "TI  - A <i>long</i> title that goes\n"
    "      on &amp; on.\n"
    "FAU - Doe, Jane\n"
    "AU  - Doe J\n"
    "DP  - 2019 Mar\n"
    "AID - 10.1000/XYZ [doi]\n"
    "MH  - Humans\n"
    "OT  - keyword\n"
    "ZZ  - unknown tag\n"
)


def test_fields_and_html_cleaned():
    entry = load(RECORD.encode())[0]
    assert entry.title == "A long title that goes on & on."
    assert entry.authors == ["Doe, Jane"]
    assert entry.year == 2019
    assert entry.doi == "10.1000/xyz"
    assert entry.keywords == ["keyword", "Humans"]
    assert entry.raw["ZZ"] == "unknown tag"


@pytest.mark.parametrize("newline", ["\r\n", "\r"])
def test_crlf_and_cr_line_endings(newline):
    entries = load((RECORD + "\n" + RECORD).replace("\n", newline).encode())
    assert [e.line for e in entries] == [1, 12]
    assert entries[1].title == "A long title that goes on & on."


def test_bom_and_utf16():
    assert load(b"\xef\xbb\xbf" + RECORD.encode())[0].pmid == "123"
    assert load(RECORD.replace("Jane", "Jöns").encode("utf-16"))[0].authors == ["Doe, Jöns"]


def test_records_without_blank_line_between():
    entries = load((RECORD + RECORD.replace("123", "456")).encode())
    assert [e.pmid for e in entries] == ["123", "456"]


def test_no_records():
    with pytest.raises(ImportFileError, match="no PubMed records found"):
        load(b"\n\nnothing here\n")
