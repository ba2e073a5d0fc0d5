"""How long does the daily reminder scan take for a clinic of 10,000 patients? (issue 3)

    createdb -h 127.0.0.1 -U postgres tandem_reminders_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/tandem_reminders_bench \
        .venv/bin/python benchmarks/reminder_scan.py [--patients 10000]
    dropdb -h 127.0.0.1 -U postgres tandem_reminders_bench

Seeds with bulk_create (not the seed_demo services: that would time the audit trail, not
the scan): N patients, each with an open care plan and a team of prescriber, therapist and
care manager drawn from 60 clinicians; a third of the plans have their review date reached.
Then times reminders_scan (every registered rule) three times from an empty outbox: the
first writes the reminders, the next ones find them all written (the steady state of an
hourly beat), then each rule on its own.
Refuses to run on SQLite or on a database that already holds other data.
"""

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from careplans.models import CarePlan, CareTeamMember, Patient, TeamRole  # noqa: E402
from clinic.models import User  # noqa: E402
from reminders import delivery  # noqa: E402
from reminders.models import Reminder, ReminderKind  # noqa: E402
from reminders.outbox import DraftQuery, reminder_rules, reminders_write  # noqa: E402

TODAY = date(2026, 12, 1)


def out(text: str) -> None:
    sys.stdout.write(text + "\n")


MARK = "bench-"


def seed(patients: int) -> None:
    with transaction.atomic():
        staff = User.objects.bulk_create(
            [
                User(
                    username=f"{MARK}{role}{n}",
                    email=f"{role}{n}@bench.test",
                    is_prescriber=role == "p",
                    is_therapist=role == "t",
                    is_care_manager=role == "c",
                )
                for role in "ptc"
                for n in range(20)
            ]
        )
        by_role = {role: [u for u in staff if u.username.startswith(f"{MARK}{role}")] for role in "ptc"}
        rows = Patient.objects.bulk_create(
            [
                Patient(mrn=f"B{n:07d}", given_name="Bench", family_name=f"Patient{n}", birth_date=date(1980, 1, 1))
                for n in range(patients)
            ],
            batch_size=5000,
        )
        CarePlan.objects.bulk_create(
            [
                CarePlan(
                    patient=p,
                    review_date=TODAY - timedelta(days=n % 30) if n % 3 == 0 else TODAY + timedelta(days=n % 90),
                )
                for n, p in enumerate(rows)
            ],
            batch_size=5000,
        )
        roles = {"p": TeamRole.PRESCRIBER, "t": TeamRole.THERAPIST, "c": TeamRole.CARE_MANAGER}
        CareTeamMember.objects.bulk_create(
            [
                CareTeamMember(patient=p, user=by_role[key][n % 20], role=roles[key])
                for n, p in enumerate(rows)
                for key in "ptc"
            ],
            batch_size=5000,
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("Set DATABASE_URL to a PostgreSQL database of its own (see the docstring).")
    call_command("migrate", verbosity=0)
    if Patient.objects.exclude(mrn__startswith="B").exists():
        sys.exit("This database holds other data; use an empty one of its own.")
    if not Patient.objects.exists():
        started = time.perf_counter()
        seed(args.patients)
        out(f"seeded {args.patients} patients, plans and teams in {time.perf_counter() - started:.1f} s")
    Reminder.objects.all().delete()  # its own database: every run starts from an empty outbox
    out(
        f"patients={Patient.objects.count()} plans={CarePlan.objects.count()} "
        f"memberships={CareTeamMember.objects.count()} rules={sorted(reminder_rules())}"
    )
    for run in range(1, 4):
        started = time.perf_counter()
        result = delivery.reminders_scan(today=TODAY)
        elapsed = time.perf_counter() - started
        written = Reminder.objects.filter(kind=ReminderKind.CARE_PLAN_REVIEW).count()
        out(
            f"scan {run}: {elapsed:.2f} s  offered={sum(result.offered.values())} failed={result.failed} "
            f"care_plan_review rows={written}"
        )
    for name, rule in sorted(reminder_rules().items()):
        started = time.perf_counter()
        produced = rule(TODAY)
        drafts = list(produced.drafts() if isinstance(produced, DraftQuery) else produced)  # set-based rules too
        queried = time.perf_counter() - started
        with transaction.atomic():
            reminders_write(drafts)
        out(
            f"  rule {name}: query {queried:.2f} s, write {time.perf_counter() - started - queried:.2f} s, "
            f"{len(drafts)} drafts"
        )


if __name__ == "__main__":
    main()
