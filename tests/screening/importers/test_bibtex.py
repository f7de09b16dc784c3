import io
import json

import pytest

from screening.importers import bibtex
from screening.importers.base import ImportFileError
from screening.importers.decode import open_text
from screening.importers.normalise import normalise_entry

# Every BibTeX sample and the number of records it must give. The MANIFEST's heuristic
# count (@type{ blocks) is right for all of them, but for different reasons than it counts:
# - wrong.bib: '@wrong{foo' is a well-formed entry of an unknown type. BibTeX itself treats
#   unknown types as @misc, so we import both entries (neither has a title, so both are
#   listed as empty rather than screened). Nothing in the file is broken.
# - article_missing_coma.bib: despite its name every entry is valid (a last field without
#   a trailing comma is legal BibTeX), so all four import.
# - biber-examples.bib and messy_bibfile.bib repeat a citation key (tmn4; hayashi02 and
#   polyanskiy10): two records that share a key are still two records (deduplication is a
#   later step), so they are imported rather than rejecting a 942-entry Mendeley export.
# - Scopus_bib_example.bib repeats the funding_details field in one entry; raw keeps both.
# - multiline_comments.bib holds only @comment blocks: no records.
SAMPLES = {
    "bibtex/asysd/zotero_export.bib": 1000,
    "bibtex/bibtexparser/article_missing_coma.bib": 4,
    "bibtex/bibtexparser/article_no_braces.bib": 1,
    "bibtex/bibtexparser/article_start_with_bom.bib": 1,
    "bibtex/bibtexparser/article_with_special_characters.bib": 1,
    "bibtex/bibtexparser/biber-examples.bib": 118,
    "bibtex/bibtexparser/book_bom.bib": 1,
    "bibtex/bibtexparser/comments_spaces_and_declarations.bib": 1,
    "bibtex/bibtexparser/crossref_entries.bib": 14,
    "bibtex/bibtexparser/encoding.bib": 1,
    "bibtex/bibtexparser/gbk_test.bib": 1,
    "bibtex/bibtexparser/messy_bibfile.bib": 942,
    "bibtex/bibtexparser/multiline_comments.bib": 0,
    "bibtex/bibtexparser/string.bib": 1,
    "bibtex/bibtexparser/traps.bib": 1,
    "bibtex/bibtexparser/wrong.bib": 2,
    "bibtex/colrev/europe_pmc.bib": 150,
    "bibtex/synthesisr/Scopus_bib_example.bib": 3,
}


def load(path):
    with open(path, "rb") as binary:
        stream, _ = open_text(binary, filename=path.name)
        return [normalise_entry(e) for e in bibtex.parse(stream, filename=path.name)]


def parse_text(text):
    return [normalise_entry(e) for e in bibtex.parse(io.StringIO(text), filename="t.bib")]


@pytest.mark.parametrize(("relative", "expected"), SAMPLES.items())
def test_every_sample_imports_its_records(sample, shared_data, relative, expected):
    manifest = json.loads((shared_data / "import-samples" / "MANIFEST.json").read_text())
    records = {m["file"]: m["records"] for m in manifest}
    assert records[f"import-samples/{relative}"] == expected

    entries = load(sample(relative))

    assert len(entries) == expected
    assert [e.position for e in entries] == list(range(1, expected + 1))


def test_every_sample_is_covered(sample):
    root = sample("bibtex")
    found = {f"bibtex/{p.relative_to(root).as_posix()}" for p in root.rglob("*") if p.is_file()}
    assert found == set(SAMPLES)


