"""Every format the issue names is registered and exports the populated demo review through
the export_review command (the same code the Celery task runs)."""

import zipfile
from io import StringIO

import pytest
from django.core.management import call_command

from exports.registry import FORMATS
from reviewapp.demo import DEMO_SLUG, seed_demo

NAMED = [
    "prisma-svg", "prisma-pdf", "prisma-csv", "screening-csv", "screening-xlsx",
    "agreement-csv", "excluded-csv", "included-ris", "included-bibtex", "included-csv",
    "excerpts-docx", "excerpts-xlsx", "matrix-xlsx", "qdc", "qdpx", "archive",
    "involvement-csv", "involvement-docx",
]  # fmt: skip
ZIPPED = {"docx", "xlsx", "qdpx", "zip"}


def test_every_named_format_is_registered():
    assert set(NAMED) <= set(FORMATS)


@pytest.mark.django_db
def test_every_format_exports_the_demo_review(tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path / "media"
    seed_demo()
    for name in sorted(n for n in FORMATS if not n.startswith("test-")):
        target = tmp_path / f"out.{FORMATS[name].extension}"
        call_command("export_review", "--review", DEMO_SLUG, "--format", name, "-o",
                     str(target), stdout=StringIO())  # fmt: skip
        data = target.read_bytes()
        assert len(data) > 100, name
        if FORMATS[name].extension in ZIPPED:
            assert zipfile.is_zipfile(target), name
        elif FORMATS[name].extension == "pdf":
            assert data.startswith(b"%PDF-"), name
        else:
            data.decode("utf-8")  # text formats are UTF-8
