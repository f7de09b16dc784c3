from django.apps import AppConfig
from django.db import transaction
from django.db.models.signals import post_delete


class ScreeningConfig(AppConfig):
    name = "screening"

    def ready(self):
        from reviewapp import standing
        from reviewapp.signals import researcher_left

        from . import queries
        from .views.prisma import review_page_panel

        standing.register(queries.standing)
        standing.register_panel(review_page_panel)
        researcher_left.connect(_release, dispatch_uid="screening-release-reviewer")
        post_delete.connect(
            _delete_upload, sender="screening.ImportBatch", dispatch_uid="screening-delete-upload"
        )


def _delete_upload(sender, instance, **kwargs):
    """An import's uploaded file goes with its batch (a review's deletion deletes its batches):
    search exports can hold personal data, and nothing else refers to the file. Only once the
    deletion has committed: one rolled back keeps it."""
    name = instance.file.name
    if name:
        storage = instance.file.storage
        transaction.on_commit(lambda: storage.delete(name))


def _release(sender, review, user, **kwargs):
    from .decisions import release_reviewer
    from .queue import reset_cursors

    if release_reviewer(review, user):
        reset_cursors(review)
