"""The import pipeline: batches, provenance, all-or-nothing, skipped entries, dedup."""

import pytest

from screening.models import DuplicatePair, ImportBatch, Record

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_import_stores_every_entry_with_its_fields_and_provenance(review, lead):
    batch = import_file(
        review, ris_bytes([work(1), work(2)]), user=lead, search_string="harm AND social care"
    )
    assert (batch.status, batch.entries_read, batch.records_added) == ("done", 2, 2)
    assert (batch.file_format, batch.source, batch.imported_by) == ("ris", "PsycINFO", lead)
    first = Record.objects.get(position=1)
    assert first.title.startswith("Experiences of avoidable harm")
    assert first.authors == ["Author1, Alex", "Second, Sam"]
    assert (first.year, first.doi, first.source_id, first.batch) == (
        2011,
        "10.1234/harm.1",
        "E1",
        batch,
    )
    # Nothing from the file is thrown away.
    assert first.raw["TI"] == first.title and first.raw["ID"] == "E1"


def test_entries_without_title_or_abstract_are_counted_and_listed(review):
    content = ris_bytes([work(1), {"id": "EMPTY", "authors": ["Nobody, N"]}, work(3)])
    batch = import_file(review, content)
    assert batch.records_added == 2
    assert batch.skipped == [
        {
            "position": 2,
            "line": batch.skipped[0]["line"],
            "source_id": "EMPTY",
            "reason": "no title and no abstract",
        }
    ]


def test_a_malformed_file_imports_nothing_and_names_the_problem(review):
    content = (
        ris_bytes([work(1), work(2)]) + b"TY  - JOUR\nTI  - Cut off here\n" + ris_bytes([work(3)])
    )
    batch = import_file(review, content, name="broken.ris")
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error.startswith("broken.ris")
    assert "entry 3" in batch.error
    assert Record.objects.count() == 0
    assert batch.records_added == 0


def test_exact_doi_duplicates_across_batches_merge_and_keep_their_sources(review):
    import_file(review, ris_bytes([work(1), work(2)]), source="PsycINFO")
    second = import_file(review, ris_bytes([work(1, id="X1"), work(5)]), source="ASSIA")
    assert second.duplicates_merged == 1
    original = Record.objects.get(batch__source="PsycINFO", position=1)
    copy = Record.objects.get(batch=second, position=1)
    assert copy.duplicate_of == original
    assert Record.objects.filter(review=review, duplicate_of=None).count() == 3
    # Per-source counts stay right: each batch still has its own entries.
    assert Record.objects.filter(batch__source="ASSIA").count() == 2
    assert DuplicatePair.objects.get().status == DuplicatePair.Status.MERGED


def test_near_duplicates_without_doi_merge_within_one_file(review):
    a = work(1, doi="")
    b = work(1, doi="", id="E1b", title=a["title"].upper())
    batch = import_file(review, ris_bytes([a, b]))
    assert batch.duplicates_merged == 1


def test_year_disagreement_goes_to_the_queue_not_merged(review):
    a = work(1, doi="")
    b = work(1, doi="", id="E1b", year=a["year"] + 3)
    batch = import_file(review, ris_bytes([a, b]))
    assert batch.duplicates_merged == 0
    assert Record.objects.filter(duplicate_of=None).count() == 2


def test_distinct_works_are_not_merged(review):
    batch = import_file(review, ris_bytes([work(n) for n in range(1, 30)]))
    assert batch.duplicates_merged == 0
    assert Record.objects.filter(duplicate_of=None).count() == 29


def test_chunks_are_deduplicated_against_each_other(review, monkeypatch):
    from screening import importing

    monkeypatch.setattr(importing, "CHUNK_SIZE", 3)
    entries = [work(n) for n in range(1, 8)] + [work(2, id="again")]
    batch = import_file(review, ris_bytes(entries))
    assert batch.duplicates_merged == 1
    assert Record.objects.get(source_id="again").duplicate_of.source_id == "E2"


def test_other_methods_batch_is_recorded_as_such(review):
    batch = import_file(review, ris_bytes([work(1)]), source="Expert recommendations", kind="other")
    assert batch.kind == ImportBatch.Kind.OTHER


def test_reviews_do_not_deduplicate_against_each_other(review):
    from tests.factories import ReviewFactory

    other = ReviewFactory()
    import_file(other, ris_bytes([work(1)]))
    batch = import_file(review, ris_bytes([work(1)]))
    assert batch.duplicates_merged == 0
