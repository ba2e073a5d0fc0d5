"""Tandem settings: one file, configured by environment variables.

With no environment at all this is a safe developer setup: SQLite, Celery tasks
run in-process, locmem cache, console e-mail (STYLE.md rule 2). Production sets
DEBUG=false, SECRET_KEY, DATABASE_URL, REDIS_URL and ALLOWED_HOSTS.
"""

import ipaddress
import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import dj_database_url
from celery.schedules import crontab
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from kombu import Queue

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEV_SECRET_KEY = "dev-only-insecure-key-never-use-in-production"  # noqa: S105
DEBUG = env_bool("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("Refusing to start with DEBUG=false and the development SECRET_KEY.")

# --- The audit trail (clinic/audit.py, clinic/audit_chain.py; SECURITY.md AL-2) --------------
# The HMAC key that seals the chain and hashes redacted free text. From the environment only,
# never the database: a database writer without it cannot forge a seal. Production refuses to
# start without one; the development default exists only with DEBUG on.
DEV_AUDIT_HMAC_KEY = "dev-only-audit-hmac-key-never-use-in-production"
AUDIT_HMAC_KEY = os.environ.get("AUDIT_HMAC_KEY", "" if not DEBUG else DEV_AUDIT_HMAC_KEY)
if not DEBUG and (len(AUDIT_HMAC_KEY) < 32 or AUDIT_HMAC_KEY == DEV_AUDIT_HMAC_KEY):
    raise ImproperlyConfigured("Refusing to start with DEBUG=false without AUDIT_HMAC_KEY (32+ characters).")
# Rows younger than this stay unsealed, so a transaction still in flight is not sealed past.
AUDIT_SEAL_GRACE_SECONDS = float(os.environ.get("AUDIT_SEAL_GRACE_SECONDS", "2"))
# The chain head is appended here (outside the database) by the anchor task; empty: log and mail only.
AUDIT_ANCHOR_FILE = os.environ.get("AUDIT_ANCHOR_FILE", str(BASE_DIR / "var" / "audit-anchors.jsonl"))
# Distinct patients one user may open in an hour before the clinic admins are alerted.
AUDIT_BULK_READ_THRESHOLD = int(os.environ.get("AUDIT_BULK_READ_THRESHOLD", "50"))
# Private process notes are encrypted at rest (SECURITY.md PN-3): Fernet keys, comma-separated, the
# first one current (clinic/encryption.py). The development key is refused in production, and so
# is a production without keys: a note must never be written in the clear.
DEV_NOTE_ENCRYPTION_KEY = "ZGV2LW9ubHktbm90ZS1rZXktbmV2ZXItaW4tcHJvZCE="  # noqa: S105
NOTE_ENCRYPTION_KEYS = env_list("NOTE_ENCRYPTION_KEYS", DEV_NOTE_ENCRYPTION_KEY if DEBUG else "")
if not DEBUG and (not NOTE_ENCRYPTION_KEYS or DEV_NOTE_ENCRYPTION_KEY in NOTE_ENCRYPTION_KEYS):
    raise ImproperlyConfigured("Refusing to start with DEBUG=false without NOTE_ENCRYPTION_KEYS (or with the dev key).")
for _key in NOTE_ENCRYPTION_KEYS:
    try:
        Fernet(_key)
    except ValueError:
        raise ImproperlyConfigured("NOTE_ENCRYPTION_KEYS holds a value that is not a Fernet key.") from None

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_htmx",
    "csp",
    "clinic",
    "careplans",
    "medications",
    "therapy",
    "outcomes",
    "reminders",
    "reports",
    "cocm",
    "fhir_r4",
    "today",  # the clinician's landing page and worklist; reads every app, as reports does
    "patient_portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "clinic.middleware.RequestContextMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "clinic.middleware.AbsoluteSessionLimitMiddleware",
    "clinic.middleware.MfaEnrolmentMiddleware",
    "clinic.middleware.HeldFormMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "clinic.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "clinic.urls"
WSGI_APPLICATION = "clinic.wsgi.application"

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
                "clinic.context_processors.navigation",
                "clinic.context_processors.session_timing",
                "reminders.context_processors.inbox",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------
# Connections are kept and reused (DB_CONN_MAX_AGE seconds, 0 = a new one per request), and
# checked before reuse, so one the server or a restart has dropped is replaced, not failed on.
DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
}
if "postgresql" in DATABASES["default"]["ENGINE"] and not env_bool("DB_JIT", False):
    # JIT off: the caseload-wide lists (issue 14) carry one correlated subquery per row, which
    # PostgreSQL's cost model prices high enough to JIT-compile; at 100k patients compiling took
    # 2.1 s of a 3.2 s page query that runs in 1.1 s interpreted. DB_JIT=true turns it back on.
    # (The header badge at 100k: 791 of 1111 ms were JIT. The reminder scan also sets it locally.)
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A busy SQLite waits instead of failing at once ("database is locked").
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    # Covering indexes (INCLUDE) are a PostgreSQL plan for scale; SQLite builds them without the
    # extra columns, which is all `make run` needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# An optional PostgreSQL read replica for the clinic-wide reports (reports/replica.py): the
