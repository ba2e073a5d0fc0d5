"""How long does each clinic report take for a clinic of 10,000 patients on PostgreSQL? (issue 7)

    .venv/bin/python benchmarks/report_timings.py [--patients 10000] [--keep]

Creates its own database, tandem_reports_bench (on the server of DATABASE_URL, default
postgres://postgres@127.0.0.1:5432), migrates it, bulk-creates N patients with realistic
related rows (care teams, care plans with diagnoses, PHQ-9/GAD-7 trajectories, safety alerts,
regimens with dose changes, lab results and side effects, therapy courses with sessions,
case reviews, adherence checks), then times every report twice: as the page shows it (first
page of the registry) and as the CSV export computes it (every row, CSV written), with the
number of queries each took. The database is dropped afterwards unless --keep is given.

Rows are written with bulk_create, not the services: that would time the audit trail, not
the reports. Nothing here is real: names, numbers and dates are generated.
"""

import argparse
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlparse, urlunparse

DB_NAME = "tandem_reports_bench"
SERVER = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
parsed = urlparse(SERVER)
if not parsed.scheme.startswith("postgres"):
    sys.exit("Needs PostgreSQL: set DATABASE_URL to a PostgreSQL server (its database name is ignored).")
os.environ["DATABASE_URL"] = urlunparse(parsed._replace(path=f"/{DB_NAME}"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.pop("REDIS_URL", None)  # the CSV path runs in-process here
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def admin_connection() -> psycopg.Connection:
    return psycopg.connect(urlunparse(parsed._replace(path="/postgres")), autocommit=True)


def create_database() -> None:
    with admin_connection() as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone()
        if exists:
            sys.exit(f"{DB_NAME} already exists: drop it first (dropdb {DB_NAME}) or it is someone's run.")
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def drop_database() -> None:
    with admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


TODAY = date(2026, 3, 2)
MOD = ["CBT"] * 10 + ["IPT"] * 3 + ["ACT"] * 3 + ["DBT"] * 2 + ["psychodynamic", "MI", "EMDR", "family", "group"]
ATTENDANCE = ["attended"] * 84 + ["cancelled"] * 6 + ["late_cancel"] * 4 + ["no_show"] * 6
DRUGS = (
    ["Sertraline"] * 8
    + ["Escitalopram"] * 6
    + ["Fluoxetine"] * 4
    + ["Venlafaxine XR"] * 4
    + ["Bupropion XL"] * 3
    + ["Mirtazapine"] * 3
    + ["Quetiapine"] * 3
    + ["Aripiprazole"] * 2
    + ["Lithium carbonate"] * 2
    + ["Divalproex sodium (valproate)", "Clozapine", "Lamotrigine", "Buspirone"]
)
DIAGNOSES = (
    [[{"code": "F32.1", "description": "Major depressive disorder, single episode, moderate"}]] * 4
    + [
        [
            {"code": "F33.1", "description": "Major depressive disorder, recurrent, moderate"},
            {"code": "F41.1", "description": "Generalized anxiety disorder"},
        ]
    ]
    * 3
    + [
        [{"code": "F41.1", "description": "Generalized anxiety disorder"}],
        [{"code": "F31.81", "description": "Bipolar II disorder"}],
        [{"code": "F20.9", "description": "Schizophrenia, unspecified"}],
    ]
)


def aware(day: date) -> datetime:
    from django.utils import timezone

    return timezone.make_aware(datetime.combine(day, dtime(10, 0)))


def answers(count: int, total: int, top: int = 3) -> list[int]:
    vector = []
    for _ in range(count):
        vector.append(min(top, total))
        total -= vector[-1]
    return vector


class Seeder:
    def __init__(self, patients: int, rng: random.Random) -> None:
        self.n = patients
        self.rng = rng
        self.rows: dict[str, list] = {}

    def run(self) -> None:
        from django.db import transaction

        with transaction.atomic():
            self.staff()
            self.patients()
            self.assessments()
            self.medications()
            self.therapy()
            self.reviews()

    def staff(self) -> None:
        from clinic.models import User

        self.admin = User.objects.create(username="bench-admin", is_clinic_admin=True)
        staff = User.objects.bulk_create(
            [
                User(
                    username=f"bench-{role}{n}",
                    first_name=f"{role.upper()}{n}",
                    last_name=f"Clinician{n}",
                    is_prescriber=role == "p",
                    is_therapist=role == "t",
                    is_care_manager=role == "c",
                )
                for role in "ptc"
                for n in range(20)
            ]
        )
        self.by_role = {role: [u for u in staff if u.username.startswith(f"bench-{role}")] for role in "ptc"}

    def patients(self) -> None:
        from careplans.models import CarePlan, CareTeamMember, Patient, TeamRole

        rng = self.rng
        people = []
        for n in range(self.n):
            registered = TODAY - timedelta(days=rng.randint(14, 730))
            people.append(
                Patient(
                    mrn=f"B{n:07d}",
                    given_name=rng.choice(["Alex", "Sam", "Noor", "Kofi", "Mia"]),
                    family_name=f"Bench{n:05d}",
                    birth_date=date(1960 + n % 45, 1 + n % 12, 1),
                    status="discharged" if rng.random() < 0.05 else "active",
                    created_at=aware(registered),
                )
            )
        self.people = Patient.objects.bulk_create(people, batch_size=5000)
        CarePlan.objects.bulk_create(
            [CarePlan(patient=p, diagnoses=rng.choice(DIAGNOSES)) for p in self.people], batch_size=5000
        )
        roles = {"p": TeamRole.PRESCRIBER, "t": TeamRole.THERAPIST, "c": TeamRole.CARE_MANAGER}
        CareTeamMember.objects.bulk_create(
            [
                CareTeamMember(
                    patient=p, user=self.by_role[key][(n * 7 + ord(key)) % 20], role=roles[key], started_at=p.created_at
                )
                for n, p in enumerate(self.people)
                for key in "ptc"
            ],
            batch_size=10000,
        )

    def assessments(self) -> None:
        from outcomes.instruments import INSTRUMENTS
        from outcomes.models import Assessment, SafetyAlert

        rng = self.rng
        rows, alerts = [], []
        care_managers = self.by_role["c"]
        for p in self.people:
            start = p.created_at.date()
            for code, share in (("PHQ-9", 0.92), ("GAD-7", 0.55)):
                if rng.random() > share:
                    continue
                definition = INSTRUMENTS[code]
                items = len(definition.items)
                score = rng.randint(8, 24 if code == "PHQ-9" else 20)
                improves = rng.random() < 0.6
                day = start + timedelta(days=rng.randint(0, 10))
                while day <= TODAY:
                    item9 = 1 if code == "PHQ-9" and rng.random() < 0.02 else 0
                    total = max(score, item9)
                    vector = answers(items - (1 if code == "PHQ-9" else 0), total - item9)
                    if code == "PHQ-9":
                        vector.append(item9)
                    rows.append(
                        Assessment(
                            patient=p,
                            instrument=code,
                            administered_on=day,
                            responses=vector,
                            total_score=total,
                            severity=definition.band_for(total).severity,
                            safety_item_positive=bool(item9),
                            entered_by=care_managers[p.pk % 20],
                            created_at=aware(day),
                        )
                    )
                    score = max(
                        0,
                        min(definition.max_total - 3, score + (rng.randint(-4, 1) if improves else rng.randint(-2, 2))),
                    )
                    day += timedelta(days=rng.randint(21, 45))
        made = Assessment.objects.bulk_create(rows, batch_size=5000)
        for assessment in made:
            if assessment.safety_item_positive and rng.random() < 0.3:
                alerts.append(
                    SafetyAlert(
                        patient_id=assessment.patient_id,
                        assessment=assessment,
                        raised_at=aware(assessment.administered_on),
                    )
                )
        SafetyAlert.objects.bulk_create(alerts, batch_size=5000)
        self.counts = {"assessments": len(made), "safety alerts": len(alerts)}

    def medications(self) -> None:
        from medications.models import (
            AdherenceCheck,
            DoseChange,
            LabResult,
            Medication,
            MonitoringStep,
            Regimen,
            SideEffect,
        )

        rng = self.rng
        catalog = {m.name: m for m in Medication.objects.all()}
        protocol_tests: dict[int, list[str]] = {}
        for step in MonitoringStep.objects.all():
            protocol_tests.setdefault(step.protocol_id, []).append(step.test)
        regimens: list[Regimen] = []
        for p in self.people:
            if rng.random() > 0.62:
                continue
            for name in rng.sample(DRUGS, rng.choice([1, 1, 1, 2])):
                medication = catalog[name]
                start = p.created_at.date() + timedelta(days=rng.randint(0, 60))
                if start > TODAY or any(
                    r.patient_id == p.pk and r.medication_id == medication.pk for r in regimens[-2:]
                ):
                    continue
                stopped = start + timedelta(days=rng.randint(30, 300)) if rng.random() < 0.25 else None
                if stopped and stopped > TODAY:
                    stopped = None
                regimens.append(
                    Regimen(
                        patient=p,
                        medication=medication,
                        dose=Decimal("50"),
                        unit=medication.unit,
                        frequency="once_daily",
                        start_date=start,
                        status="stopped" if stopped else "active",
                        stopped_on=stopped,
                        prescriber=self.by_role["p"][p.pk % 20],
                    )
                )
        made = Regimen.objects.bulk_create(regimens, batch_size=5000)
        changes, labs, effects, checks = [], [], [], []
        for regimen in made:
            prescriber = regimen.prescriber
            dose = Decimal("50")
            changes.append(
                DoseChange(
                    regimen=regimen,
                    previous_dose=None,
                    dose=dose,
                    reason="Started",
                    reason_code="start",
                    effective_on=regimen.start_date,
                    changed_by=prescriber,
                    changed_at=aware(regimen.start_date),
                )
            )
            day = regimen.start_date
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                day += timedelta(days=rng.randint(14, 60))
                if day > (regimen.stopped_on or TODAY):
                    break
                new = dose + Decimal(rng.choice([25, 25, -25]))
                if new <= 0:
                    continue
                changes.append(
                    DoseChange(
                        regimen=regimen,
                        previous_dose=dose,
                        dose=new,
                        reason="Titration",
                        reason_code=rng.choice(["titration_up", "titration_down", "side_effect"]),
                        effective_on=day,
                        changed_by=prescriber,
                        changed_at=aware(day),
                    )
                )
                dose = new
            tests = protocol_tests.get(regimen.medication.monitoring_protocol_id or 0, [])
            if tests and rng.random() < 0.7:
                for test in set(tests):
                    taken = regimen.start_date
                    while taken <= TODAY and rng.random() < 0.85:
                        labs.append(
                            LabResult(
                                patient_id=regimen.patient_id,
                                regimen=regimen,
                                test=test,
                                value=Decimal("0.8") if test == "lithium_level" else Decimal("1800"),
                                unit="x",
                                taken_on=taken,
                                recorded_by=prescriber,
                            )
                        )
                        taken += timedelta(days=rng.choice([7, 30, 90, 180]))
            if rng.random() < 0.18:
                effects.append(
                    SideEffect(
                        patient_id=regimen.patient_id,
                        regimen=regimen,
                        effect="Nausea",
                        severity=rng.choice(["mild", "mild", "moderate", "severe"]),
                        onset=regimen.start_date + timedelta(days=rng.randint(3, 40)),
                        recorded_by=prescriber,
                    )
                )
            if rng.random() < 0.4:
                checks.append(
                    AdherenceCheck(
                        patient_id=regimen.patient_id,
                        regimen=regimen,
                        checked_on=min(TODAY, regimen.start_date + timedelta(days=30)),
                        method="self_report",
                        percent=rng.randint(50, 100),
                        recorded_by=prescriber,
                    )
                )
        DoseChange.objects.bulk_create(changes, batch_size=5000)
        LabResult.objects.bulk_create(labs, batch_size=5000)
        SideEffect.objects.bulk_create(effects, batch_size=5000)
        AdherenceCheck.objects.bulk_create(checks, batch_size=5000)
        self.counts |= {
            "regimens": len(made),
            "dose changes": len(changes),
            "lab results": len(labs),
            "side effects": len(effects),
            "adherence checks": len(checks),
        }

    def therapy(self) -> None:
        from therapy.models import Modality, TherapyCourse, TherapySession

        rng = self.rng
        modalities = {m.code: m for m in Modality.objects.all()}
        courses = []
        for p in self.people:
            if rng.random() > 0.6:
                continue
            started = p.created_at.date() + timedelta(days=rng.randint(0, 30))
            if started > TODAY:
                continue
            ended = started + timedelta(days=rng.randint(60, 200)) if rng.random() < 0.35 else None
            if ended and ended > TODAY:
                ended = None
            courses.append(
                TherapyCourse(
                    patient=p,
                    therapist=self.by_role["t"][(p.pk * 3) % 20],
                    modality=modalities[rng.choice(MOD)],
                    started_on=started,
                    status="completed" if ended else "active",
                    ended_on=ended,
                    created_by=self.by_role["t"][(p.pk * 3) % 20],
                )
            )
        made = TherapyCourse.objects.bulk_create(courses, batch_size=5000)
        sessions = []
        for course in made:
            day = course.started_on
            last = course.ended_on or TODAY
            while day <= last:
                attendance = rng.choice(ATTENDANCE)
                sessions.append(
                    TherapySession(
                        course=course,
                        session_date=day,
                        attendance=attendance,
                        duration_minutes=50 if attendance == "attended" else 0,
                        summary="",
                        logged_by=course.therapist,
                    )
                )
                day += timedelta(days=rng.choice([7, 7, 7, 14]))
        TherapySession.objects.bulk_create(sessions, batch_size=10000)
        self.counts |= {"therapy courses": len(made), "therapy sessions": len(sessions)}

    def reviews(self) -> None:
        from careplans.models import CaseReview

        rng = self.rng
        reviews = []
        for p in self.people:
            if rng.random() > 0.12:
                continue
            requested = p.created_at.date() + timedelta(days=rng.randint(40, 90))
            if requested > TODAY:
                continue
            held = requested + timedelta(days=rng.randint(2, 21))
            done = held <= TODAY and rng.random() < 0.8
            reviews.append(
                CaseReview(
                    patient=p,
                    reason="Not improving",
                    requested_by=self.by_role["c"][p.pk % 20],
                    requested_at=aware(requested),
                    status="completed" if done else "requested",
                    reviewed_at=aware(held) if done else None,
                    reviewed_by=self.by_role["p"][p.pk % 20] if done else None,
                )
            )
        CaseReview.objects.bulk_create(reviews, batch_size=5000)
        self.counts["case reviews"] = len(reviews)


def time_reports(admin: object) -> None:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from reports.catalog import reports_all
    from reports.csv_export import result_to_csv
    from reports.params import ReportParamsForm

    form = ReportParamsForm({"period": "12m"}, today=TODAY)
    assert form.is_valid(), form.errors
    params = form.params(admin)  # type: ignore[arg-type]
    out(f"period {params.start} to {params.end}, as of {params.today}")
    out(f"{'report':<22} {'page (s)':>9} {'queries':>8} {'csv (s)':>9} {'queries':>8} {'rows':>7} {'csv kB':>8}")
    for report in reports_all():
        options_form = report.options_form({})
        options = options_form.cleaned_data if options_form is not None and options_form.is_valid() else {}
        reset_queries()
        with CaptureQueriesContext(connection) as page_queries:
            started = time.perf_counter()
            report.run(params, options=options, paginate=True)
            page = time.perf_counter() - started
        with CaptureQueriesContext(connection) as csv_queries:
            started = time.perf_counter()
            result = report.run(params, options=options, paginate=False)
            text = result_to_csv(result)
            export = time.perf_counter() - started
        out(
            f"{report.key:<22} {page:>9.2f} {len(page_queries):>8} {export:>9.2f} {len(csv_queries):>8} "
            f"{result.row_count:>7} {len(text) / 1024:>8.0f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    create_database()
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        seeder = Seeder(args.patients, random.Random(args.seed))  # noqa: S311  (synthetic data)
        seeder.run()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        out(
            f"seeded {args.patients} patients in {time.perf_counter() - started:.0f} s: "
            + ", ".join(f"{count} {name}" for name, count in seeder.counts.items())
        )
        time_reports(seeder.admin)
        connection.close()
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database()
            out(f"dropped {DB_NAME}")


if __name__ == "__main__":
    main()
