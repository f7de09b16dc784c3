"""Settings for pytest. DATABASE_URL (PostgreSQL in CI) is honoured; SQLite otherwise."""

from .base import *  # noqa: F403

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
# Tests run tasks in-process; the worker test switches this off and uses Redis for real.
CELERY_TASK_ALWAYS_EAGER = True
# Rate limits would trip over the suite's many logins from one address.
ACCOUNT_RATE_LIMITS = False
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
MEDIA_ROOT = BASE_DIR / ".test-media"  # noqa: F405
STATIC_ROOT = None  # nothing is collected in tests; whitenoise would warn about it
SCREENING_PROGRESS_CACHE_SECONDS = 0  # tests assert exact counts after each step
# Rankings run at once in the caller (screening.ranking), not debounced on a worker.
RANKING_INLINE = True