# reports code picks it, writes never go there. In tests it mirrors "default" (same database).
if os.environ.get("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = dj_database_url.parse(
        os.environ["DATABASE_REPLICA_URL"],
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
        conn_health_checks=env_bool("DB_CONN_HEALTH_CHECKS", True),
    )
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    if not env_bool("DB_JIT", False):
        DATABASES["replica"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    DATABASE_ROUTERS = ["reports.replica.ReplicaRouter"]
# Admin reports show counts of 1 to this minus one as "<N" (reports/base.py, SECURITY.md AC-5).
REPORT_SMALL_CELL = int(os.environ.get("REPORT_SMALL_CELL", "5"))
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery -------------------------------------------------------
# REDIS_URL is the Celery broker. The cache lives in another Redis database (REDIS_CACHE_URL;
# by default the broker's database number + 1): clearing the cache (FLUSHDB) must never take
# the queued tasks with it.
REDIS_URL = os.environ.get("REDIS_URL", "")


def _next_redis_database(url: str) -> str:
    parsed = urlsplit(url)
    number = int(parsed.path.strip("/") or "0")
    if number >= 15:
        raise ImproperlyConfigured("REDIS_URL uses Redis database 15: set REDIS_CACHE_URL to another database.")
    return urlunsplit(parsed._replace(path=f"/{number + 1}"))


REDIS_CACHE_URL = os.environ.get("REDIS_CACHE_URL", "") or (_next_redis_database(REDIS_URL) if REDIS_URL else "")
if REDIS_URL and REDIS_CACHE_URL.rstrip("/") == REDIS_URL.rstrip("/"):
    raise ImproperlyConfigured("REDIS_CACHE_URL must name another Redis database than REDIS_URL (the broker).")
if REDIS_CACHE_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_CACHE_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL  # no Redis: run tasks in-process (make run)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True  # results could carry PHI (SECURITY.md CE-5); nothing reads them
CELERY_TASK_ACKS_LATE = True  # a task is acknowledged only after it ran (CE-2)
CELERY_TASK_REJECT_ON_WORKER_LOST = True  # a killed worker's task goes back on the queue
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# No task is published with an ETA or countdown (retry timing is the outbox's next_attempt_at),
# so nothing waits in Redis longer than this, and a Redis restart strands no delayed retry (CE-3).
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None  # a worker waits out a broker outage instead of exiting
CELERY_TIMEZONE = "UTC"
# The sweep has a queue of its own: it never waits behind hundreds of delivery tasks. Every
# worker consumes both (a deployment may also run a small worker on `reminders-sweep` alone).
CELERY_TASK_DEFAULT_QUEUE = "celery"
CELERY_TASK_QUEUES = (Queue("celery"), Queue("reminders-sweep"))
CELERY_TASK_ROUTES = {"reminders.tasks.reminders_sweep_task": {"queue": "reminders-sweep"}}
# Reminders (reminders/delivery.py). Every entry is safe to run twice at once (CE-4).
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    # The audit sealer chains the rows requests appended without a lock (issue 14).
    "audit-seal": {
        "task": "clinic.tasks.audit_seal_task",
        "schedule": timedelta(seconds=float(os.environ.get("AUDIT_SEAL_SECONDS", "5"))),
    },
    # The chain head written outside the database (file, log, mail to the clinic admins).
    "audit-anchor": {"task": "clinic.tasks.audit_anchor_task", "schedule": crontab(minute=0)},
    # Evaluate every reminder rule for today. Hourly rather than daily so a beat that was
    # down at the usual hour catches up; a scan that finds nothing new writes nothing.
    "reminders-scan": {"task": "reminders.tasks.reminders_scan_task", "schedule": crontab(minute=7)},
    # The registry's incremental per-patient facts (reports/facts.py): the changed patients every
    # 5 minutes, everyone nightly.
    "report-facts-dirty": {"task": "reports.tasks.report_facts_refresh_dirty_task", "schedule": crontab(minute="*/5")},
    "report-facts-rebuild": {"task": "reports.tasks.report_facts_rebuild_task", "schedule": crontab(hour=1, minute=40)},
    # Every minute, in its own queue: take back a dead worker's rows once their 150 s claim
    # lease ran out, raise the overdue alarm, send the rows whose retry backoff has passed.
    # A killed worker's rows go out again within lease + 1 min + one delivery (< 5 min, CE-3).
    "reminders-sweep": {
        "task": "reminders.tasks.reminders_sweep_task",
        "schedule": timedelta(seconds=int(os.environ.get("REMINDER_SWEEP_SECONDS", "60"))),
    },
    # The batched e-mails: one "you have N new reminders" per recipient per cycle. Urgent
    # kinds do not wait for this: they are dispatched as soon as their transaction commits.
    "reminders-dispatch": {
        "task": "reminders.tasks.reminders_dispatch_task",
        "schedule": timedelta(
            seconds=int(
                os.environ.get("REMINDER_BATCH_SECONDS", 60 * int(os.environ.get("REMINDER_BATCH_MINUTES", "5")))
            )
        ),
    },
}
# E-mail attempts before a reminder is `failed` (it stays in the inbox; the clinic admins are
# alerted): 60 s, 2, 4 ... 32 min, then hourly: 30 attempts span about 25 hours (>= 24 h).
REMINDER_MAX_ATTEMPTS = int(os.environ.get("REMINDER_MAX_ATTEMPTS", "30"))
REMINDER_RETRY_BACKOFF_SECONDS = int(os.environ.get("REMINDER_RETRY_BACKOFF_SECONDS", "60"))
REMINDER_RETRY_BACKOFF_MAX_SECONDS = int(os.environ.get("REMINDER_RETRY_BACKOFF_MAX_SECONDS", "3600"))
# The claim's lease: a row `sending` longer than this belonged to a dead worker. Above the
# delivery task's 120 s hard time limit (and so above EMAIL_TIMEOUT and the mark's retries).
REMINDER_SENDING_TIMEOUT_SECONDS = int(os.environ.get("REMINDER_SENDING_TIMEOUT_SECONDS", "150"))
# After the mail server accepted a mail, marking it sent is retried on a new connection.
REMINDER_MARK_SENT_TRIES = 6
REMINDER_MARK_SENT_PAUSE_SECONDS = float(os.environ.get("REMINDER_MARK_SENT_PAUSE_SECONDS", "1.0"))
# The daily scan's rules at once on PostgreSQL, one connection each (reminders.delivery): the
# INSERT ... SELECTs are the database's work, and one connection keeps one server core busy.
REMINDER_SCAN_WORKERS = int(os.environ.get("REMINDER_SCAN_WORKERS", "2"))
REMINDER_OVERDUE_MINUTES = 15  # CE-6: undelivered this long after falling due -> operator alert

