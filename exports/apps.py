from django.apps import AppConfig


class ExportsConfig(AppConfig):
    name = "exports"

    def ready(self):
        # Each writer module registers its formats when imported.
        from . import writers  # noqa: F401
