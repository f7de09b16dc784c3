from django.apps import AppConfig


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


def _release(sender, review, user, **kwargs):
    from .decisions import release_reviewer
    from .queue import reset_cursors

    if release_reviewer(review, user):
        reset_cursors(review)
