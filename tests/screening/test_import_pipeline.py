"""The import pipeline's parts: the worker process that reads large files, rows and their
compact `raw`, the lookups of candidates, and one import into a review at a time."""

import threading
import time
from types import SimpleNamespace

import pytest
from django.db import connection, connections, transaction

from screening import importing
from screening.import_readers import ProcessEntryReader
from screening.importers.base import ImportFileError
from screening.importers.rows import (
    COLUMNS,
    SAME,
    SHARED_FIELDS,
    SHARED_LIST_FIELDS,
    compact_raw,
    copy_line,
    expand_raw,
    row_values,
)
from screening.models import ImportBatch, Record

from .factories import import_file, ris_bytes, work


def reader_for(path, *, chunk_size=2, fmt="ris"):
    batch = SimpleNamespace(
        pk=1,
        review_id=1,
        file_format=fmt,
        file_name=path.name,
        column_mapping=None,
        file_size=path.stat().st_size if path.exists() else 0,
    )
    return ProcessEntryReader(batch, path, copy_text=False, chunk_size=chunk_size)


def test_the_worker_reads_chunks_and_reports_skipped_entries(tmp_path):
    path = tmp_path / "search.ris"
    content = ris_bytes([work(1), {"id": "EMPTY"}, work(2), work(3)])
    path.write_bytes(content)
    with reader_for(path) as reader:
        chunks = list(reader)
    rows = [row for chunk in chunks for row in chunk.rows]
    assert [row[COLUMNS.index("source_id")] for row in rows] == ["E1", "E2", "E3"]
    assert [chunk.entries_read for chunk in chunks] == [3, 4]
    assert [entry["source_id"] for entry in reader.skipped] == ["EMPTY"]
    assert reader.entries_read == 4
    assert all(set(keys) == set(importing.KEY_FIELDS) for chunk in chunks for keys in chunk.keys)


def test_a_file_problem_found_by_the_worker_names_the_entry_and_line(tmp_path):
    path = tmp_path / "broken.ris"
    path.write_bytes(ris_bytes([work(1)]) + b"TY  - JOUR\nTI  - Cut off\n" + ris_bytes([work(3)]))
    with pytest.raises(ImportFileError) as caught, reader_for(path) as reader:
        list(reader)
    assert (caught.value.filename, caught.value.entry) == ("broken.ris", 2)
    assert caught.value.line == 13
    assert "no 'ER  -' end tag" in caught.value.problem


def test_an_unexpected_failure_in_the_worker_comes_back_with_its_traceback(tmp_path):
    with (
        pytest.raises(RuntimeError, match="FileNotFoundError"),
        reader_for(tmp_path / "gone.ris") as reader,
    ):
        list(reader)


def test_a_worker_that_dies_is_noticed(tmp_path):
    path = tmp_path / "search.ris"
    path.write_bytes(ris_bytes([work(n) for n in range(1, 200)]))
    stopped_early = pytest.raises(RuntimeError, match=r"stopped early \(exit code -9\)")
    with stopped_early, reader_for(path) as reader:
        for _ in reader:
            reader._process.kill()


def test_leaving_early_stops_the_worker(tmp_path):
    path = tmp_path / "search.ris"
    path.write_bytes(ris_bytes([work(n) for n in range(1, 500)]))
    with reader_for(path) as reader:
        next(iter(reader))
        process = reader._process
    assert process.returncode is not None
    assert not [t for t in threading.enumerate() if t.name.startswith("import-reader-")]


@pytest.mark.django_db
@pytest.mark.parametrize("threshold", [0, 10**12], ids=["process", "thread"])
def test_text_that_cannot_be_decoded_midway_imports_nothing(review, settings, threshold):
    settings.IMPORT_READER_PROCESS_BYTES = threshold
    text = ris_bytes([work(n) for n in range(1, 5)]).decode()
    content = b"\xff\xfe" + text.encode("utf-16-le") + b"\x00\xdc" + "ER  - \n".encode("utf-16-le")
    batch = import_file(review, content, name="endnote.ris")
    assert batch.status == ImportBatch.Status.FAILED
    assert batch.error.startswith("endnote.ris: the text encoding could not be read")
    assert not Record.objects.exists()


def own_values(**values):
    """A record's values as RowBuilder hands them to compact_raw."""
    return {name: [] if name in SHARED_LIST_FIELDS else "" for name in SHARED_FIELDS} | values


def test_raw_fields_equal_to_the_records_own_values_are_stored_once():
    title = "Experiences of avoidable harm in social care"
    abstract = "Service users described harm that could have been avoided."
    authors = ["Carr, Sarah", "Hafford-Letchfield, Trish"]
    raw = {"TI": title, "T1": title, "AB": abstract, "AU": authors, "PY": "2023", "KW": ["x"]}
    stored = compact_raw(raw, own_values(title=title, abstract=abstract, authors=authors))
    same = {"TI": "title", "T1": "title", "AB": "abstract", "AU": "authors"}
    assert stored == {"PY": "2023", "KW": ["x"], SAME: same}
    record = SimpleNamespace(title=title, abstract=abstract, authors=list(authors))
    assert expand_raw(stored, record) == raw


