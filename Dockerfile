# One image for web, worker, beat and backup. Production dependencies only (requirements.lock,
# hash-pinned; `make lock` writes it); .dockerignore keeps .env, .venv, .git, databases out.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# pg_dump/pg_restore for `manage.py backup` / `restore` (bookworm's 15, the server's major version).
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*
COPY requirements.lock .
RUN pip install --require-hashes -r requirements.lock \
    && useradd --system --uid 10001 tandem \
    && mkdir -p /backups && chown tandem /backups && chmod 700 /backups
COPY . .
# collectstatic needs settings that pass the production guard; nothing secret is baked in.
RUN DEBUG=false SECRET_KEY=build-only-not-used-at-runtime \
    AUDIT_HMAC_KEY=build-only-not-used-at-runtime-0123456789 \
    NOTE_ENCRYPTION_KEYS=YnVpbGQtb25seS1ub3QtdXNlZC1hdC1ydW50aW1lISE= python manage.py collectstatic --noinput
USER tandem
EXPOSE 8000
CMD ["gunicorn", "clinic.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
