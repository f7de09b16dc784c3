"""Where export files live: STORAGES["exports"], a private folder under MEDIA_ROOT by
default, S3-compatible object storage (django-storages) when EXPORTS_S3_BUCKET is set. No
export is ever served from a public URL: downloads go through a view that checks the lead."""

from django.core.files.storage import storages

from screening.storage import PrivateStorage


class ExportStorage(PrivateStorage):
    def __init__(self, **kwargs):
        super().__init__("exports")


def export_storage():
    return storages["exports"]
