"""Settings the harness serves with: the app's own (production-like: DEBUG off) plus one
trivial page, the plain-Django floor (`/bench/floor/`: every middleware, the session and
user lookup, a tiny template; no clinical query)."""

import os
from pathlib import Path

os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("MFA_REQUIRED", "false")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")
os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz")
# Production refuses to start without its own audit and note keys; the harness's databases
# hold synthetic data only, so fixed bench-only keys (never a deployment's) are enough.
os.environ.setdefault("AUDIT_HMAC_KEY", "bench-only-audit-key-not-a-secret-0123456789")
os.environ.setdefault("NOTE_ENCRYPTION_KEYS", "YmVuY2gtb25seS1ub3RlLWtleS1ub3QtYS1zZWNyZXQ=")  # b64 of 32 ASCII bytes
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.pop("REDIS_URL", None)  # Celery eager: an urgent reminder's dispatch runs in-process

from clinic.settings import *  # noqa: E402, F403

ROOT_URLCONF = "harness.serve_urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
MIDDLEWARE = ["harness.query_meter.QueryMeterMiddleware", *MIDDLEWARE]  # noqa: F405
# Production's manifest storage, collected by the harness into a directory of its own.
if os.environ.get("BENCH_STATIC_ROOT"):
    STATIC_ROOT = Path(os.environ["BENCH_STATIC_ROOT"])  # noqa: F405
# No SMTP server on the bench machine: with eager Celery, the bulk-read alarm the bench users
# trip once an hour would otherwise time a refused connection inside one sample. The outside
# world (SMTP) is the only thing replaced.
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
