import io
import json
import tracemalloc

import pytest

from screening.importers import endnote_xml, tabular
from screening.importers.base import ImportFileError
from screening.importers.decode import open_text
from screening.importers.normalise import normalise_entry

SAMPLES = {
    "endnote-xml/asysd/zotero_export.xml": 1233,
    "endnote-xml/asysd/mendeley_export.xml": 1233,
}


def load(path):
    with open(path, "rb") as binary:
        stream, _ = open_text(binary, filename=path.name)
        return [normalise_entry(e) for e in endnote_xml.parse(stream, filename=path.name)]


def parse_text(text):
    return [normalise_entry(e) for e in endnote_xml.parse(io.StringIO(text), filename="t.xml")]


def record(body):
    return f'<?xml version="1.0" encoding="UTF-8"?><xml><records>{body}</records></xml>'


@pytest.mark.parametrize(("relative", "expected"), SAMPLES.items())
def test_every_sample_imports_its_records(sample, shared_data, relative, expected):
    manifest = json.loads((shared_data / "import-samples" / "MANIFEST.json").read_text())
    records = {m["file"]: m["records"] for m in manifest}
    assert records[f"import-samples/{relative}"] == expected

    entries = load(sample(relative))

    assert len(entries) == expected
    assert [e.position for e in entries] == list(range(1, expected + 1))
    assert not any(e.is_empty for e in entries)


def test_every_sample_is_covered(sample):
    found = {
        f"endnote-xml/{p.relative_to(sample('endnote-xml')).as_posix()}"
        for p in sample("endnote-xml").rglob("*")
        if p.is_file()
    }
    assert found == set(SAMPLES)


def test_zotero_export_fields(sample):
    entries = load(sample("endnote-xml/asysd/zotero_export.xml"))
    first = entries[0]

    assert first.title == "Myoclonus in older Cavalier King Charles Spaniels."
    assert first.authors == ["Rotter, Carina", "Whittaker, Danielle", "Rusbridge, Clare"]
    assert first.year == 2022
    assert first.journal == "Journal of veterinary internal medicine"
    assert (first.volume, first.issue, first.pages) == ("36", "3", "1032-1038")
    assert first.doi == "10.1111/jvim.16404"
    assert first.language == "eng"
    assert first.publication_type == "Journal Article"
    assert first.keywords[:2] == ["*Dog Diseases/diagnostic imaging", "*Myoclonus/veterinary"]
    assert first.abstract.startswith("BACKGROUND: Myoclonus is observed")
    # Zotero writes neither rec-number nor accession-num.
    assert first.source_id == ""
    assert first.pmid == ""
    assert first.line is None
    # raw keeps every field, including those we do not map.
    assert first.raw["periodical/abbr-1"] == "J Vet Intern Med"
    assert first.raw["source-app@name"] == "Zotero"
    assert first.raw["ref-type"] == "17"
    assert first.raw["contributors/authors/author"][0] == "Rotter, Carina"
    assert first.raw["dates/pub-dates/date"] == "2022 May"
    assert sum(1 for e in entries if e.doi) == 1064


def test_mendeley_single_line_export_fields(sample):
    entries = load(sample("endnote-xml/asysd/mendeley_export.xml"))
    first = entries[0]

    assert first.title == "Myoclonus in older Cavalier King Charles Spaniels."
    assert first.authors[0] == "Rotter, Carina"
    assert first.year == 2022
    assert first.doi == "10.1111/jvim.16404"
    # Mendeley writes the PMID as accession number and names no remote database.
    assert first.pmid == "35319117"
    assert first.source_id == "35319117"
    assert all(e.pmid for e in entries)
    assert entries[1].authors == ["Cole, Lynette K"]


def test_zotero_xml_and_csv_exports_agree(sample):
    """The same Zotero library as EndNote XML and as CSV: same records in the same order."""
    xml = load(sample("endnote-xml/asysd/zotero_export.xml"))
    path = sample("csv-tsv-xlsx/asysd/zotero_export.csv")
    with open(path, "rb") as binary:
        stream, _ = open_text(binary)
        csv_entries = [normalise_entry(e) for e in tabular.parse(stream, fmt="csv")]

    assert len(xml) == len(csv_entries) == 1233
    for from_xml, from_csv in zip(xml, csv_entries, strict=True):
        assert from_xml.title == from_csv.title
        assert from_xml.doi == from_csv.doi
        assert from_xml.year == from_csv.year
        assert from_xml.authors == from_csv.authors