# --- Auth ---------------------------------------------------------------------
AUTH_USER_MODEL = "clinic.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first, so a locked account is refused before any check
    "django.contrib.auth.backends.ModelBackend",
]
# SECURITY.md AU-1: 12..128 characters, no composition rules, common-password list.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "clinic.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "today:home"
LOGOUT_REDIRECT_URL = "login"

# AU-3: 10 consecutive failures lock that account *from that address* for 15 minutes, so a
# stranger's failures elsewhere do not lock a clinician out from their own machine. The
# per-account ceiling across every address is the failure throttle below (clinic/throttles.py).
AXES_FAILURE_LIMIT = 10
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "clinic.client_ip.client_ip"  # the same trusted-proxy rule as the audit trail
AXES_SENSITIVE_PARAMETERS = ["password", "otp", "otp_token"]

# Throttles on the sign-in page and the API token endpoint (clinic/throttles.py, README).
# Per address: every attempt. Per account: failed attempts from every address together
# (AU-3's hard ceiling is < 100 failures an hour).
AUTH_THROTTLE_IP_RATE = (30, 60)  # 30 attempts a minute from one address
AUTH_THROTTLE_USERNAME_FAILURES = (50, 3600)  # 50 failures an hour on one account
# Patient links (issue 17): links one patient may be sent in an hour; link opens/submits from one
# address in a minute (a wrong-token guesser is stopped long before it could find one).
PORTAL_LINKS_PER_PATIENT = (20, 3600)
PORTAL_OPEN_RATE = (30, 60)

# Multi-factor sign-in (issue 13, SECURITY.md AU-4): TOTP (django-otp) + one-time recovery codes.
# Required (enrolment forced after sign-in) by default in production; optional in the demo.
MFA_REQUIRED = env_bool("MFA_REQUIRED", not DEBUG)
MFA_RECOVERY_CODES = 10
MFA_PENDING_SECONDS = 300  # between the password and the code
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Tandem")

# Password reset links are single-use (the hash covers the password) and expire.
PASSWORD_RESET_TIMEOUT = 60 * 60  # 1 hour

