import datetime
import io
import json

import pytest
from openpyxl import Workbook

from screening.importers import tabular
from screening.importers.base import ImportFileError
from screening.importers.decode import open_text
from screening.importers.normalise import normalise_entry

# Every CSV/TSV/XLSX sample and its number of data rows (the MANIFEST counts agree). Rows
# whose title and abstract are blank (duplicate_records.csv, missing_values.csv) are still
# entries: the importer counts and lists them instead of screening them.
SAMPLES = {
    "csv-tsv-xlsx/asreview/ACEInhibitors_debug_record_id.xlsx": 2544,
    "csv-tsv-xlsx/asreview/duplicate_records.csv": 14,
    "csv-tsv-xlsx/asreview/embase.csv": 6,
    "csv-tsv-xlsx/asreview/embase_newpage.csv": 6,
    "csv-tsv-xlsx/asreview/generic.csv": 2,
    "csv-tsv-xlsx/asreview/generic_bad_record_id.csv": 6,
    "csv-tsv-xlsx/asreview/generic_column_names_with_spaces.csv": 2,
    "csv-tsv-xlsx/asreview/generic_labels.csv": 6,
    "csv-tsv-xlsx/asreview/generic_labels_no_abs.csv": 6,
    "csv-tsv-xlsx/asreview/generic_labels_no_title.csv": 6,
    "csv-tsv-xlsx/asreview/generic_partial_labels.csv": 6,
    "csv-tsv-xlsx/asreview/generic_semicolon.csv": 2,
    "csv-tsv-xlsx/asreview/generic_tab.csv": 2,
    "csv-tsv-xlsx/asreview/generic_tab.tab": 2,
    "csv-tsv-xlsx/asreview/generic_tab.tsv": 2,
    "csv-tsv-xlsx/asreview/missing_values.csv": 4,
    "csv-tsv-xlsx/asreview/record_id.csv": 10,
    "csv-tsv-xlsx/asysd/zotero_export.csv": 1233,
    "csv-tsv-xlsx/bibliometrix/lens_sample.csv": 8,
    "csv-tsv-xlsx/bibliometrix/openalex_sample.csv": 8,
    "csv-tsv-xlsx/colrev/ieee_csv.csv": 2,
    "csv-tsv-xlsx/colrev/pubmed.csv": 10,
    "csv-tsv-xlsx/litstudy/ieee.csv": 10,
    "csv-tsv-xlsx/litstudy/springer.csv": 18,
    "csv-tsv-xlsx/synthesisr/eviatlas.csv": 1,
    "csv-tsv-xlsx/synthesisr/eviatlas.tsv": 1,
    # 56 of its 58 rows have one cell more than the header: see test_scopus_funding_texts.
    "scopus-csv/litstudy/scopus.csv": 58,
    "scopus-csv/bibliometrix/scopus_sample.csv": 8,
}


def fmt_of(path):
    extension = path.suffix.lower().lstrip(".")
    return {"tab": "tsv"}.get(extension, extension)


def load(path, mapping=None):
    fmt = fmt_of(path)
    with open(path, "rb") as binary:
        source = binary if fmt == "xlsx" else open_text(binary, filename=path.name)[0]
        entries = tabular.parse(source, filename=path.name, fmt=fmt, mapping=mapping)
        return [normalise_entry(e) for e in entries]


def columns_of(path):
    fmt = fmt_of(path)
    with open(path, "rb") as binary:
        source = binary if fmt == "xlsx" else open_text(binary, filename=path.name)[0]
        return tabular.read_columns(source, fmt=fmt, filename=path.name)


def parse_bytes(data, *, fmt="csv", mapping=None):
    stream, _ = open_text(io.BytesIO(data), filename="t.csv")
    return [normalise_entry(e) for e in tabular.parse(stream, fmt=fmt, mapping=mapping)]


def by_title(entries, start):
    return next(e for e in entries if e.title.startswith(start))


@pytest.mark.parametrize(("relative", "expected"), SAMPLES.items())
def test_every_sample_imports_its_rows(sample, shared_data, relative, expected):
    manifest = json.loads((shared_data / "import-samples" / "MANIFEST.json").read_text())
    records = {m["file"]: m["records"] for m in manifest}
    assert records[f"import-samples/{relative}"] == expected

    entries = load(sample(relative))

    assert len(entries) == expected
    assert [e.position for e in entries] == list(range(1, expected + 1))


