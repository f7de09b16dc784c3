"""Every real export in ../shared/data/import-samples goes through the whole pipeline
(detection, decoding, parsing, storing, dedup) with the right outcome."""

import json
from pathlib import Path

import pytest

from screening.models import ImportBatch, Record

from .conftest import SHARED_DATA
from .factories import import_file

pytestmark = pytest.mark.django_db

SAMPLES = SHARED_DATA / "import-samples"
# Files that must be refused whole, with the reason the message has to give.
REJECTED = {"wos/metaknowledge/badFile.isi": "EF"}


def manifest():
    path = SAMPLES / "MANIFEST.json"
    if not path.exists():
        return []
    return json.loads(path.read_text())


@pytest.mark.parametrize("entry", manifest(), ids=lambda e: e["file"])
def test_sample_imports_every_entry(review, shared_data, entry):
    relative = entry["file"].removeprefix("import-samples/")
    path = Path(shared_data) / "import-samples" / relative
    batch = import_file(review, path.read_bytes(), name=path.name)
    if relative in REJECTED:
        assert batch.status == ImportBatch.Status.FAILED
        assert batch.error.startswith(path.name) and REJECTED[relative] in batch.error
        assert not Record.objects.exists()
        return
    assert batch.status == ImportBatch.Status.DONE, batch.error
    assert batch.entries_read == entry["records"]
    assert batch.records_added + len(batch.skipped) == entry["records"]
    assert Record.objects.filter(batch=batch).count() == batch.records_added
    # Nothing is thrown away: every stored record keeps its source's fields.
    assert all(r.raw for r in Record.objects.filter(batch=batch)[:50])


def test_manifest_is_found_when_shared_data_exists(shared_data):
    assert len(manifest()) >= 100
