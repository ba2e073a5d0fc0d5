"""Seed one harness database by COPY: `python -m harness.seed --db NAME --patients N`.

Realistic histories, in the shape issue 14 measured: per patient about 17 assessments
(PHQ-9 monthly, GAD-7 for about half), about 19 therapy sessions, a care plan (a third with
the review date reached), a team of prescriber, therapist and care manager (20 of each, so
a care manager's caseload is N/20), and for about 60 % one or two regimens with dose
changes and the monitoring labs their protocol asks for. Some patients stopped being
measured and some courses stopped seeing the patient, so every daily reminder rule has
work to do. Rows go in with COPY and explicit ids (no ORM objects, no services: this times
the app, not the audit trail of seeding), chunk by chunk so 1M patients fit in memory.
"""

import argparse
import enum
import functools
import os
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from typing import Any

CHUNK = 20_000
STAFF_PER_ROLE = 20
MODALITIES = ["CBT"] * 10 + ["IPT"] * 3 + ["ACT"] * 3 + ["DBT"] * 2 + ["MI", "EMDR"]
ATTENDANCE = ["attended"] * 84 + ["cancelled"] * 6 + ["late_cancel"] * 4 + ["no_show"] * 6
DRUGS = ["Sertraline"] * 8 + ["Escitalopram"] * 6 + ["Fluoxetine"] * 4 + ["Venlafaxine XR"] * 4
DRUGS += ["Bupropion XL"] * 3 + ["Mirtazapine"] * 3 + ["Quetiapine"] * 3 + ["Aripiprazole"] * 2
DRUGS += ["Lithium carbonate"] * 2 + ["Lamotrigine", "Buspirone"]
GIVEN = ["Alex", "Sam", "Noor", "Kofi", "Mia", "Ravi", "Lena", "Tomás", "Aiko", "Jonah", "Zara", "Eli"]
FAMILY = ["Okafor", "Smith", "Nguyen", "García", "Müller", "Kowalski", "Haddad", "Tanaka", "Brown", "Silva"]
DIAGNOSES = [
    [{"code": "F32.1", "description": "Major depressive disorder, single episode, moderate"}],
    [{"code": "F33.1", "description": "Major depressive disorder, recurrent, moderate"}],
    [{"code": "F41.1", "description": "Generalized anxiety disorder"}],
]


class Table:
    """COPY rows into one model's table: values by attname; every other column gets the
    model's default, "" for a blank text field, NULL for a nullable one (as the ORM would)."""

    def __init__(self, model: Any, now: datetime) -> None:
        from django.db import models

        self.model = model
        self.table = model._meta.db_table
        self.fields = list(model._meta.concrete_fields)
        self.columns = [f.column for f in self.fields]
        self.json = {f.attname for f in self.fields if isinstance(f, models.JSONField)}
        self.fillers: dict[str, Callable[[], Any]] = {}
        for f in self.fields:
            if f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                self.fillers[f.attname] = lambda: now
            elif f.has_default():
                default = f.default
                if callable(default):
                    if f.attname in self.json:
                        self.fillers[f.attname] = functools.partial(_json_default, default)
                    else:
                        self.fillers[f.attname] = default
                else:
                    value = default.value if isinstance(default, enum.Enum) else default
                    self.fillers[f.attname] = functools.partial(_constant, value)
            elif f.null:
                self.fillers[f.attname] = lambda: None
            elif f.blank and isinstance(f, (models.CharField, models.TextField)):
                self.fillers[f.attname] = lambda: ""
        self.attnames = [f.attname for f in self.fields]
        self.rows: list[tuple] = []

    def add(self, **values: Any) -> None:
        row = []
        for name in self.attnames:
            if name in values:
                value = values[name]
                row.append(Jsonb_(value) if name in self.json else value)
            else:
                try:
                    row.append(self.fillers[name]())
                except KeyError:
                    raise KeyError(f"{self.table}.{name} needs a value") from None
        self.rows.append(tuple(row))

    def flush(self, cursor: Any) -> int:
        if not self.rows:
            return 0
        with cursor.copy(f"COPY {self.table} ({', '.join(self.columns)}) FROM STDIN") as copy:
            for row in self.rows:
                copy.write_row(row)
        count = len(self.rows)
        self.rows = []
        return count


def _json_default(make: Callable[[], Any]) -> Any:
    return Jsonb_(make())