@pytest.mark.parametrize("relative", SAMPLES)
def test_suggest_mapping_recognises_every_exporter(sample, relative):
    columns = columns_of(sample(relative))
    mapping = tabular.suggest_mapping(columns)

    assert not tabular.needs_mapping(mapping)
    assert mapping.get("title") or mapping.get("abstract")
    assert set(mapping.values()) <= set(columns)


def test_every_sample_is_covered(sample):
    found = set()
    for folder in ("csv-tsv-xlsx", "scopus-csv"):
        root = sample(folder)
        found |= {f"{folder}/{p.relative_to(root).as_posix()}" for p in root.rglob("*.*")}
    assert found == set(SAMPLES)


def test_needs_mapping_for_unknown_columns():
    mapping = tabular.suggest_mapping(["Col A", "Col B"])

    assert mapping == {}
    assert tabular.needs_mapping(mapping)
    assert not tabular.needs_mapping({"abstract": "Col B"})


def test_suggest_mapping_ignores_case_spaces_and_punctuation():
    mapping = tabular.suggest_mapping(
        ["DOCUMENT TITLE", "abstract_note", "Source Title", "page-start", "Page  End", "pubmed id"]
    )

    assert mapping == {
        "title": "DOCUMENT TITLE",
        "abstract": "abstract_note",
        "journal": "Source Title",
        "start_page": "page-start",
        "end_page": "Page  End",
        "pmid": "pubmed id",
    }


def test_suggest_mapping_prefers_the_better_column():
    mapping = tabular.suggest_mapping(
        ["Authors", "Author full names", "Author(s) ID", "Source title", "Source", "id",
         "record_id", "Issue", "Number"]
    )  # fmt: skip

    assert mapping["authors"] == "Author full names"
    assert mapping["journal"] == "Source title"
    assert mapping["source_id"] == "record_id"
    assert mapping["issue"] == "Issue"


def test_read_columns_strips_whitespace(sample):
    columns = columns_of(sample("csv-tsv-xlsx/asreview/generic_column_names_with_spaces.csv"))

    assert columns[0] == "abstract"
    assert columns_of(sample("csv-tsv-xlsx/asysd/zotero_export.csv"))[:2] == ["Key", "Item Type"]
    assert columns_of(sample("csv-tsv-xlsx/asreview/ACEInhibitors_debug_record_id.xlsx")) == [
        "record_id", "title", "keywords", "authors", "abstract", "label1", "label2",
        "debug_label",
    ]  # fmt: skip


def test_scopus_new_export_uses_full_author_names(sample):
    entries = load(sample("scopus-csv/bibliometrix/scopus_sample.csv"))
    first = entries[0]

    # 'Authors' is 'Liu F.; Li C.; ...'; 'Author full names' adds given names and ids.
    assert first.authors == ["Liu, Fengyuan", "Li, Chunyun", "Liu, Yong", "Li, Yufei"]
    assert first.title.startswith("Quantitative analysis of studies that use artificial")
    assert first.year == 2026
    assert first.journal == "Digital Health"
    assert first.doi == "10.1177/20552076261415846"
    assert first.source_id == "2-s2.0-105030721984"
    assert first.pmid == ""  # written as NA
    assert first.keywords[0] == "Artificial intelligence"
    assert first.raw["Authors"] == "Liu F.; Li C.; Liu Y.; Li Y."


def test_scopus_old_export_splits_comma_separated_authors(sample):
    entries = load(sample("scopus-csv/litstudy/scopus.csv"))
    namd = by_title(entries, "Scalable molecular dynamics with NAMD")

    assert namd.authors[:3] == ["Phillips, J.C.", "Braun, R.", "Wang, W."]
    assert namd.authors[-2:] == ["Kalé, L.", "Schulten, K."]
    assert namd.year == 2005
    assert namd.journal == "Journal of Computational Chemistry"
    assert (namd.volume, namd.issue, namd.pages) == ("26", "16", "1781-1802")
    assert namd.doi == "10.1002/jcc.20289"
    assert namd.source_id == "2-s2.0-27344436659"
    assert namd.keywords == ["Biomolecular simulation", "Molecular dynamics", "Parallel computing"]


def test_scopus_funding_texts_beyond_the_header(sample):
    """Scopus heads the file with as many 'Funding Text N' columns as its first record has;
    later records with more funding texts have more cells. Those must not shift the columns."""
    entries = load(sample("scopus-csv/litstudy/scopus.csv"))
    petri = by_title(entries, "Petri nets and ODEs as complementary methods")

    assert petri.authors[0] == "Gutowska, K."
    assert petri.pmid == "35064163"
    assert petri.language == "English"
    assert petri.publication_type == "Article"
    assert petri.source_id == "2-s2.0-85123480963"
    assert petri.raw["References"].startswith("Edelstein-Keshet, L., (2005)")


