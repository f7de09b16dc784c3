"""Settings shared by every environment. Values that differ between machines come from the
environment (django-environ); the local/test/production modules only change defaults."""

from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="insecure-local-only-key-change-me-in-production-0123456789")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.postgres",
    "template_partials",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "csp",
    "reviewapp",
    "screening",
    "coding",
    "exports",
    "advisory",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Every page needs a signed-in user unless its view says @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "reviewapp.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "reviewapp.middleware.TwoFactorRequiredMiddleware",
]

ROOT_URLCONF = "reviewapp.urls"
WSGI_APPLICATION = "reviewapp.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "reviewapp.context_processors.text_size",
                "reviewapp.context_processors.session_timing",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "reviewapp.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Export files: private disk by default; S3-compatible storage when a bucket is named
    # (needs boto3: pip install "reviewapp[s3]").
    "exports": {"BACKEND": "exports.storage.ExportStorage"},
}
EXPORTS_S3_BUCKET = env("EXPORTS_S3_BUCKET", default="")
if EXPORTS_S3_BUCKET:
    STORAGES["exports"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": EXPORTS_S3_BUCKET,
            "endpoint_url": env("EXPORTS_S3_ENDPOINT_URL", default=None),
            "access_key": env("EXPORTS_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env("EXPORTS_S3_SECRET_ACCESS_KEY", default=None),
            "location": env("EXPORTS_S3_PREFIX", default="exports"),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": True,
        },
    }
# Finished export files are deleted this many days after they were made.
EXPORTS_MAX_AGE_DAYS = env.int("EXPORTS_MAX_AGE_DAYS", default=30)
# A running export whose heartbeat (written every few seconds) stopped this long ago lost its
# worker; the beat task queues it again.
EXPORTS_STALE_AFTER_SECONDS = env.int("EXPORTS_STALE_AFTER_SECONDS", default=120)

# --- Redis: one URL serves the Celery broker and the shared cache (allauth's rate limits). ---
REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker the embedded default runs tasks in-process.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
# A job whose worker dies is delivered again, so every task must be idempotent.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=25 * 60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=30 * 60)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = TIME_ZONE
from celery.schedules import crontab  # noqa: E402

# Run by `celery -A reviewapp beat` (the compose file's beat service), times in CELERY_TIMEZONE.
CELERY_BEAT_SCHEDULE = {
    "advisory-daily-digests": {
        "task": "advisory.tasks.send_daily_digests",
        "schedule": crontab(hour=7, minute=0),
    },
    # Picks up comment emails whose queue message was lost (advisory.notifications).
    "advisory-pending-notifications": {
        "task": "advisory.tasks.send_pending_notifications",
        "schedule": 15 * 60,
    },
    # Queues again the exports whose worker was lost (exports.jobs: heartbeat).
    "exports-requeue-stale": {"task": "exports.tasks.requeue_stale_exports", "schedule": 60},
    "exports-expire-files": {
        "task": "exports.tasks.expire_exports",
        "schedule": crontab(hour=3, minute=30),
    },
}

# --- Sessions: an inactivity timeout and an absolute lifetime (reviewapp.middleware). ---
SESSION_IDLE_TIMEOUT = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=60) * 60
SESSION_ABSOLUTE_LIFETIME = env.int("SESSION_ABSOLUTE_LIFETIME_HOURS", default=12) * 3600
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_LIFETIME
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"

# --- Accounts (django-allauth) ---
ACCOUNT_ADAPTER = "reviewapp.adapters.AccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "reviewapp.forms.SignupDetailsForm"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
# Login rate limits stay on (allauth's defaults, written out so they are visible).
ACCOUNT_RATE_LIMITS = {
    "login": "30/m/ip",
    "login_failed": "10/m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
}
# Open sign-up is off: people join through a review's invitation (reviewapp.adapters).
ACCOUNT_ALLOW_OPEN_SIGNUP = env.bool("ACCOUNT_ALLOW_OPEN_SIGNUP", default=False)
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[reviewapp] "
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "reviewapp"
# Tracking last activity would write to the database on every request (4 queries); the
# sessions page still lists every session with its sign-in time, address and browser.
USERSESSIONS_TRACK_ACTIVITY = False

# Who people should contact for support, as the help page words it ("... contact {this}").
# Leads set it to a named person, email address or phone number.
SUPPORT_CONTACT = env("SUPPORT_CONTACT", default="your review's lead researcher")

INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=14)

EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="reviewapp <noreply@localhost>")

# --- Content-Security-Policy: no inline script or style anywhere, nothing from elsewhere. ---
from csp.constants import NONE, SELF  # noqa: E402

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# The address people reach the app at, for links in emails sent by workers.
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# Search exports larger than this are refused before they are read.
IMPORT_MAX_UPLOAD_MB = env.int("IMPORT_MAX_UPLOAD_MB", default=200)
# Uploads of this many bytes or more are read by a process of their own while the importing
# one stores them (screening.import_readers); smaller ones by a thread, which starts faster.
IMPORT_READER_PROCESS_BYTES = env.int("IMPORT_READER_PROCESS_BYTES", default=2 * 1024 * 1024)
# Full-text PDFs larger than this are refused.
FULLTEXT_MAX_UPLOAD_MB = env.int("FULLTEXT_MAX_UPLOAD_MB", default=50)
# Screening progress bars are counted at most this often per reviewer (see screening.views.screen).
SCREENING_PROGRESS_CACHE_SECONDS = env.int("SCREENING_PROGRESS_CACHE_SECONDS", default=15)