def _constant(value: Any) -> Any:
    return value


def Jsonb_(value: Any) -> Any:  # noqa: N802  (psycopg's wrapper, imported late)
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def aware(day: date) -> datetime:
    return datetime.combine(day, dtime(10, 0), tzinfo=UTC)


class Seeder:
    def __init__(self, patients: int, rng: random.Random, today: date) -> None:
        self.n = patients
        self.rng = rng
        self.today = today
        self.ids: dict[str, int] = {}
        self.counts: dict[str, int] = {}

    def next_id(self, table: str) -> int:
        self.ids[table] = self.ids.get(table, 0) + 1
        return self.ids[table]

    def run(self) -> None:
        from django.db import DatabaseError, connection, transaction

        from careplans.models import CarePlan, CarePlanVersion, CareTeamMember, Patient
        from careplans.search import search_name_for
        from clinic.models import User
        from medications.models import DoseChange, LabResult, Medication, MonitoringStep, Regimen
        from outcomes.models import Assessment
        from therapy.models import Modality, TherapyCourse, TherapySession

        now = aware(self.today)
        self.search_name_for = search_name_for
        self.t = {
            name: Table(model, now)
            for name, model in {
                "user": User,
                "patient": Patient,
                "plan": CarePlan,
                "plan_version": CarePlanVersion,
                "team": CareTeamMember,
                "assessment": Assessment,
                "course": TherapyCourse,
                "session": TherapySession,
                "regimen": Regimen,
                "dose": DoseChange,
                "lab": LabResult,
            }.items()
        }
        from outcomes.instruments import INSTRUMENTS

        self.instruments = INSTRUMENTS
        self.medications = {m.name: m for m in Medication.objects.all()}
        self.protocol_tests: dict[int, list[str]] = {}
        for step in MonitoringStep.objects.all():
            self.protocol_tests.setdefault(step.protocol_id, []).append(step.test)
        self.modalities = {m.code: m.pk for m in Modality.objects.all()}
        missing = {*DRUGS} - set(self.medications) or {*MODALITIES} - set(self.modalities)
        if missing:
            sys.exit(f"catalog rows missing: {sorted(missing)}")
        with connection.cursor() as django_cursor:
            cursor = django_cursor.cursor  # the psycopg cursor: COPY
            # The rows are generated consistent: skip the FK triggers, or the deferred checks of
            # millions of rows run one by one at COMMIT (longer than the COPY itself). Needs a
            # superuser, which the harness's own server is; otherwise it just checks them.
            try:
                with transaction.atomic():  # a savepoint: a refusal leaves the seeding transaction usable
                    cursor.execute("SET LOCAL session_replication_role = replica")
            except DatabaseError:
                pass  # not a superuser: keep the checks
            base = User.objects.order_by("-id").values_list("id", flat=True).first() or 0
            self.ids["user"] = base
            self.staff()
            self.counts["users"] = self.t["user"].flush(cursor)
            for start in range(0, self.n, CHUNK):
                for n in range(start, min(self.n, start + CHUNK)):
                    self.patient(n)
                for name, table in self.t.items():
                    self.counts[name] = self.counts.get(name, 0) + table.flush(cursor)
            for table in self.t.values():
                self.reset_sequence(cursor, table.model)
            cursor.execute("ANALYZE")  # the report-facts build that follows plans with real row counts

    @staticmethod
    def reset_sequence(cursor: Any, model: Any) -> None:
        table = model._meta.db_table
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
        )

    def staff(self) -> None:
        self.admin_id = self.next_id("user")
        self.t["user"].add(
            id=self.admin_id, username="bench-admin", password="!", is_clinic_admin=True, first_name="Bench",
            last_name="Admin", email="admin@bench.test",
        )  # fmt: skip
        self.by_role: dict[str, list[int]] = {}
        for role in "ptc":
            self.by_role[role] = []
            for n in range(STAFF_PER_ROLE):
                pk = self.next_id("user")
                self.by_role[role].append(pk)
                self.t["user"].add(
                    id=pk, username=f"bench-{role}{n}", password="!", first_name=f"{role.upper()}{n}",
                    last_name=f"Clinician{n}", email=f"{role}{n}@bench.test", is_prescriber=role == "p",
                    is_therapist=role == "t", is_care_manager=role == "c",
                )  # fmt: skip

    def patient(self, n: int) -> None:
        rng, today = self.rng, self.today
        pk = self.next_id("patient")
        registered = today - timedelta(days=rng.randint(90, 660))
        given, family = rng.choice(GIVEN), f"{rng.choice(FAMILY)}{n:07d}"
        # search_name as Patient.save() fills it (careplans/search.py): COPY skips save().
        self.t["patient"].add(
            id=pk, mrn=f"B{n:08d}", given_name=given, family_name=family,
            search_name=self.search_name_for(given_name=given, family_name=family),
            birth_date=date(1950 + n % 55, 1 + n % 12, 1 + n % 28), status="discharged" if rng.random() < 0.05
            else "active", created_at=aware(registered), updated_at=aware(registered),
        )  # fmt: skip
        review = today - timedelta(days=n % 30) if n % 3 == 0 else today + timedelta(days=n % 90)
        plan, diagnoses = self.next_id("plan"), rng.choice(DIAGNOSES)
        self.t["plan"].add(id=plan, patient_id=pk, review_date=review, diagnoses=diagnoses)
        # Every plan's current text is its first kept version (careplans migration 0006).
        self.t["plan_version"].add(
            id=self.next_id("plan_version"), care_plan_id=plan, version=1, saved_at=aware(registered),
            status="active", diagnoses=diagnoses, review_date=review,
        )  # fmt: skip
        team = {key: self.by_role[key][(n * 7 + ord(key)) % STAFF_PER_ROLE] for key in "ptc"}
        for key, role in (("p", "prescriber"), ("t", "therapist"), ("c", "care_manager")):
            self.t["team"].add(
                id=self.next_id("team"), patient_id=pk, user_id=team[key], role=role, started_at=aware(registered)
            )
        self.assessments(pk, registered, team["c"])
        self.therapy(pk, registered, team["t"])
        self.medications_of(pk, registered, team["p"])

    def assessments(self, pk: int, registered: date, entered_by: int) -> None:
        rng = self.rng
        # A fifth stopped being measured some weeks ago: measurement_due has work.
        last = self.today - timedelta(days=rng.randint(30, 120)) if rng.random() < 0.2 else self.today
        for code, share, step in (("PHQ-9", 0.95, 28), ("GAD-7", 0.5, 42)):
            if rng.random() > share:
                continue
            definition = self.instruments[code]
            items = len(definition.items)
            score = rng.randint(8, 24 if code == "PHQ-9" else 20)
            improves = rng.random() < 0.6
            day = registered + timedelta(days=rng.randint(0, 10))
            while day <= last:
                vector, left = [], score
                for _ in range(items):
                    vector.append(min(3, left))
                    left -= vector[-1]
                if code == "PHQ-9":
                    vector[-1] = 0  # item 9 stays 0: no safety alerts without their follow-up rows
                total = sum(vector)
                self.t["assessment"].add(
                    id=self.next_id("assessment"), patient_id=pk, instrument=code, administered_on=day,
                    responses=vector, total_score=total, severity=definition.band_for(total).severity,
                    safety_item_positive=False, entered_by_id=entered_by, created_at=aware(day), updated_at=aware(day),
                )  # fmt: skip
                drift = rng.randint(-4, 1) if improves else rng.randint(-2, 2)
                score = max(0, min(definition.max_total - 3, score + drift))
                day += timedelta(days=step + rng.randint(-3, 3))

    def therapy(self, pk: int, registered: date, therapist: int) -> None:
        rng = self.rng
        if rng.random() > 0.6:
            return
        started = registered + timedelta(days=rng.randint(0, 20))
        ended = started + timedelta(days=rng.randint(90, 300)) if rng.random() < 0.35 else None
        if ended and ended > self.today:
            ended = None
        # A sixth of the open courses stopped seeing the patient: overdue_courses has work.
        last = ended or (self.today - timedelta(days=rng.randint(20, 80)) if rng.random() < 0.17 else self.today)
        course = self.next_id("course")
        self.t["course"].add(
            id=course, patient_id=pk, therapist_id=therapist, modality_id=self.modalities[rng.choice(MODALITIES)],
            started_on=started, status="completed" if ended else "active", ended_on=ended, created_by_id=therapist,
            created_at=aware(started), updated_at=aware(started),
        )  # fmt: skip
        day = started
        while day <= last:
            attendance = rng.choice(ATTENDANCE)
            self.t["session"].add(
                id=self.next_id("session"), course_id=course, session_date=day, attendance=attendance,
                duration_minutes=50 if attendance == "attended" else 0, logged_by_id=therapist,
                created_at=aware(day), updated_at=aware(day),
            )  # fmt: skip
            day += timedelta(days=rng.choice([7, 7, 7, 7, 14, 14]))

    def medications_of(self, pk: int, registered: date, prescriber: int) -> None:
        rng = self.rng
        if rng.random() > 0.62:
            return
        for name in set(rng.sample(DRUGS, rng.choice([1, 1, 1, 2]))):
            medication = self.medications[name]
            start = registered + timedelta(days=rng.randint(0, 60))
            stopped = start + timedelta(days=rng.randint(30, 300)) if rng.random() < 0.25 else None
            if stopped and stopped > self.today:
                stopped = None
            regimen = self.next_id("regimen")
            self.t["regimen"].add(
                id=regimen, patient_id=pk, medication_id=medication.pk, dose=Decimal("50"), unit=medication.unit,
                frequency="once_daily", start_date=start, status="stopped" if stopped else "active",
                stopped_on=stopped, prescriber_id=prescriber, created_at=aware(start), updated_at=aware(start),
            )  # fmt: skip
            dose = Decimal("50")
            self.t["dose"].add(
                id=self.next_id("dose"), regimen_id=regimen, previous_dose=None, dose=dose, reason="Started",
                reason_code="start", effective_on=start, changed_by_id=prescriber, changed_at=aware(start),
            )  # fmt: skip
            day = start
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                day += timedelta(days=rng.randint(14, 60))
                if day > (stopped or self.today):
                    break
                new = dose + Decimal(rng.choice([25, 25, -25]))
                if new <= 0:
                    continue
                self.t["dose"].add(
                    id=self.next_id("dose"), regimen_id=regimen, previous_dose=dose, dose=new, reason="Titration",
                    reason_code=rng.choice(["titration_up", "titration_down"]), effective_on=day,
                    changed_by_id=prescriber, changed_at=aware(day),
                )  # fmt: skip
                dose = new
            tests = self.protocol_tests.get(medication.monitoring_protocol_id or 0, [])
            if tests and rng.random() < 0.7:
                for test in set(tests):
                    taken = start
                    while taken <= self.today and rng.random() < 0.85:
                        self.t["lab"].add(
                            id=self.next_id("lab"), patient_id=pk, regimen_id=regimen, test=test,
                            value=Decimal("0.8") if test == "lithium_level" else Decimal("1800"), unit="x",
                            taken_on=taken, recorded_by_id=prescriber,
                        )  # fmt: skip
                        taken += timedelta(days=rng.choice([7, 30, 90, 180]))