def test_zotero_export_fields(sample):
    entries = load(sample("bibtex/asysd/zotero_export.bib"))
    first, second = entries[0], entries[1]

    # {Cocker} {Spaniel}: Zotero's case-protecting braces are not part of the title.
    assert first.title == (
        "Microangiography of the humeral condyle in Cocker Spaniel and non-Cocker Spaniel dogs"
    )
    assert first.authors == ["Larsen, LJ", "Roush, JK", "McLaughlin, RM", "Cash, WC"]
    assert first.year == 1999
    assert first.journal == "VETERINARY AND COMPARATIVE ORTHOPAEDICS AND TRAUMATOLOGY"
    assert first.pages == "134-137"
    assert first.source_id == "larsen_microangiography_1999"
    assert first.publication_type == "article"
    assert first.language == "English"
    assert first.keywords == [
        "blood supply", "Cocker Spaniels", "FRACTURES", "humeral condylar fractures",
        "microangiography",
    ]  # fmt: skip
    assert first.line == 2
    assert first.raw["ENTRYTYPE"] == "article"
    assert first.raw["ID"] == "larsen_microangiography_1999"
    assert first.raw["month"] == "aug"  # an unresolved macro stays as written
    assert first.raw["title"].startswith("Microangiography of the humeral condyle in {Cocker}")
    assert second.doi == "10.21521/mw.6330"
    assert sum(1 for e in entries if e.doi) == 718
    # \% and {\textless} in abstracts are decoded.
    assert not any("\\" in e.abstract for e in entries)


def test_europe_pmc_export(sample):
    entries = load(sample("bibtex/colrev/europe_pmc.bib"))
    first = next(e for e in entries if e.source_id == "PMID:36879665")

    assert first.pages == "59-67"  # written as 59—67 (em dash)
    assert first.pmid == "36879665"  # Europe PMC's citation key is the PMID
    assert first.doi == "10.2147/nss.s391802"
    assert first.journal == "Nature and science of sleep"
    assert first.authors[0] == "Lim, Su Eun"
    assert first.year == 2023
    assert "<h4>" not in first.abstract and first.abstract.startswith("Purpose The commercial")
    assert entries[0].authors[4] == "van Uffelen, Jannique"
    assert entries[0].raw["Title"].startswith("Engagement, acceptability")  # keys as given


def test_scopus_export_with_a_repeated_field(sample):
    entries = load(sample("bibtex/synthesisr/Scopus_bib_example.bib"))
    first = entries[0]

    assert first.source_id == "Li2020"
    assert first.authors[:2] == ["Li, W.", "Dou, Z."]
    assert first.doi == "10.1080/20964129.2020.1722034"
    assert first.keywords[:2] == ["Environmental factors", "Lake Taihu"]
    funding = first.raw["funding_details"]
    assert len(funding) == 2
    assert funding[0] == "University of TwenteUniversity of Twente"
    assert funding[1].startswith("Special Fund for Forest Scientific Research")


def test_repeated_citation_keys_are_both_imported(sample):
    entries = load(sample("bibtex/bibtexparser/messy_bibfile.bib"))
    hayashi = [e for e in entries if e.source_id == "hayashi02"]

    assert len(hayashi) == 2
    assert all(e.title for e in hayashi)


def test_latex_is_decoded_in_shown_fields(sample):
    [entry] = load(sample("bibtex/bibtexparser/article_with_special_characters.bib"))

    assert entry.authors == ["Césarü, Jean"]
    assert entry.raw["author"] == "Jean C{\\'e}sar{\\\"u}"  # raw keeps the LaTeX

    messy = load(sample("bibtex/bibtexparser/messy_bibfile.bib"))
    vanerven = next(e for e in messy if e.source_id == "vanerven14")
    assert vanerven.title == "Rény Divergence and Kullback-Leibler Divergence"
    shayevitz = next(e for e in messy if e.source_id == "shayevitz11")
    # Mendeley's doubly escaped R$\backslash$'enyi.
    assert shayevitz.abstract.startswith("The Rényi information measures")


def test_string_macros_resolve(sample):
    [entry] = load(sample("bibtex/bibtexparser/string.bib"))

    assert entry.journal == "Proceedings of the IEEE Symposium on Security and Privacy"
    assert entry.title == "Program-Adaptive Mutational Fuzzing"
    assert entry.authors == ["Cha, Sang Kil", "Woo, Maverick", "Brumley, David"]
    assert entry.pages == "725-741"
    assert entry.publication_type == "inproceedings"

    [declared] = load(sample("bibtex/bibtexparser/comments_spaces_and_declarations.bib"))
    assert declared.title == "A great title"  # title = title, an @string


def test_crossref_children_inherit_year_and_book_title(sample):
    entries = {e.source_id: e for e in load(sample("bibtex/bibtexparser/crossref_entries.bib"))}

    assert entries["cr1"].year == 1974
    assert entries["cr1"].journal == "Graphs of the Continent"
    assert entries["cr_m"].title == "Graphs of the Continent"


