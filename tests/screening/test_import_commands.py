import csv

import pytest
from django.core.management import CommandError, call_command

from screening.models import ImportBatch, Record

from .factories import ris_bytes, work

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


def test_import_records_prints_one_line_per_file(review, tmp_path, capsys):
    one = write(tmp_path, "one.ris", ris_bytes([work(1), work(2)]))
    two = write(tmp_path, "two.ris", ris_bytes([work(1, id="x"), work(3), {"id": "empty"}]))
    call_command(
        "import_records",
        "--review",
        review.slug,
        "--source",
        "PsycINFO",
        "--search-date",
        "2021-02-03",
        str(one),
        str(two),
    )
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"{one}: added 2, duplicates 0, skipped 0",
        f"{two}: added 2, duplicates 1, skipped 1",
    ]
    batch = ImportBatch.objects.get(file_name="one.ris")
    assert (batch.source, str(batch.search_date), batch.kind) == (
        "PsycINFO",
        "2021-02-03",
        "database",
    )


def test_import_records_other_methods(review, tmp_path):
    path = write(tmp_path, "experts.ris", ris_bytes([work(1)]))
    call_command(
        "import_records",
        "--review",
        review.slug,
        "--source",
        "Experts",
        "--other-methods",
        str(path),
    )
    assert ImportBatch.objects.get().kind == ImportBatch.Kind.OTHER


def test_import_records_fails_with_the_message_for_a_rejected_file(review, tmp_path, capsys):
    good = write(tmp_path, "good.ris", ris_bytes([work(1)]))
    bad = write(
        tmp_path,
        "bad.ris",
        ris_bytes([work(2)]) + b"TY  - JOUR\nTI  - cut\n" + ris_bytes([work(3)]),
    )
    with pytest.raises(CommandError, match="1 of 2 file"):
        call_command(
            "import_records", "--review", review.slug, "--source", "X", str(good), str(bad)
        )
    captured = capsys.readouterr()
    assert "bad.ris" in captured.err and "entry 2" in captured.err
    assert Record.objects.count() == 1  # the good file, nothing of the bad one


def test_import_records_unknown_review(tmp_path, db):
    path = write(tmp_path, "a.ris", ris_bytes([work(1)]))
    with pytest.raises(CommandError, match="No review"):
        call_command("import_records", "--review", "nope", "--source", "X", str(path))


def test_export_record_sources_one_row_per_entry(review, tmp_path):
    one = write(tmp_path, "one.ris", ris_bytes([work(1), work(2)]))
    two = write(tmp_path, "two.ris", ris_bytes([work(2, id="copy")]))
    call_command("import_records", "--review", review.slug, "--source", "PsycINFO", str(one))
    call_command("import_records", "--review", review.slug, "--source", "ASSIA", str(two))
    out = tmp_path / "sources.csv"
    call_command("export_record_sources", "--review", review.slug, "-o", str(out))
    rows = list(csv.DictReader(out.open()))
    assert [r["entry_id"] for r in rows] == ["E1", "E2", "copy"]
    assert rows[2]["source"] == "ASSIA" and rows[2]["position"] == "1"
    original = Record.objects.get(source_id="E2")
    assert rows[2]["record_id"] == rows[1]["record_id"] == str(original.pk)