def test_embase_source_gives_year_volume_issue_pages(sample):
    entries = load(sample("csv-tsv-xlsx/asreview/embase.csv"))
    first = entries[0]

    assert first.title.startswith("Duplication cysts: Diagnosis, management")
    assert first.authors == ["Liu, R.", "Adler, D.G."]
    assert first.journal == "Endoscopic Ultrasound"
    assert first.year == 2014
    assert (first.volume, first.issue, first.pages) == ("3", "3", "152-160")
    assert first.raw["Source"].startswith("Endoscopic Ultrasound (2014) 3:3 (152-160).")
    # Commas inside brackets belong to the keyword.
    assert "bronchogenic duplication cyst (diagnosis, surgery)" in first.keywords
    third = entries[2]
    assert (third.year, third.volume, third.issue, third.pages) == (2019, "54", "", "83-86")


def test_pubmed_csv(sample):
    entries = load(sample("csv-tsv-xlsx/colrev/pubmed.csv"))
    first, second = entries[0], entries[1]

    assert first.pmid == first.source_id == "34957939"
    assert first.authors[0] == "Hajj-Boutros, G"
    assert first.year == 2022
    assert first.journal == "Eur J Sport Sci"
    assert first.doi == "10.1080/17461391.2021.2023656"
    # Volume, issue and pages only appear inside 'Citation'.
    assert (second.volume, second.issue, second.pages) == ("25", "3", "181-188")


def test_ieee_exports(sample):
    litstudy = load(sample("csv-tsv-xlsx/litstudy/ieee.csv"))[0]
    colrev = load(sample("csv-tsv-xlsx/colrev/ieee_csv.csv"))[0]

    assert litstudy.title.startswith("Exascale Computing Trends")
    assert litstudy.authors == ["Kogge, P.", "Shalf, J."]
    assert litstudy.journal == "Computing in Science & Engineering"
    assert litstudy.pages == "16-26"
    assert litstudy.doi == "10.1109/mcse.2013.95"
    assert colrev.authors == ["Rottman, Joseph", "Carmel, Erran", "Lacity, Mary"]
    assert colrev.journal == "Computer"
    assert colrev.doi == "10.1109/mc.2011.377"


def test_springer_run_together_authors(sample):
    entries = load(sample("csv-tsv-xlsx/litstudy/springer.csv"))

    assert entries[0].authors == ["Aliev, Araz R.", "Ismayilova, Nigar T."]
    assert entries[0].doi == "10.1007/978-3-030-92127-9_33"
    assert entries[0].publication_type == "Chapter"
    assert entries[0].year == 2022
    # Academic titles go; 'LiuHailong' splits, 'De Cock' keeps its particle.
    zhang = next(e for e in entries if e.authors[0] == "Zhang, Guozhen")
    assert zhang.authors == ["Zhang, Guozhen", "Liu, Yi", "Yang, Hailong", "Qian, Depei"]
    bede = next(e for e in entries if e.authors[0] == "Bede, Barnabás")
    assert bede.authors[2] == "De Cock, Martine"
    assert any(e.authors == ["Rüttgers, Mario", "Waldmann, Moritz", "Schröder, Wolfgang",
                             "Lintermann, Andreas"] for e in entries)  # fmt: skip


def test_lens_export(sample):
    first = load(sample("csv-tsv-xlsx/bibliometrix/lens_sample.csv"))[0]

    assert first.source_id == "000-360-106-493-122"
    assert first.authors[:2] == ["Radanliev, Petar", "De Roure, David"]
    assert first.year == 2020
    assert first.journal == "Environment systems & decisions"
    assert first.pages == "1-12"
    assert first.pmid == "33251087"
    assert first.doi == "10.1007/s10669-020-09792-x"
    assert first.publication_type == "journal article"


def test_openalex_export(sample):
    first = load(sample("csv-tsv-xlsx/bibliometrix/openalex_sample.csv"))[0]

    assert first.title == "bibliometrix : An R-tool for comprehensive science mapping analysis"
    assert first.authors == ["Aria, Massimo", "Cuccurullo, Corrado"]
    assert first.doi == "10.1016/j.joi.2017.08.007"  # given as https://doi.org/...
    assert first.journal == "Journal of Informetrics"
    assert first.year == 2017
    assert first.source_id == "https://openalex.org/W2755950973"
    assert first.language == "en"


