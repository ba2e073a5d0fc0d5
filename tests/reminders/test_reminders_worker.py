"""A real Celery worker process against the real Redis and PostgreSQL (issue 3, CE-2, CE-3).

The worker is `celery -A clinic worker` in a subprocess, on the test database; the mail
server is replaced by a backend that records each accepted message durably
(tests/reminders/mail_recorder.py). The test kills the worker with SIGKILL while a mail
is on the wire, starts a new one, and checks every reminder was e-mailed exactly once.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.utils import timezone

from clinic.celery import app as celery_app
from reminders.models import Reminder, ReminderKind, ReminderStatus
from reminders.tasks import reminders_dispatch_task, reminders_scan_task, reminders_sweep_task
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory, UserFactory
from tests.reminders.mail_recorder import recorded

pytestmark = [pytest.mark.redis, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

BASE_DIR = Path(settings.BASE_DIR)
SENDING_TIMEOUT = 3  # seconds before the sweeper takes back a dead worker's rows


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker_broker_url() -> str:
    """A Redis db of the worker tests' own (REDIS_URL's db + 8, + the xdist worker number), so a
    task some other test publishes can never reach these workers, nor theirs leak out."""
    base, _, db = settings.REDIS_URL.rpartition("/")
    xdist_number = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
    return f"{base}/{(int(db or 0) + 8 + xdist_number) % 16}"


BROKER_URL = _worker_broker_url()


def _clear_broker() -> None:
    """Our Redis db: drop queued and unacknowledged messages left by an earlier run."""
    client = redis.Redis.from_url(BROKER_URL)
    client.delete("celery", "unacked", "unacked_index", "unacked_mutex")


class Worker:
    def __init__(self, tmp_path: Path, name: str, *, smtp_delay: float) -> None:
        self.log = tmp_path / f"{name}.log"
        env = dict(os.environ)
        env.update(
            {
                "DATABASE_URL": _database_url(),
                "REDIS_URL": BROKER_URL,
                "EMAIL_BACKEND": "tests.reminders.mail_recorder.DurableRecordingBackend",
                "TANDEM_TEST_MAIL_LOG": str(tmp_path / "mail.jsonl"),
                "TANDEM_TEST_SMTP_DELAY": str(smtp_delay),
                "REMINDER_SENDING_TIMEOUT_SECONDS": str(SENDING_TIMEOUT),
                "DJANGO_SETTINGS_MODULE": "clinic.settings",
                # The test process's own keys: with DEBUG=false the worker refuses to start without
                # valid ones, and it must seal and decrypt with the keys the test checks with.
                "AUDIT_HMAC_KEY": settings.AUDIT_HMAC_KEY,
                "NOTE_ENCRYPTION_KEYS": ",".join(settings.NOTE_ENCRYPTION_KEYS),
            }
        )
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "celery",
                    "-A",
                    "clinic",
                    "worker",
                    "--pool=prefork",
                    "--concurrency=1",
                    "--loglevel=INFO",
                    "-n",
                    f"{name}@%h",
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                cwd=BASE_DIR,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.wait_for("ready")

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"worker never logged {text!r}:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool child, no chance to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def _wait_until(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def workers(tmp_path):  # type: ignore[no-untyped-def]
    assert not celery_app.conf.task_always_eager, "tasks must go through Redis to the worker"
    shared_broker = celery_app.conf.broker_url
    _use_broker(BROKER_URL)
    _clear_broker()
    started: list[Worker] = []

    def start(name: str, smtp_delay: float = 0.0) -> Worker:
        worker = Worker(tmp_path, name, smtp_delay=smtp_delay)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
    _clear_broker()
    _use_broker(shared_broker)
    connection.close()


def _use_broker(url: str) -> None:
    celery_app.conf.broker_url = url
    celery_app._pool = None  # the connection and producer pools are rebuilt from the new URL
    celery_app.amqp._producer_pool = None


def _seed(recipients: int) -> dict[str, int]:
    """Each recipient: 1-3 reminders due today. Returns e-mail -> number of reminders."""
    patient = PatientFactory()
    expected: dict[str, int] = {}
    rows = []
    for n in range(recipients):
        user = UserFactory(is_therapist=True)
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


def test_worker_delivers_scanned_reminders_end_to_end(workers, tmp_path, prescriber, therapist):
    plan = CarePlanFactory(patient=PatientFactory(), review_date=timezone.localdate())
    for user, role in ((prescriber, "prescriber"), (therapist, "therapist")):
        CareTeamMemberFactory(patient=plan.patient, user=user, role=role)
    workers("e2e")

    reminders_scan_task.delay()  # through Redis: scan -> dispatch -> one delivery task per recipient

    reviews = Reminder.objects.filter(kind=ReminderKind.CARE_PLAN_REVIEW)
    _wait_until(
        lambda: reviews.count() == 2 and not reviews.exclude(status=ReminderStatus.SENT).exists(),
        60,
        "the worker to scan and deliver",
    )
    mails = recorded(tmp_path / "mail.jsonl")
    assert sorted(m["to"][0] for m in mails) == sorted([prescriber.email, therapist.email])
    assert {m["subject"] for m in mails} == {"Tandem: 1 new reminder"}


def test_worker_killed_mid_delivery_and_restarted_delivers_everything_once(workers, tmp_path):
    expected = _seed(recipients=12)
    total = sum(expected.values())
    mail_log = tmp_path / "mail.jsonl"
    first = workers("first", smtp_delay=0.7)

    reminders_dispatch_task.delay()
    _wait_until(
        lambda: len(recorded(mail_log)) >= 3 and Path(f"{mail_log}.inflight").exists(),
        60,
        "three mails accepted and a fourth on the wire",
    )
    in_flight = Path(f"{mail_log}.inflight").read_text()
    first.kill()  # SIGKILL mid-delivery: the in-flight recipient's rows stay `sending`

    before = Counter(Reminder.objects.values_list("status", flat=True))
    assert before[ReminderStatus.SENDING] == expected[in_flight]
    assert before[ReminderStatus.SENT] == sum(expected[m["to"][0]] for m in recorded(mail_log))

    workers("second")
    time.sleep(SENDING_TIMEOUT + 0.5)
    reminders_sweep_task.delay()  # what beat runs every few minutes: requeue, alarm, dispatch
    _wait_until(
        lambda: not Reminder.objects.exclude(status=ReminderStatus.SENT).exists(),
        90,
        "every reminder to be sent after the restart",
    )

    mails = recorded(mail_log)
    per_recipient = Counter(m["to"][0] for m in mails)
    assert per_recipient == Counter(dict.fromkeys(expected, 1)), "one e-mail per recipient, none twice"
    assert {m["to"][0]: _count_in(m["body"]) for m in mails} == expected
    assert sum(_count_in(m["body"]) for m in mails) == total
    assert in_flight in per_recipient  # the mail lost with the killed worker was sent after the restart
    attempts = dict(Reminder.objects.filter(recipient__email=in_flight).values_list("status", "attempts"))
    assert attempts == {ReminderStatus.SENT: 2}


def test_pool_process_killed_mid_delivery_is_requeued_and_everything_still_goes_once(workers, tmp_path):
    """acks_late + reject_on_worker_lost: the killed child's task goes back to the queue; the
    rows it had claimed come back through the sweeper."""
    expected = _seed(recipients=6)
    mail_log = tmp_path / "mail.jsonl"
    worker = workers("pool", smtp_delay=0.7)

    reminders_dispatch_task.delay()
    _wait_until(
        lambda: len(recorded(mail_log)) >= 2 and Path(f"{mail_log}.inflight").exists(),
        60,
        "two mails accepted and a third on the wire",
    )
    children = Path(f"/proc/{worker.process.pid}/task/{worker.process.pid}/children").read_text().split()
    os.kill(int(children[0]), signal.SIGKILL)  # the pool process only; the main worker lives on

    worker.wait_for("WorkerLostError")
    time.sleep(SENDING_TIMEOUT + 0.5)
    reminders_sweep_task.delay()
    _wait_until(
        lambda: not Reminder.objects.exclude(status=ReminderStatus.SENT).exists(), 90, "every reminder to be sent"
    )
    mails = recorded(mail_log)
    assert Counter(m["to"][0] for m in mails) == Counter(dict.fromkeys(expected, 1))
    assert {m["to"][0]: _count_in(m["body"]) for m in mails} == expected


def test_urgent_reminder_written_in_a_committed_transaction_reaches_the_worker_at_once(
    workers, tmp_path, patient, prescriber
):
    from django.db import transaction

    from reminders.outbox import ReminderDraft, reminders_write

    workers("urgent")
    with transaction.atomic():  # the clinical transaction; the dispatch is queued on commit
        reminders_write(
            [
                ReminderDraft(
                    recipient_id=prescriber.pk,
                    patient_id=patient.pk,
                    kind=ReminderKind.SAFETY_ALERT,
                    subject_type="outcomes.assessment",
                    subject_id="urgent-1",
                    due_date=timezone.localdate(),
                )
            ]
        )
    _wait_until(lambda: recorded(tmp_path / "mail.jsonl"), 30, "the urgent e-mail")
    assert [m["subject"] for m in recorded(tmp_path / "mail.jsonl")] == [
        "Tandem: urgent reminder waiting in your inbox"
    ]


def test_redis_holds_ids_only_while_deliveries_wait_for_a_worker(workers, patient, prescriber, therapist):  # CE-5
    import base64
    import json

    canary = "CANARY-redis-" + patient.mrn
    patient.family_name = canary
    patient.save()
    for user in (prescriber, therapist):
        Reminder.objects.create(
            recipient=user,
            patient=patient,
            kind=ReminderKind.SESSION_FOLLOW_UP,
            subject_type="therapy.therapysession",
            subject_id="s-1",
            due_date=timezone.localdate(),
            detail=f"{canary} missed session",
        )

    reminders_dispatch_task.run()  # publishes one delivery task per recipient; no worker consumes them

    client = redis.Redis.from_url(BROKER_URL)
    queued = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    assert len(queued) == 2
    for message in queued:
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        assert args[0] in {prescriber.pk, therapist.pk} and args[1] is False and kwargs == {}
    dump = b"".join(client.dump(key) or b"" for key in client.keys("*"))
    assert canary.encode() not in dump and b"missed session" not in dump
