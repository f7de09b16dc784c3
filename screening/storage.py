"""Uploaded search exports live in a private storage: never under MEDIA_URL, never served."""

from django.conf import settings
from django.core.files.storage import FileSystemStorage


def import_storage():
    # A callable, so tests that change MEDIA_ROOT get a storage in the right place.
    return FileSystemStorage(location=settings.MEDIA_ROOT / "private" / "imports", base_url=None)


def fulltext_storage():
    # Full texts are copyrighted and may be sensitive: served only through a view that
    # checks membership, never from MEDIA_URL.
    return FileSystemStorage(location=settings.MEDIA_ROOT / "private" / "fulltexts", base_url=None)
