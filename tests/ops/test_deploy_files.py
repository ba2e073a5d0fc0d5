"""Issue 15 item 6: the deploy files agree with the settings (there is no Docker engine here,
so they are read, not run)."""

import re
from pathlib import Path

import pytest
import yaml
from django.core.exceptions import ImproperlyConfigured

from clinic.settings import _next_redis_database

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SETTINGS_SOURCE = (ROOT / "clinic" / "settings.py").read_text()
# Set for the containers but read by something other than clinic/settings.py.
READ_ELSEWHERE = {"DATABASE_URL"}  # dj_database_url.config() reads it


def _settings_reads(name: str) -> bool:
    return bool(re.search(rf"""(os\.environ\.get|env_bool|env_list)\(\s*["']{name}["']""", SETTINGS_SOURCE))


def test_every_variable_compose_sets_is_read_by_settings() -> None:
    app_env = COMPOSE["x-app"]["environment"]
    unread = [name for name in app_env if name not in READ_ELSEWHERE and not _settings_reads(name)]
    assert unread == []
    for name in ("EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD", "EMAIL_USE_TLS",
                 "EMAIL_USE_SSL", "DEFAULT_FROM_EMAIL", "REDIS_CACHE_URL", "BACKUP_DIR"):  # fmt: skip
        assert name in app_env, name


def test_broker_and_cache_use_separate_redis_databases() -> None:
    env = COMPOSE["x-app"]["environment"]
    assert env["REDIS_URL"].rsplit("/", 1)[1] != env["REDIS_CACHE_URL"].rsplit("/", 1)[1]
    assert _next_redis_database("redis://127.0.0.1:6379/1") == "redis://127.0.0.1:6379/2"
    assert _next_redis_database("rediss://:pw@cache.example:6380") == "rediss://:pw@cache.example:6380/1"
    with pytest.raises(ImproperlyConfigured):
        _next_redis_database("redis://127.0.0.1:6379/15")


def test_only_the_proxy_reaches_web() -> None:
    services = COMPOSE["services"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]
    assert [name for name, service in services.items() if service.get("ports")] == ["web"]


def test_worker_and_beat_restart_when_unhealthy() -> None:
    for name in ("worker", "beat"):
        service = COMPOSE["services"][name]
        assert "kill -s TERM 1" in service["healthcheck"]["test"][1], name
        assert service["restart"] == "unless-stopped", name
    assert "backup" in COMPOSE["services"]["backup"]["command"][-1]


def test_secrets_and_local_files_stay_out_of_image_and_git() -> None:
    dockerignore = (ROOT / ".dockerignore").read_text().split()
    for entry in (".env", ".venv", ".git", "db.sqlite3", "*.sqlite3", "backups", "staticfiles", "test-artifacts"):
        assert entry in dockerignore, entry
    assert ".env" in (ROOT / ".gitignore").read_text().split()


def test_locks_are_hash_pinned_and_the_image_installs_production_only() -> None:
    for lock in ("requirements.lock", "requirements-dev.lock"):
        text = (ROOT / lock).read_text()
        pins = re.findall(r"^[A-Za-z0-9_.\-]+==\S+", text, flags=re.MULTILINE)
        assert pins and text.count("--hash=sha256:") >= len(pins), lock
    production = (ROOT / "requirements.lock").read_text().lower()
    for dev_only in ("pytest==", "playwright==", "mypy==", "ruff==", "schemathesis=="):
        assert dev_only not in production, dev_only
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "pip install --require-hashes -r requirements.lock" in dockerfile
    assert "requirements-dev.lock" not in dockerfile
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r requirements-dev.lock" in makefile
    assert "--generate-hashes" in makefile