def main() -> None:
    parser = argparse.ArgumentParser(description="Seed one harness database by COPY.")
    parser.add_argument("--db", required=True)
    parser.add_argument("--patients", type=int, required=True)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()
    from harness import databases

    databases.require_ours(args.db)
    os.environ["DATABASE_URL"] = databases.database_url(args.db)
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrated = time.perf_counter() - started
    seeder = Seeder(args.patients, random.Random(args.seed), date.today())  # noqa: S311  (synthetic data)
    with transaction.atomic():
        seeder.run()
    seeded = time.perf_counter() - started - migrated
    # The reports read per-patient facts (reports/facts.py), which a bulk load never marks dirty:
    # build them as the nightly rebuild would, then refresh the planner's statistics and the
    # visibility map: without VACUUM a freshly loaded table has no page marked all-visible, so
    # PostgreSQL cannot use index-only scans until autovacuum gets there (and it may be off).
    from reports.facts import facts_refresh_all

    facts_started = time.perf_counter()
    facts = facts_refresh_all(today=seeder.today)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    facts_seconds = time.perf_counter() - facts_started
    per_patient = {k: round(v / args.patients, 1) for k, v in seeder.counts.items() if k not in ("users",)}
    print(
        f"seeded {args.db}: {args.patients} patients in {seeded:.0f} s (migrate {migrated:.0f} s, "
        f"report facts for {facts} patients {facts_seconds:.0f} s); rows {seeder.counts}; per patient {per_patient}",
        flush=True,
    )


if __name__ == "__main__":
    main()