def test_zotero_csv(sample):
    first = load(sample("csv-tsv-xlsx/asysd/zotero_export.csv"))[0]

    assert first.source_id == "ACSRAG7N"
    assert first.title == "Myoclonus in older Cavalier King Charles Spaniels."
    assert first.authors == ["Rotter, Carina", "Whittaker, Danielle", "Rusbridge, Clare"]
    assert first.year == 2022
    assert first.doi == "10.1111/jvim.16404"
    assert first.pmid == "35319117"  # from 'Extra': 'Place: United States PMID: 35319117 ...'
    assert first.publication_type == "journalArticle"


def test_eviatlas_csv_and_tsv_agree(sample):
    [from_csv] = load(sample("csv-tsv-xlsx/synthesisr/eviatlas.csv"))
    [from_tsv] = load(sample("csv-tsv-xlsx/synthesisr/eviatlas.tsv"))

    assert from_csv == from_tsv
    assert from_csv.authors[:2] == ["Haddaway, Neal R.", "Feierman, Andrew"]
    assert from_csv.title == "EviAtlas: a tool for visualising evidence synthesis databases"
    assert from_csv.doi == "10.1186/s13750-019-0167-1"
    assert from_csv.source_id == "Haddaway2019"
    assert from_csv.pages == "22"


@pytest.mark.parametrize(
    "relative",
    [
        "csv-tsv-xlsx/asreview/generic.csv",
        "csv-tsv-xlsx/asreview/generic_semicolon.csv",
        "csv-tsv-xlsx/asreview/generic_tab.csv",
        "csv-tsv-xlsx/asreview/generic_tab.tsv",
        "csv-tsv-xlsx/asreview/generic_tab.tab",
        "csv-tsv-xlsx/asreview/generic_column_names_with_spaces.csv",
    ],
)
def test_asreview_generic_in_every_delimiter(sample, relative):
    first = load(sample(relative))[0]

    assert first.title == "Title of reference"
    assert first.abstract.startswith("BACKGROUND: Lorem ipsum")
    assert first.authors == ["Marx, Karl", "Lindgren, Astrid"]  # a Python list literal
    assert first.keywords == ["Pippi", "Nordwind", "Piraten"]
    assert first.year == 2014  # '2014//'
    assert first.publication_type == "JOUR"


def test_asreview_record_id_beats_id(sample):
    entries = load(sample("csv-tsv-xlsx/asreview/generic_bad_record_id.csv"))

    assert [e.source_id for e in entries] == ["0", "0", "3", "4f", "5", "7"]
    assert entries[0].raw["id"] == "12345"


def test_blank_titles_and_abstracts_are_empty_entries(sample):
    entries = load(sample("csv-tsv-xlsx/asreview/duplicate_records.csv"))

    assert [e.is_empty for e in entries].count(True) == 4
    # Blank-looking cells ('   ') are empty; raw keeps only cells with content.
    assert entries[-1].raw == {"doi": "10.7", "some_column": "lorem"}


def test_xlsx_sample_numbers_become_clean_strings(sample):
    entries = load(sample("csv-tsv-xlsx/asreview/ACEInhibitors_debug_record_id.xlsx"))
    first = entries[0]

    assert first.source_id == "8551488"
    assert first.raw["debug_label"] == "0"
    assert first.title.startswith("'Captopril test', with blood pressure")
    assert first.authors[:2] == ["Schreij, G", "van Es, P N"]
    assert first.keywords[:2] == ["Adult", "Aged"]
    assert first.line == 2


