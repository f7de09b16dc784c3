"""The Celery app. Configuration comes from Django settings under the CELERY_ prefix.

With REDIS_URL set, tasks travel through Redis to `celery -A reviewapp worker`; without it
the settings make tasks run eagerly in-process, so the embedded default needs no broker.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "reviewapp.settings.local")

app = Celery("reviewapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
