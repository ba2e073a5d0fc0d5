"""A background report run through a real Celery worker on Redis and PostgreSQL: the message
carries the run's id only; the worker writes progress and the CSV; the requester downloads it.
The patient-level registry is run by a care-team member (admins get aggregates only)."""

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction

from clinic.celery import app as celery_app
from reports.catalog import report_get
from reports.models import ReportRun, ReportRunStatus
from reports.runs import report_run_request
from tests.reports import builders as b

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _broker_url() -> str:
    """A Redis db of this test's own (REDIS_URL's db + 12; the reminder worker tests use + 8 and + 9)."""
    base, _, db = settings.REDIS_URL.rpartition("/")
    return f"{base}/{(int(db or 0) + 12) % 16}"


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker(tmp_path):  # type: ignore[no-untyped-def]
    assert not celery_app.conf.task_always_eager, "the task must go through Redis to the worker"
    shared = celery_app.conf.broker_url
    url = _broker_url()
    redis.Redis.from_url(url).delete("celery", "unacked", "unacked_index", "unacked_mutex")
    _use_broker(url)
    log = tmp_path / "worker.log"
    env = dict(
        os.environ,
        DATABASE_URL=_database_url(),
        REDIS_URL=url,
        DJANGO_SETTINGS_MODULE="clinic.settings",
        # The test process's own keys: with DEBUG=false the worker refuses to start without valid
        # ones, and it must seal and decrypt with the keys the test checks with.
        AUDIT_HMAC_KEY=settings.AUDIT_HMAC_KEY,
        NOTE_ENCRYPTION_KEYS=",".join(settings.NOTE_ENCRYPTION_KEYS),
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "clinic",
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "-n",
                "reports@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=Path(settings.BASE_DIR),
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while "ready" not in log.read_text(errors="replace"):
        assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")[-2000:]
        time.sleep(0.2)
    yield log
    os.killpg(process.pid, signal.SIGTERM)
    process.wait(timeout=20)
    _use_broker(shared)
    connection.close()


def test_worker_computes_the_run_and_keeps_the_csv(worker, team, care_manager):
    person = b.patient(team=team)
    b.score(person, "PHQ-9", 18, date(2025, 10, 1), by=care_manager)
    with transaction.atomic():
        run = report_run_request(
            actor=care_manager, report=report_get("registry"), params_query={"period": "12m"}, options={}
        )
    deadline = time.monotonic() + 60
    while ReportRun.objects.get(pk=run.pk).status not in (ReportRunStatus.DONE, ReportRunStatus.FAILED):
        assert time.monotonic() < deadline, worker.read_text(errors="replace")[-2000:]
        time.sleep(0.25)
    run.refresh_from_db()
    assert (run.status, run.progress, run.row_count) == (ReportRunStatus.DONE, 100, 1)
    assert person.mrn in run.result_csv
    log = worker.read_text(errors="replace")
    assert "report_run_task" in log and person.mrn not in log and person.family_name not in log