# SE-1: 15 minutes idle, 12 hours absolute. The idle clock is renewed by a session save at
# most once a minute (clinic.middleware.AbsoluteSessionLimitMiddleware), not on every request
# (issue 14: a write per page view): a session ends 14 to 15 minutes after the last request.
SESSION_COOKIE_AGE = 15 * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_RENEW_AFTER_SECONDS = 60
SESSION_ABSOLUTE_LIMIT = timedelta(hours=12)
# The page warns this long after the last request and offers "stay signed in" (static/tandem/idle.js).
IDLE_WARNING_SECONDS = int(os.environ.get("IDLE_WARNING_SECONDS", str(13 * 60)))
# A form posted after the session ended is held server-side for its user this long (clinic.drafts).
HELD_FORM_SECONDS = 30 * 60
# How long an emergency (break-glass) access to a chart lasts (issue 12 item 6).
BREAK_GLASS_HOURS = int(os.environ.get("BREAK_GLASS_HOURS", "4"))
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

# --- Security headers (HD-1, SE-3, DP-4) ----------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^health/$"]  # the container health probe speaks plain HTTP
SECURE_HSTS_SECONDS = 0 if DEBUG else 31_536_000
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# BEHIND_PROXY=true trusts X-Forwarded-Proto. Only safe when nothing but the TLS proxy can reach
# the app (docker-compose.yml publishes web on 127.0.0.1 only) and the proxy overwrites the
# header on every request (README "Running the whole stack").
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_PROXY", False) else None
# The proxies whose X-Forwarded-For is believed for the client address (audit rows, sign-in
# throttles, django-axes): CIDR blocks, comma-separated. Empty: REMOTE_ADDR only (clinic/client_ip.py).
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES", "")
for _block in TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_block, strict=False)
    except ValueError:
        raise ImproperlyConfigured(f"TRUSTED_PROXIES: {_block!r} is not an IP address or CIDR block.") from None

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

# --- REST API -----------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "clinic.api_errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
}
REST_KNOX = {
    # SE-1 for API tokens: 30 minutes idle (every use pushes the expiry 30 minutes on), and
    # never beyond 12 hours after the token was issued, however busy.
    "TOKEN_TTL": timedelta(minutes=30),
    "AUTO_REFRESH": True,
    "AUTO_REFRESH_MAX_TTL": timedelta(hours=12),
    "MIN_REFRESH_INTERVAL": 60,
    "AUTH_HEADER_PREFIX": "Token",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Tandem API",
    "DESCRIPTION": "Shared care plans for integrated mental-health care.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # A dose change's reason_code: every code in responses, all but "start" in requests.
    "ENUM_NAME_OVERRIDES": {
        "DoseReasonEnum": "medications.models.DoseReason",
        "ReasonCodeEnum": "medications.api.SETTABLE_DOSE_REASONS",
        # careplans: goal status history, kept plan versions and the patient list's ?status= share these.
        "GoalStatusEnum": "careplans.models.GoalStatus",
        "CarePlanStatusEnum": "careplans.models.CarePlanStatus",
        "PatientStatusEnum": "careplans.models.PatientStatus",
    },
}

# --- Static files, i18n -----------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG  # dev and tests serve static files without collectstatic
STATICFILES_DIRS = [BASE_DIR / "static"]
# Files served at the site root by WhiteNoise, before any URL pattern or login check: the favicon
# (browsers ask for /favicon.ico on every page, signed in or not; issue 16 item 9).
WHITENOISE_ROOT = BASE_DIR / "static" / "root"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
LANGUAGE_CODE = "en-us"
TIME_ZONE = os.environ.get("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- E-mail -------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)  # STARTTLS, usually on port 587
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)  # implicit TLS, usually on port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS (STARTTLS) or EMAIL_USE_SSL (implicit TLS), not both.")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "465" if EMAIL_USE_SSL else "587" if EMAIL_USE_TLS else "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "30"))  # seconds; the reminder sweeper relies on it
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "tandem@localhost")
SERVER_EMAIL = os.environ.get("SERVER_EMAIL", DEFAULT_FROM_EMAIL)  # Django's own error mails

# --- Backups (issue 15; SECURITY.md BK-1): `manage.py backup` / `manage.py restore` -------
BACKUP_DIR = Path(os.environ.get("BACKUP_DIR", str(BASE_DIR / "backups")))
BACKUP_KEEP_DAYS = int(os.environ.get("BACKUP_KEEP_DAYS", "14"))  # older backups are deleted after each run

# --- Logging: ids only, never patient data; control characters escaped (LG-1, LG-2) ---
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"escape_controls": {"()": "clinic.log_filters.EscapeControlCharacters"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["escape_controls"]}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's request logger would print the URL and, in error reports, POST bodies.
        "django.request": {"level": "ERROR"},
        # axes logs usernames at INFO on every attempt; failures are in the audit trail instead.
        "axes": {"level": "WARNING"},
        "tandem.audit": {"level": "INFO"},
    },
}
