"""The import pipeline: batches, provenance, all-or-nothing, skipped entries, dedup."""

import pytest

from screening.models import DuplicatePair, ImportBatch, Record

from .factories import import_file, ris_bytes, work

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True, params=["thread", "process"])
def reader(request, settings):
    """Every test runs with the file read by a thread and by a worker process (used for
    large files: screening.import_readers)."""
    settings.IMPORT_READER_PROCESS_BYTES = 0 if request.param == "process" else 10**12
    return request.param


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
    assert first.source_fields["TI"] == first.title and first.source_fields["ID"] == "E1"


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


def test_kept_records_join_the_pool_and_merged_ones_do_not(review):
    from screening.models import RecordStage
    from screening.pool import random_order_key

    entries = [work(1), work(2), work(1, id="again"), work(3)]
    batch = import_file(review, ris_bytes(entries))
    merged = Record.objects.get(source_id="again")
    assert batch.duplicates_merged == 1 and merged.duplicate_of is not None
    rows = RecordStage.objects.filter(review=review)
    assert sorted(rows.values_list("record_id", "stage", "status", "decision_count")) == [
        (record.pk, "ta", "awaiting", 0) for record in Record.objects.filter(duplicate_of=None)
    ]
    assert all(row.order_key == random_order_key(row.record_id) for row in rows)


def test_records_found_by_other_methods_go_straight_to_full_text(review):
    from screening.models import RecordStage

    import_file(review, ris_bytes([work(1), work(2)]), kind="other")
    assert set(RecordStage.objects.values_list("stage", flat=True)) == {"ft"}


def test_a_problem_after_chunks_were_stored_rolls_them_back(review, monkeypatch):
    from screening import importing
    from screening.models import RecordStage

    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    content = ris_bytes([work(n) for n in range(1, 8)]) + b"TY  - JOUR\nTI  - Cut off\n"
    content += ris_bytes([work(9)])
    batch = import_file(review, content, name="broken.ris")
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error.startswith("broken.ris (entry 8, line ")
    assert not Record.objects.exists()
    assert not RecordStage.objects.exists() and not DuplicatePair.objects.exists()


def test_a_database_error_stops_the_reader_and_rolls_everything_back(review, monkeypatch):
    import threading

    from screening import importing

    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    calls = []

    def fail_on_second_chunk(self, record_ids):
        calls.append(record_ids)
        if len(calls) == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(importing.RecordWriter, "write_stage_rows", fail_on_second_chunk)
    with pytest.raises(RuntimeError, match="disk full"):
        import_file(review, ris_bytes([work(n) for n in range(1, 40)]), name="big.ris")
    batch = ImportBatch.objects.get()
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error.startswith("big.ris: the import failed unexpectedly")
    assert not Record.objects.exists()
    assert not [t for t in threading.enumerate() if t.name.startswith("import-reader-")]
    assert not _worker_processes()


def _worker_processes():
    """Processes of screening.importers.worker still running, children of this one."""
    import os
    from pathlib import Path

    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            fields = dict(line.split(":\t", 1) for line in status.read_text().splitlines())
            cmdline = (status.parent / "cmdline").read_bytes()
        except (OSError, ValueError):
            continue
        if fields.get("PPid", "").strip() == str(os.getpid()) and b"importers.worker" in cmdline:
            found.append(status.parent.name)
    return found


def test_the_interpreter_settings_are_restored_after_an_import(review):
    import gc
    import sys

    before = (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count())
    import_file(review, ris_bytes([work(1)]))
    import_file(review, b"TY  - JOUR\nTI  - Cut off\n" + ris_bytes([work(2)]))
    assert (gc.get_threshold(), sys.getswitchinterval(), gc.get_freeze_count()) == before


def test_progress_is_reported_per_chunk_and_cleared_at_the_end(review, monkeypatch):
    from screening import importing

    reports = []
    monkeypatch.setattr(importing, "CHUNK_SIZE", 3)
    monkeypatch.setattr(importing, "_report", lambda batch_id, *args: reports.append(args))
    batch = import_file(review, ris_bytes([work(n) for n in range(1, 8)]))
    assert [entries for entries, _ in reports] == [3, 6, 7]
    assert all(0 < fraction <= 1 for _, fraction in reports)
    assert importing.read_progress(batch.pk) is None


def test_backslashes_tabs_and_quotes_are_stored_as_written(review):
    title = 'A "quoted" C:\\path\\N and\ttab, naïve'
    content = ris_bytes([work(1, title=title, abstract="Line \\n one\ttwo \\\\ three")])
    content += b"TY  - JOUR\nTI  - Second\tone \\t\nAB  - x\nER  - \n"
    import_file(review, content)
    first, second = Record.objects.order_by("position")
    assert first.title == 'A "quoted" C:\\path\\N and tab, naïve'
    assert first.source_fields["TI"] == title
    assert first.abstract == "Line \\n one two \\\\ three"
    assert (second.title, second.source_fields["TI"]) == ("Second one \\t", "Second\tone \\t")
    assert second.year is None and first.year == 2011


def test_copy_lines_escape_what_copy_would_misread():
    from screening.importers.rows import copy_line as _copy_line
    from screening.importing import RecordWriter

    texts = ["S\\1", "T\tab", "new\nline\r", "[]"]  # source_id, title, abstract, authors
    row = [None, 1, 2, 3, *texts, None, "j", *[""] * 10, "k", "", "", "", None]
    assert len(row) == len(RecordWriter.COLUMNS)
    fields = _copy_line(row).split("\t")
    assert len(fields) == len(RecordWriter.COPY_COLUMNS) - 2
    assert fields[:8] == ["\\N", "1", "2", "3", "S\\\\1", "T\\tab", "new\\nline\\r", "[]"]
    assert fields[-4] == "k"
    assert _copy_line([*row[:8], 1999, *row[9:]]).startswith("1999\t1\t2\t3\tS\\\\1")


def test_deleting_a_review_deletes_its_uploaded_files(review, django_capture_on_commit_callbacks):
    import contextlib
    from pathlib import Path

    from django.db import transaction

    kept = import_file(review, ris_bytes([work(1)]))
    path = Path(kept.file.path)
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        contextlib.suppress(RuntimeError),
        transaction.atomic(),
    ):
        review.delete()
        raise RuntimeError("the deletion is rolled back")
    assert path.exists() and not callbacks
    with django_capture_on_commit_callbacks(execute=True):
        type(review).objects.get(pk=kept.review_id).delete()
    assert not path.exists()
