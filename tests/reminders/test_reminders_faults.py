"""Fault injection under a real Celery worker and beat (issue 15, SECURITY.md CE-2, CE-3).

Each test runs `celery worker` and `celery beat` subprocesses on the test database (PostgreSQL),
a private `redis-server` on a free port as the broker, and an SMTP sink (aiosmtpd) in this
process that keeps every accepted message with its Message-ID. Then one fault, while
mails are on the wire:

  worker SIGKILL       the whole worker killed 3 times mid-delivery, restarted each time
  Redis restart        redis-server killed and restarted empty while retries wait (their
                       timer is the row's next_attempt_at, nothing delayed sits in Redis)
  database terminated  pg_terminate_backend on the worker's connections while SMTP accepts
  SMTP down            the mail server stops, then comes back

and asserts: 0 lost (every reminder `sent`, every recipient e-mailed with every one of its
reminders counted), 0 duplicates in the inbox, and e-mail duplicates only in the window the
README documents: a resend of a claim whose mail the server accepted just before its worker
died, carrying the first mail's Message-ID. They are counted and printed, with the table in
test-artifacts/reminder-faults.md.

Settings are shortened for the run (claim lease 3 s, sweep every second, backoff from 1 s);
the default bounds are checked in test_reminders_retries.py.
"""

import asyncio
import email
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic.celery import app as celery_app
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.tasks import reminders_dispatch_task
from tests.factories import PatientFactory, UserFactory

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
ARTIFACTS = BASE_DIR / "test-artifacts"
LEASE = 3  # REMINDER_SENDING_TIMEOUT_SECONDS for the run


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(check: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# --- the private Redis ---------------------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own on a free port: killing it touches no one else."""

    def __init__(self, workdir: Path) -> None:
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_until(self._ping, 10, "the private redis-server")

    def _ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart_empty(self, down_for: float) -> None:
        """SIGKILL, stay down a while, come back with no data: queued tasks are gone."""
        self.kill()
        time.sleep(down_for)
        self.start()


# --- the SMTP sink -------------------------------------------------------------------------


@dataclass
class Mail:
    to: str
    message_id: str
    subject: str
    body: str


@dataclass
class SmtpSink:
    """aiosmtpd handler: `delay` keeps each mail on the wire (after the final dot, before the
    250 reply, like a real server writing to disk); `refuse` answers 451 to the next n mails."""

    delay: float = 0.0
    refuse: int = 0
    inflight: int = 0
    mails: list[Mail] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]  # noqa: N802
        self.inflight += 1
        try:
            if self.refuse > 0:
                self.refuse -= 1
                return "451 4.3.0 Try again later"
            if self.delay:
                await asyncio.sleep(self.delay)
            message = email.message_from_bytes(envelope.content)
            payload = message.get_payload(decode=True)
            self.mails.append(
                Mail(
                    to=envelope.rcpt_tos[0],
                    message_id=str(message["Message-ID"]),
                    subject=str(message["Subject"]),
                    body=payload.decode() if isinstance(payload, bytes) else str(payload),
                )
            )
            return "250 2.0.0 OK"
        finally:
            self.inflight -= 1


class SmtpServer:
    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.port = _free_port()
        self.controller: Controller | None = None
        self.start()

    def start(self) -> None:
        self.controller = Controller(self.sink, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


# --- worker and beat -----------------------------------------------------------------------


class Celery:
    """`celery -A clinic worker|beat` as a subprocess on the test database and the private Redis."""

    def __init__(self, tmp_path: Path, name: str, kind: str, env: dict[str, str]) -> None:
        self.log = tmp_path / f"{name}.log"
        command = [sys.executable, "-m", "celery", "-A", "clinic", kind, "--loglevel=INFO"]
        if kind == "worker":
            command += [
                "--pool=prefork",
                "--concurrency=1",
                "-n",
                f"{name}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ]
        else:
            command += ["-s", str(tmp_path / f"{name}-schedule"), "--pidfile="]
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                command, cwd=BASE_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        self.wait_for("ready" if kind == "worker" else "beat: Starting")

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.text():
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{self.log.name} never logged {text!r}:\n{self.text()[-3000:]}")

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.alive():
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Rig:
    tmp_path: Path
    redis: PrivateRedis
    sink: SmtpSink
    smtp: SmtpServer
    env: dict[str, str]
    started: list[Celery] = field(default_factory=list)

    def worker(self, name: str) -> Celery:
        process = Celery(self.tmp_path, name, "worker", self.env)
        self.started.append(process)
        return process

    def beat(self) -> Celery:
        process = Celery(self.tmp_path, "beat", "beat", self.env)
        self.started.append(process)
        return process


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    celery_app._pool = None  # the connection and producer pools are rebuilt from the new URL
    celery_app.amqp._producer_pool = None


@pytest.fixture
def rig(tmp_path) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    assert not celery_app.conf.task_always_eager, "tasks must go through Redis to the worker"
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd logs every SMTP command
    redis = PrivateRedis(tmp_path)
    sink = SmtpSink()
    smtp = SmtpServer(sink)
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": _database_url(),
            "REDIS_URL": redis.url,
            "DJANGO_SETTINGS_MODULE": "clinic.settings",
            # The test process's own keys: with DEBUG=false the worker and beat refuse to start
            # without valid ones, and they must seal and decrypt with the keys the test checks with.
            "AUDIT_HMAC_KEY": settings.AUDIT_HMAC_KEY,
            "NOTE_ENCRYPTION_KEYS": ",".join(settings.NOTE_ENCRYPTION_KEYS),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp.port),
            "EMAIL_USE_TLS": "false",
            "EMAIL_TIMEOUT": "5",
            "REMINDER_SENDING_TIMEOUT_SECONDS": str(LEASE),
            "REMINDER_SWEEP_SECONDS": "1",
            "REMINDER_BATCH_SECONDS": "3",
            "REMINDER_RETRY_BACKOFF_SECONDS": "1",
            "REMINDER_RETRY_BACKOFF_MAX_SECONDS": "4",
            "REMINDER_MARK_SENT_PAUSE_SECONDS": "0.5",
        }
    )
    shared_broker = celery_app.conf.broker_url
    _use_broker(redis.url)
    built = Rig(tmp_path=tmp_path, redis=redis, sink=sink, smtp=smtp, env=env)
    try:
        yield built
    finally:
        for process in reversed(built.started):
            process.stop()
        smtp.stop()
        redis.kill()
        _use_broker(shared_broker)
        connection.close()