def test_unknown_entry_types_are_kept(sample):
    entries = load(sample("bibtex/bibtexparser/wrong.bib"))

    assert [(e.source_id, e.publication_type) for e in entries] == [
        ("foo", "wrong"),
        ("bar", "article"),
    ]
    assert all(e.is_empty for e in entries)  # no titles: listed, not screened
    assert entries[0].authors == ["wrong"]


def test_gbk_file_gives_chinese_text(sample):
    [entry] = load(sample("bibtex/bibtexparser/gbk_test.bib"))

    assert entry.journal == "测试期刊"
    assert entry.authors == ["凯撒"]


def test_gbk_file_parses_once_decoded(sample):
    text = sample("bibtex/bibtexparser/gbk_test.bib").read_bytes().decode("gbk")

    [entry] = parse_text(text)

    assert entry.title == "Test Title"
    assert entry.journal == "测试期刊"
    assert entry.source_id == "凯撒2013"


def test_bom_files(sample):
    [book] = load(sample("bibtex/bibtexparser/book_bom.bib"))
    [article] = load(sample("bibtex/bibtexparser/article_start_with_bom.bib"))

    assert book.source_id == "Bird1987"
    assert book.authors == ["Bird, R.B.", "Armstrong, R.C.", "Hassager, O."]
    assert article.source_id == "Cesar2013"


def test_fields_and_names():
    [entry] = parse_text(
        "@Article{k1,\n"
        "  AUTHOR = {Ludwig van Beethoven and Smith, Jr., John and {World Health Organization}"
        " and others},\n"
        '  title = "Caf{\\\'e} \\& {B}ar",\n'
        "  abstract = {p {\\textless} 0.05 in 10\\% of Caf{\\'e}s},\n"
        "  journaltitle = {J. Test},\n"
        "  date = {2019-05-01},\n"
        "  pages = {59 -- 67},\n"
        "  eprinttype = {pubmed}, eprint = {31234567},\n"
        "  keywords = {alpha; beta, gamma},\n"
        "  langid = {english},\n"
        "  url = {https://doi.org/10.1000/XYZ}\n"
        "}\n"
        '@preamble{ "\\newcommand{\\x}{y}" }\n'
        "@comment{ not a record }\n"
    )

    assert entry.authors == [
        "van Beethoven, Ludwig",
        "Smith, Jr., John",
        "World Health Organization",
    ]
    assert entry.title == "Café & Bar"
    assert entry.abstract == "p < 0.05 in 10% of Cafés"
    assert entry.journal == "J. Test"
    assert entry.year == 2019
    assert entry.pages == "59-67"
    assert entry.pmid == "31234567"
    assert entry.keywords == ["alpha", "beta, gamma"]
    assert entry.language == "english"
    assert entry.doi == "10.1000/xyz"
    assert entry.publication_type == "article"
    assert entry.raw["AUTHOR"].startswith("Ludwig van Beethoven")


def test_concatenated_values():
    [entry] = parse_text(
        '@string{pub = "Walter"}\n@book{b, title = {T}, publisher = pub # { and } # "Sons"}\n'
    )

    assert entry.raw["publisher"] == "Walter and Sons"


def test_broken_entry_rejects_the_file_naming_it():
    text = (
        "@article{good, title = {Fine}}\n\n"
        "@article{broken,\n  title = {Unclosed,\n  year = {2000}\n\n"
        "@article{later, title = {Also fine}}\n"
    )

    with pytest.raises(ImportFileError) as caught:
        parse_text(text)

    assert caught.value.entry == "broken"
    assert caught.value.line == 3
    assert "could not be read" in str(caught.value)
    assert "entry broken, line 3" in str(caught.value)


def test_entry_without_key_is_rejected():
    with pytest.raises(ImportFileError, match="Expected comma after entry key") as caught:
        parse_text("\n@article{title = {T}, year = {2000}}\n")
    assert caught.value.line == 2


def test_missing_comma_between_fields_is_rejected():
    text = "@article{a,\n  title = {T}\n  year = {2000}\n}\n"

    with pytest.raises(ImportFileError, match="field 'title'.*comma missing") as caught:
        parse_text(text)
    assert caught.value.entry == "a"
    assert caught.value.line == 2  # the line of the field