def test_raw_values_that_differ_from_the_cleaned_ones_are_kept_as_written():
    raw = {"TI": "Harm <i>in</i> care services today", "AB": "Short", "N1": "Harm in care"}
    values = own_values(title="Harm in care services today", abstract="Short")
    assert compact_raw(raw, values) is raw


def test_a_source_field_named_like_the_marker_is_never_mistaken_for_it():
    raw = {SAME: "a column of that name", "TI": "A title long enough to be stored once"}
    stored = compact_raw(raw, own_values(title=raw["TI"]))
    assert stored is raw
    assert expand_raw(stored, SimpleNamespace(title="other", abstract="")) == raw


@pytest.mark.django_db
def test_records_show_every_field_of_their_source_entry(review):
    entry = work(1, title="A title long enough to be stored only once in the database")
    import_file(review, ris_bytes([entry]))
    record = Record.objects.get()
    assert SAME in record.raw and not {"TI", "AB", "AU"} & set(record.raw)
    assert record.source_fields["AU"] == entry["authors"]
    assert record.source_fields["TI"] == entry["title"]
    assert record.source_fields["AB"] == entry["abstract"]
    assert record.source_fields["DO"] == entry["doi"]


def test_a_copy_line_reads_back_as_the_row_it_was_made_from():
    row = [None, 7, 8, 3, "S\\1", "T\tab \\N", "new\nline\r", '["A, B"]', None, "J\\", "1",
           "2", "3-4", "10.1/x", "", "", '["k"]', "en", "Article", '{"X": "\\\\"}', "10.1/x",
           "", "tab", "alt", None]  # fmt: skip
    values = row_values(copy_line(row))
    assert values["authors"] == ["A, B"]
    assert (values["year"], values["title"], values["abstract"]) == (None, "T\tab \\N",
                                                                      "new\nline\r")  # fmt: skip
    assert (values["source_id"], values["journal"]) == ("S\\1", "J\\")
    assert values["raw"] == '{"X": "\\\\"}'
    row[8] = 1999
    assert row_values(copy_line(row))["year"] == 1999
    assert row_values(row)["authors"] == ["A, B"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", importing.KEY_FIELDS)
def test_candidate_lookups_use_the_key_indexes(key):
    if connection.vendor != "sqlite":
        pytest.skip("the plan checked is SQLite's; PostgreSQL's is forced by the query's form")
    sql = importing.SQLITE_KEY_QUERY.format(table=Record._meta.db_table, key=key, marks="?, ?")
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}", [1, "a", "b"])
        plan = " ".join(str(row) for row in cursor.fetchall())
    assert f"INDEX record_{key}_idx" in plan


@pytest.mark.django_db
def test_only_a_reviews_first_import_looks_for_candidates_in_memory(review, monkeypatch):
    lookups = []
    original = importing.ChunkDeduplicator.candidate_rows

    def spy(self, keys):
        lookups.append(len(keys))
        return original(self, keys)

    monkeypatch.setattr(importing.ChunkDeduplicator, "candidate_rows", spy)
    monkeypatch.setattr(importing, "CHUNK_SIZE", 2)
    first = import_file(review, ris_bytes([work(n) for n in range(1, 6)] + [work(2, id="d1")]))
    assert (first.duplicates_merged, lookups) == (1, [])
    assert Record.objects.get(source_id="d1").duplicate_of.source_id == "E2"
    second = import_file(review, ris_bytes([work(7), work(4, id="d2"), work(8)]))
    assert second.duplicates_merged == 1 and lookups == [2, 1]
    assert Record.objects.get(source_id="d2").duplicate_of.source_id == "E4"


@pytest.mark.django_db(transaction=True)
def test_imports_into_one_review_wait_for_each_other(review):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's write lock already serialises imports (DATABASE_URL, as in CI)")
    held, checked = threading.Event(), []

    def other_import():
        held.wait(10)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                key = [importing.IMPORT_LOCK, review.pk]
                cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", key)
                checked.append(cursor.fetchone()[0])
        finally:
            connections.close_all()

    thread = threading.Thread(target=other_import)
    thread.start()
    with transaction.atomic():
        importing._lock_review_imports(review.pk)
        held.set()
        thread.join(10)
    assert checked == [False]
    # Once the transaction has ended, the next import goes ahead.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_try_advisory_xact_lock(%s, %s)", key := [importing.IMPORT_LOCK, review.pk]
        )
        assert cursor.fetchone()[0] and key


def test_the_statement_runner_stops_after_a_failure():
    ran = []

    def fail():
        raise ValueError("disk full")

    with pytest.raises(ValueError, match="disk full"), importing._StatementRunner() as run:
        run(fail)
        time.sleep(0.05)
        run(ran.append, "after")
    assert ran == []
