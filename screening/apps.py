from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    name = "screening"

    def ready(self):
        from reviewapp import standing

        from . import queries

        standing.register(queries.standing)