def test_xlsx_with_numeric_years(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([])  # a blank row before the header is skipped
    sheet.append(["Title", "Year", "PMID", "Published", "Pages"])
    sheet.append(["First", 2019, 31234567, datetime.datetime(2019, 5, 1), "1-5"])
    sheet.append(["Second", 2020.0, 3.5, None, None])
    sheet.append([None, None, None, None, None])
    sheet.append(["Third", "2021", None, datetime.date(2021, 1, 2), 7])
    path = tmp_path / "export.xlsx"
    workbook.save(path)

    entries = load(path)

    assert [e.title for e in entries] == ["First", "Second", "Third"]
    assert [e.year for e in entries] == [2019, 2020, 2021]
    assert entries[0].raw == {
        "Title": "First", "Year": "2019", "PMID": "31234567", "Published": "2019-05-01",
        "Pages": "1-5",
    }  # fmt: skip
    assert entries[0].pmid == "31234567"
    assert entries[1].raw["Year"] == "2020"
    assert entries[1].raw["PMID"] == "3.5"
    assert entries[2].raw["Pages"] == "7"
    assert [e.line for e in entries] == [3, 4, 6]  # spreadsheet row numbers


def test_not_an_xlsx_file():
    with pytest.raises(ImportFileError, match="not a readable XLSX workbook"):
        list(tabular.parse(io.BytesIO(b"PK\x03\x04 nonsense"), fmt="xlsx", filename="x.xlsx"))


def test_quoted_multiline_fields_crlf_bom_and_blank_rows():
    data = (
        '\ufeff"Title","Abstract","Authors"\r\n'
        '"A title","Line one\r\nline two, with a comma","Smith, J; Jones, K"\r\n'
        "\r\n"
        ",,\r\n"
        '"B ""quoted"" title",,"Solo, Han"\r\n'
    ).encode()

    entries = parse_bytes(data)

    assert [e.title for e in entries] == ["A title", 'B "quoted" title']
    assert entries[0].raw["Abstract"] == "Line one\nline two, with a comma"
    assert entries[0].authors == ["Smith, J", "Jones, K"]
    assert entries[1].authors == ["Solo, Han"]
    assert [e.line for e in entries] == [2, 6]
    assert [e.position for e in entries] == [1, 2]


def test_delimiter_is_sniffed_from_the_header():
    assert parse_bytes(b"title|abstract\nT|A, with comma\n")[0].abstract == "A, with comma"
    assert parse_bytes(b'title;abstract\n"T;1";A\n')[0].title == "T;1"


def test_row_with_more_cells_than_the_header_is_rejected():
    data = b"title,abstract\nT1,A1\nT2,A2,stray\n"

    with pytest.raises(ImportFileError, match="3 cells but the header has 2") as caught:
        parse_bytes(data)
    assert caught.value.line == 3


def test_trailing_empty_cells_are_harmless():
    assert parse_bytes(b"title,abstract\nT1,A1,,\n")[0].title == "T1"


def test_explicit_mapping_on_odd_headers():
    data = (
        b"Naam,Samenvatting,Wie,Jaartal,Blz van,Blz tot,Ref\n"
        b"Een titel,Een samenvatting,Jansen J.; De Vries P.,2018,10,12,R1\n"
    )
    mapping = {
        "title": "Naam", "abstract": "Samenvatting", "authors": "Wie", "year": "Jaartal",
        "start_page": "Blz van", "end_page": "Blz tot", "source_id": "Ref", "doi": "",
    }  # fmt: skip

    with pytest.raises(ImportFileError, match="no column was recognised as the title"):
        parse_bytes(data)
    [entry] = parse_bytes(data, mapping=mapping)

    assert entry.title == "Een titel"
    assert entry.abstract == "Een samenvatting"
    assert entry.authors == ["Jansen, J.", "De Vries, P."]
    assert entry.year == 2018
    assert entry.pages == "10-12"
    assert entry.source_id == "R1"


def test_mapping_to_a_missing_column_is_rejected():
    with pytest.raises(ImportFileError, match="no column named 'Titel'"):
        parse_bytes(b"title\nT\n", mapping={"title": "Titel"})


def test_mapping_with_an_unknown_field_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown fields"):
        parse_bytes(b"title\nT\n", mapping={"headline": "title"})


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("Hansson, L", ["Hansson, L"]),
        ("van Es, P N", ["van Es, P N"]),
        ("Liu R., Adler D.G.", ["Liu, R.", "Adler, D.G."]),
        ("Smith, J; Jones, K", ["Smith, J", "Jones, K"]),
        ("Massimo Aria|Corrado Cuccurullo", ["Aria, Massimo", "Cuccurullo, Corrado"]),
        ("Haddaway, Neal R. and Westgate, Martin J.", ["Haddaway, Neal R.", "Westgate, Martin J."]),
        ("Max Van Kleek", ["Van Kleek, Max"]),
        ("['Marx, Karl']", ["Marx, Karl"]),
        ("Liu, Fengyuan (60410297700); Li, Yufei (57193852372)", ["Liu, Fengyuan", "Li, Yufei"]),
    ],
)
def test_author_cells(cell, expected):
    assert tabular._authors(cell) == expected