def test_mendeley_xml_and_zotero_csv_agree_by_pmid(sample):
    """Mendeley exported the library in another order; the PMID is the shared record id."""
    mendeley = {e.pmid: e for e in load(sample("endnote-xml/asysd/mendeley_export.xml"))}
    path = sample("csv-tsv-xlsx/asysd/zotero_export.csv")
    with open(path, "rb") as binary:
        stream, _ = open_text(binary)
        zotero = [normalise_entry(e) for e in tabular.parse(stream, fmt="csv")]

    assert {e.pmid for e in zotero} == set(mendeley)
    for entry in zotero:
        assert mendeley[entry.pmid].title == entry.title
        assert mendeley[entry.pmid].doi == entry.doi


def test_endnote_style_record_with_styles_urls_and_rec_number():
    text = record(
        "<record><rec-number>42</rec-number>"
        '<ref-type name="Book Section">5</ref-type>'
        "<contributors><authors><author><style face='normal' font='default' size='100%'>"
        "Smith, Jane</style></author></authors>"
        "<secondary-authors><author>Editor, E.</author></secondary-authors></contributors>"
        '<titles><title><style face="normal">Effects of </style><style face="italic">'
        "E. coli</style><style face='normal'> &amp; friends</style></title>"
        "<secondary-title>A Book</secondary-title></titles>"
        "<number>7</number><dates><pub-dates><date>March 2011</date></pub-dates></dates>"
        "<accession-num>WOS:000123</accession-num>"
        "<urls><related-urls><url>https://example.org/a</url>"
        "<url>https://doi.org/10.1000/ABC.1</url></related-urls></urls>"
        "</record>"
    )

    [entry] = parse_text(text)

    assert entry.title == "Effects of E. coli & friends"
    assert entry.authors == ["Smith, Jane"]
    assert entry.raw["contributors/secondary-authors/author"] == ["Editor, E."]
    assert entry.journal == "A Book"
    assert entry.issue == "7"
    assert entry.year == 2011
    assert entry.doi == "10.1000/abc.1"
    assert entry.url == "https://example.org/a"
    assert entry.source_id == "42"
    assert entry.pmid == ""
    assert entry.publication_type == "Book Section"


def test_numeric_accession_from_another_database_is_not_a_pmid():
    embase = record(
        "<record><titles><title>T</title></titles><accession-num>12345</accession-num>"
        "<remote-database-name>Embase</remote-database-name></record>"
    )
    pubmed = record(
        "<record><titles><title>T</title></titles><accession-num>12345</accession-num>"
        "<remote-database-name>PubMed</remote-database-name></record>"
    )

    assert parse_text(embase)[0].pmid == ""
    assert parse_text(pubmed)[0].pmid == "12345"


def test_billion_laughs_is_refused():
    text = (
        '<?xml version="1.0"?><!DOCTYPE xml ['
        '<!ENTITY lol "lol">'
        '<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">'
        "]><xml><records><record><titles><title>&lol3;</title></titles></record>"
        "</records></xml>"
    )

    with pytest.raises(ImportFileError, match="which we refuse for safety") as caught:
        parse_text(text)
    assert "entity declaration" in str(caught.value)
    assert caught.value.filename == "t.xml"


def test_external_entity_is_refused_and_never_read():
    text = (
        '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        "<xml><records><record><titles><title>&xxe;</title></titles></record>"
        "</records></xml>"
    )

    with pytest.raises(ImportFileError, match="which we refuse for safety") as caught:
        parse_text(text)
    assert "root:" not in str(caught.value)


def test_malformed_xml_names_the_line():
    text = (
        '<?xml version="1.0"?>\n<xml><records>\n<record><titles><title>A</title></titles>'
        "</record>\n<record><titles><title>B</titl></titles></record>\n</records></xml>\n"
    )

    with pytest.raises(ImportFileError, match="mismatched tag") as caught:
        parse_text(text)
    assert caught.value.line == 4
    assert "line 4" in str(caught.value)


def test_truncated_file_names_the_line():
    with pytest.raises(ImportFileError, match="malformed") as caught:
        parse_text(record("<record><titles><title>A</title></titles></record>")[:-30])
    assert caught.value.line == 1


def test_other_xml_is_not_mistaken_for_an_empty_endnote_file():
    with pytest.raises(ImportFileError, match="not an EndNote XML export"):
        parse_text("<?xml version='1.0'?><PubmedArticleSet></PubmedArticleSet>")


def test_empty_library_has_no_records():
    assert parse_text(record("")) == []


def test_memory_stays_bounded_on_a_large_file():
    """Each record is dropped from the tree once read, so memory does not grow with the file."""
    body = "".join(
        f"<record><rec-number>{n}</rec-number><titles><title>Title {n} " + "x" * 200
        + "</title></titles><abstract>" + "y" * 1000 + "</abstract></record>"
        for n in range(20000)
    )  # fmt: skip
    stream = io.StringIO(record(body))  # ~25 MB of XML
    tracemalloc.start()
    try:
        count = sum(1 for _ in endnote_xml.parse(stream))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 20000
    assert peak < 5_000_000