def _seed(recipients: int) -> dict[str, int]:
    """Each recipient: 1-3 reminders due today. Returns e-mail -> number of reminders."""
    patient = PatientFactory()
    expected: dict[str, int] = {}
    rows = []
    for n in range(recipients):
        user = UserFactory(is_therapist=True, email=f"fault-{n}@clinic.example")
        expected[user.email] = 1 + n % 3
        rows += [
            Reminder(
                recipient=user,
                patient=patient,
                kind=ReminderKind.SESSION_FOLLOW_UP,
                subject_type="therapy.therapysession",
                subject_id=f"{n}-{k}",
                due_date=timezone.localdate(),
                detail="follow up",
            )
            for k in range(expected[user.email])
        ]
    Reminder.objects.bulk_create(rows)
    return expected


def _count_in(body: str) -> int:
    return int(body.split("You have ", 1)[1].split(" ", 1)[0])


def _all_sent() -> bool:
    return not Reminder.objects.exclude(status=ReminderStatus.SENT).exists()


@dataclass
class Outcome:
    fault: str
    reminders: int
    lost: int
    inbox_duplicates: int
    email_duplicates: int
    window: int  # how many times the fault could hit the documented window
    note: str


RESULTS: list[Outcome] = []


def _judge(fault: str, rig: Rig, expected: dict[str, int], *, window: int, note: str) -> Outcome:
    """Count lost reminders and duplicates; every duplicate e-mail must be a resend of the
    same claim (same Message-ID, same count) - the README's one remaining window."""
    rows = list(Reminder.objects.values_list("kind", "subject_type", "subject_id", "due_date", "recipient_id"))
    inbox_duplicates = len(rows) - len(set(rows))
    not_sent = Reminder.objects.exclude(status=ReminderStatus.SENT).count()
    by_recipient: dict[str, dict[str, Mail]] = {}
    duplicates: list[Mail] = []
    for mail in rig.sink.mails:
        seen = by_recipient.setdefault(mail.to, {})
        if mail.message_id in seen:
            duplicates.append(mail)
            assert _count_in(mail.body) == _count_in(seen[mail.message_id].body), "a resend is the same e-mail"
        seen[mail.message_id] = mail
    uncounted = sum(
        max(0, want - sum(_count_in(m.body) for m in by_recipient.get(address, {}).values()))
        for address, want in expected.items()
    )
    outcome = Outcome(
        fault=fault,
        reminders=sum(expected.values()),
        lost=max(not_sent, uncounted),
        inbox_duplicates=inbox_duplicates,
        email_duplicates=len(duplicates),
        window=window,
        note=note,
    )
    RESULTS.append(outcome)
    for mail in duplicates:
        print(f"[{fault}] duplicate e-mail (resend of one claim): to={mail.to} message-id={mail.message_id}")  # noqa: T201
    print(  # noqa: T201
        f"[{fault}] reminders={outcome.reminders} lost={outcome.lost} inbox duplicates={inbox_duplicates} "
        f"e-mail duplicates={len(duplicates)} (window: at most {window}) - {note}"
    )
    _write_table()
    # Every mail of a recipient is for distinct rows: one claim each, none sent under two claims.
    message_ids = Counter(m.message_id for m in rig.sink.mails)
    assert all(m.startswith("<reminders.") for m in message_ids), "every e-mail carries its claim's Message-ID"
    return outcome


