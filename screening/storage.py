"""Private file storage: uploaded search exports and full texts live under MEDIA_ROOT/private,
never under MEDIA_URL, and are served (full texts only) by views that check membership."""

import os
from pathlib import Path

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateStorage(FileSystemStorage):
    """A folder under MEDIA_ROOT/private, read from settings on every use (tests change
    MEDIA_ROOT), with no URL."""

    def __init__(self, folder):
        self.folder = folder
        super().__init__(base_url=None)

    @property
    def base_location(self):
        return os.fspath(Path(settings.MEDIA_ROOT) / "private" / self.folder)

    @property
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Private files have no URL; serve them through a view.")


_imports = PrivateStorage("imports")
# Full texts are copyrighted and may be sensitive.
_fulltexts = PrivateStorage("fulltexts")


def import_storage():
    return _imports


def fulltext_storage():
    return _fulltexts