def _write_table() -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    lines = [
        "| fault | reminders | lost | inbox duplicates | e-mail duplicates (window) | what happened |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for o in RESULTS:
        lines.append(
            f"| {o.fault} | {o.reminders} | {o.lost} | {o.inbox_duplicates} | {o.email_duplicates} (≤ {o.window}) "
            f"| {o.note} |"
        )
    (ARTIFACTS / "reminder-faults.md").write_text("\n".join(lines) + "\n")


def _assert_clean(outcome: Outcome) -> None:
    assert outcome.lost == 0
    assert outcome.inbox_duplicates == 0
    assert outcome.email_duplicates <= outcome.window


# --- the faults ----------------------------------------------------------------------------


def test_worker_sigkilled_three_times_mid_delivery(rig):
    expected = _seed(recipients=24)
    rig.sink.delay = 0.4
    rig.beat()
    worker = rig.worker("w0")
    reminders_dispatch_task.delay()
    kills = 0
    for n in range(1, 4):
        accepted = len(rig.sink.mails)
        _wait_until(lambda a=accepted: len(rig.sink.mails) > a and rig.sink.inflight > 0, 60, "a mail on the wire")
        worker.kill()  # SIGKILL, main process and pool child: the in-flight mail's rows stay `sending`
        kills += 1
        worker = rig.worker(f"w{n}")
    _wait_until(_all_sent, 120, "every reminder sent after three kills")
    outcome = _judge(
        "worker SIGKILL ×3",
        rig,
        expected,
        window=kills,
        note=f"{kills} kills mid-delivery; rows back after the {LEASE} s lease through the sweep (every 1 s in this run)",
    )
    _assert_clean(outcome)


def test_redis_restarted_empty_under_a_running_worker_with_retries_waiting(rig):
    expected = _seed(recipients=24)
    rig.sink.refuse = 8  # the first mails get 451: their retries wait in next_attempt_at
    rig.sink.delay = 0.2
    rig.env["REMINDER_RETRY_BACKOFF_SECONDS"] = "5"  # retries still waiting when Redis goes down
    rig.beat()
    worker = rig.worker("w0")
    reminders_dispatch_task.delay()
    _wait_until(
        lambda: (
            Reminder.objects.filter(status=ReminderStatus.PENDING, next_attempt_at__isnull=False).exists()
            and rig.sink.inflight > 0
        ),
        60,
        "retries waiting and a mail on the wire",
    )
    waiting = Reminder.objects.filter(status=ReminderStatus.PENDING, next_attempt_at__isnull=False).count()
    rig.redis.restart_empty(down_for=3)  # queued and unacknowledged messages are gone too
    _wait_until(_all_sent, 120, "every reminder sent after the Redis restart")
    assert worker.alive(), "the worker survived the broker restart:\n" + worker.text()[-3000:]
    assert "Connection to broker lost" in worker.text() or "Cannot connect" in worker.text()
    outcome = _judge(
        "Redis killed and restarted empty",
        rig,
        expected,
        window=0,
        note=f"{waiting} rows waiting on a retry during the restart; the worker reconnected and lived on",
    )
    _assert_clean(outcome)


def test_database_connections_terminated_while_smtp_accepts(rig):
    expected = _seed(recipients=24)
    rig.sink.delay = 0.4
    rig.beat()
    worker = rig.worker("w0")
    reminders_dispatch_task.delay()
    terminated = 0
    with connection.cursor() as cursor:
        for _ in range(5):
            accepted = len(rig.sink.mails)
            _wait_until(lambda a=accepted: len(rig.sink.mails) >= a and rig.sink.inflight > 0, 60, "a mail on the wire")
            cursor.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            terminated += cursor.fetchone()[0]
            _wait_until(lambda a=accepted: len(rig.sink.mails) > a, 60, "that mail accepted")
    _wait_until(_all_sent, 120, "every reminder sent after the terminated connections")
    remarked = worker.text().count("retrying on a new connection")
    assert remarked >= 1, "the fault hit a mark after SMTP accepted:\n" + worker.text()[-3000:]
    outcome = _judge(
        "database connections terminated",
        rig,
        expected,
        window=0,
        note=f"{terminated} connections terminated while SMTP was accepting; {remarked} marks retried on a new one",
    )
    _assert_clean(outcome)


def test_smtp_down_then_up(rig):
    expected = _seed(recipients=24)
    rig.sink.delay = 0.2
    rig.beat()
    rig.worker("w0")
    reminders_dispatch_task.delay()
    _wait_until(lambda: len(rig.sink.mails) >= 4, 60, "the first mails")
    rig.smtp.stop()  # refused connections: transient, retried with backoff from the outbox
    down_since = time.monotonic()
    _wait_until(
        lambda: Reminder.objects.filter(status=ReminderStatus.PENDING, attempts__gte=2).exists(), 60, "retries failing"
    )
    time.sleep(max(0.0, 6 - (time.monotonic() - down_since)))
    rig.smtp.start()
    back = time.monotonic()
    _wait_until(_all_sent, 120, "every reminder sent after the mail server came back")
    outcome = _judge(
        "SMTP down then up",
        rig,
        expected,
        window=1,  # a mail being accepted when the server stopped may be resent once
        note=f"down {back - down_since:.0f} s; all sent {time.monotonic() - back:.0f} s after it came back",
    )
    _assert_clean(outcome)
