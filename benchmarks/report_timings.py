"""Each report page against hand-written SQL computing the same numbers, at 1k / 10k / 100k
patients on PostgreSQL (issue 14: at 100k each page <= 1.5x the hand SQL and under 2 s).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python benchmarks/report_timings.py --patients 1000 10000 [100000] [--keep]

For each size it creates its own database, tandem_bench_reports (refuses if it exists: it is
someone's run), migrates it, seeds N patients by COPY (care teams, care plans, PHQ-9/GAD-7
trajectories, safety alerts, regimens with dose changes and lab results, therapy courses with
weekly sessions, case reviews, collaborative-care minutes), builds the incremental report facts
(reports.facts.facts_refresh_all, timed), then times every report as its page computes it
(first page; the caller an admin for the aggregates, a care manager with 1/20 of the clinic for
the care-team lists) and the hand SQL beside it, interleaved, median of 3, with query counts.
The database is dropped afterwards unless --keep. --database names another database of one's own
(to keep a 10k and a 100k side by side); --reuse times a kept database again without seeding
(migrates it and rebuilds the facts first, so a changed facts table is measured as built).

For the harness: `report_rows(sizes)` returns the rows (dicts) instead of printing them.
Nothing here is real: names, numbers and dates are generated.
"""

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

DB_NAME = "tandem_bench_reports"
TODAY = date(2026, 3, 2)
REPEATS = 3
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def out(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# --- Database of our own -----------------------------------------------------------------


def _server() -> Any:
    parsed = urlparse(os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres"))
    if not parsed.scheme.startswith("postgres"):
        sys.exit("Needs PostgreSQL: set DATABASE_URL to a PostgreSQL server (its database name is ignored).")
    return parsed


def _admin_connection() -> Any:
    import psycopg

    return psycopg.connect(urlunparse(_server()._replace(path="/postgres")), autocommit=True)


def _configure() -> None:
    """Point Django at our database (before django.setup(); refuses anyone else's)."""
    if _django_ready():  # called by the harness inside a configured Django
        from django.conf import settings

        name = settings.DATABASES["default"]["NAME"]
        if name != DB_NAME:
            raise RuntimeError(f"report_timings runs on {DB_NAME} only, not on {name}")
        return
    os.environ["DATABASE_URL"] = urlunparse(_server()._replace(path=f"/{DB_NAME}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("DATABASE_REPLICA_URL", None)
    import django

    django.setup()


def _django_ready() -> bool:
    try:
        from django.apps import apps
    except ImportError:  # pragma: no cover
        return False
    return apps.ready


def create_database() -> None:
    with _admin_connection() as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DB_NAME]).fetchone():
            sys.exit(f"{DB_NAME} already exists: drop it first (dropdb {DB_NAME}) or it is someone's run.")
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')


def kept_users() -> dict[str, Any]:
    """The seeded callers of a kept database (--reuse)."""
    from clinic.models import User

    return {"admin": User.objects.get(username="bench-admin"), "care_manager": User.objects.get(username="bench-c0")}


def drop_database() -> None:
    from django.db import connections

    connections.close_all()
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}"')


# --- Seeding by COPY ---------------------------------------------------------------------

MOD = ["CBT"] * 10 + ["IPT"] * 3 + ["ACT"] * 3 + ["DBT"] * 2 + ["MI", "EMDR"]
ATTENDANCE = ["attended"] * 84 + ["cancelled"] * 6 + ["late_cancel"] * 4 + ["no_show"] * 6
DRUGS = ["Sertraline"] * 8 + ["Escitalopram"] * 6 + ["Fluoxetine"] * 4 + ["Quetiapine"] * 3 + ["Lithium carbonate"] * 2
DIAGNOSES = ['[{"code": "F32.1", "description": "MDD"}]'] * 4 + ['[{"code": "F41.1", "description": "GAD"}]']
ACTIVITIES = ["outreach", "assessment", "care_planning", "follow_up", "registry", "brief_intervention"]


def _severity(code: str, total: int) -> str:
    from outcomes.instruments import INSTRUMENTS

    return INSTRUMENTS[code].band_for(total).severity


class CopySeeder:
    """Rows as tuples, written with COPY. Columns not listed get database defaults set just for
    the load (now(), gen_random_uuid(), '', false), so each table names only what matters."""

    def __init__(self, n: int, rng: random.Random) -> None:
        self.n, self.rng = n, rng
        self.counts: dict[str, int] = {}

    def _defaults(self, cursor: Any, table: str) -> None:
        """Database defaults for the load: the model field's own default where it has a plain
        one (choices such as route "oral"), else one by type."""
        from django.apps import apps

        model = next(m for m in apps.get_models() if m._meta.db_table == table)
        by_type = {
            "UUIDField": "gen_random_uuid()",
            "DateTimeField": "now()",
            "BooleanField": "false",
            "JSONField": "'[]'",
        }
        for field in model._meta.concrete_fields:
            if field.null or field.primary_key:
                continue
            if field.has_default() and not callable(field.default):
                value = field.default
                literal = ("true" if value else "false") if isinstance(value, bool) else f"'{value}'"
            elif field.get_internal_type() in by_type:
                literal = by_type[field.get_internal_type()]
            elif field.get_internal_type() in ("CharField", "TextField"):
                literal = "''"
            else:
                continue
            cursor.execute(f'ALTER TABLE {table} ALTER COLUMN "{field.column}" SET DEFAULT {literal}')

    def copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            self._defaults(cursor, table)
            raw = cursor.cursor  # psycopg's own cursor: COPY
            with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            if "id" in columns:
                sequence = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                cursor.execute(sequence)  # our own table names
        self.counts[table.split("_", 1)[1]] = len(rows)

    def run(self) -> dict[str, Any]:
        from clinic.models import User
        from medications.models import Medication
        from therapy.models import Modality

        rng = self.rng
        admin = User.objects.create(username="bench-admin", is_clinic_admin=True)
        staff = {
            role: [
                User.objects.create(
                    username=f"bench-{role}{k}",
                    first_name=f"{role.upper()}{k}",
                    last_name=f"Clinician{k}",
                    is_prescriber=role == "p",
                    is_therapist=role == "t",
                    is_care_manager=role == "c",
                )
                for k in range(20)
            ]
            for role in "ptc"
        }
        patients, plans, team, registered = [], [], [], {}
        for pk in range(1, self.n + 1):
            day = TODAY - timedelta(days=rng.randint(14, 730))
            registered[pk] = day
            status = "discharged" if rng.random() < 0.05 else "active"
            patients.append(
                (
                    pk,
                    f"B{pk:07d}",
                    rng.choice(["Alex", "Sam", "Noor", "Kofi", "Mia"]),
                    f"Bench{pk:06d}",
                    date(1960 + pk % 45, 1 + pk % 12, 1),
                    status,
                    f"{day} 10:00+00",
                )
            )
            plans.append((pk, pk, rng.choice(DIAGNOSES), "active"))
            for k, role in enumerate(("prescriber", "therapist", "care_manager")):
                user = staff["ptc"[k]][(pk * 7 + k) % 20]
                team.append((pk * 3 + k, pk, user.pk, role, f"{day} 10:00+00"))
        self.copy(
            "careplans_patient",
            ["id", "mrn", "given_name", "family_name", "birth_date", "status", "created_at"],
            patients,
        )
        self.copy("careplans_careplan", ["id", "patient_id", "diagnoses", "status"], plans)
        self.copy("careplans_careteammember", ["id", "patient_id", "user_id", "role", "started_at"], team)

        assessments: list[tuple] = []
        alerts: list[tuple] = []
        minutes: list[tuple] = []
        cms = staff["c"]
        for pk, start in registered.items():
            for code, share, top in (("PHQ-9", 0.92, 24), ("GAD-7", 0.55, 20)):
                if rng.random() > share:
                    continue
                score, improves = rng.randint(8, top), rng.random() < 0.6
                day = start + timedelta(days=rng.randint(0, 10))
                items = 9 if code == "PHQ-9" else 7
                while day <= TODAY:
                    item9 = 1 if code == "PHQ-9" and rng.random() < 0.02 else 0
                    total = max(score, item9)
                    vector = [min(3, max(0, total - 3 * i)) for i in range(items)]
                    aid = len(assessments) + 1
                    assessments.append(
                        (
                            aid,
                            pk,
                            code,
                            day,
                            str(vector).replace(" ", ""),
                            total,
                            _severity(code, total),
                            bool(item9),
                            cms[pk % 20].pk,
                            f"{day} 10:00+00",
                        )
                    )
                    if item9 and rng.random() < 0.3:
                        alerts.append((len(alerts) + 1, pk, aid, "open", f"{day} 10:00+00", day))
                    delta = rng.randint(-4, 1) if improves else rng.randint(-2, 2)
                    score = max(0, min(top, score + delta))
                    day += timedelta(days=rng.randint(21, 45))
            month = start.replace(day=1)
            while month <= TODAY and rng.random() < 0.8:
                for _ in range(rng.randint(1, 4)):
                    day = month + timedelta(days=rng.randint(0, 27))
                    if day <= TODAY:
                        minutes.append((pk, cms[pk % 20].pk, day, rng.choice([10, 15, 20, 30]), rng.choice(ACTIVITIES)))
                month = (month + timedelta(days=32)).replace(day=1)
        self.copy(
            "outcomes_assessment",
            [
                "id",
                "patient_id",
                "instrument",
                "administered_on",
                "responses",
                "total_score",
                "severity",
                "safety_item_positive",
                "entered_by_id",
                "created_at",
            ],
            assessments,
        )
        self.copy(
            "outcomes_safetyalert", ["id", "patient_id", "assessment_id", "status", "raised_at", "source_date"], alerts
        )
        self.copy("cocm_careminutes", ["patient_id", "logged_by_id", "day", "minutes", "activity"], minutes)

        catalog = {m.name: m for m in Medication.objects.filter(name__in=set(DRUGS))}
        regimens: list[tuple] = []
        changes: list[tuple] = []
        labs: list[tuple] = []
        for pk, start in registered.items():
            if rng.random() > 0.62:
                continue
            medication = catalog[rng.choice(DRUGS)]
            began = start + timedelta(days=rng.randint(0, 60))
            if began > TODAY:
                continue
            stopped = began + timedelta(days=rng.randint(30, 300)) if rng.random() < 0.25 else None
            stopped = stopped if stopped and stopped <= TODAY else None
            rid = len(regimens) + 1
            prescriber = staff["p"][pk % 20].pk
            regimens.append(
                (
                    rid,
                    pk,
                    medication.pk,
                    50,
                    medication.unit,
                    "once_daily",
                    began,
                    "stopped" if stopped else "active",
                    stopped,
                    prescriber,
                )
            )
            changes.append((rid, None, 50, "Started", "start", began, prescriber))
            dose, day = 50, began
            for _ in range(rng.choice([0, 1, 1, 2])):
                day += timedelta(days=rng.randint(14, 60))
                if day > (stopped or TODAY):
                    break
                changes.append((rid, dose, dose + 25, "Titration", "titration_up", day, prescriber))
                dose += 25
            if medication.monitoring_protocol_id and rng.random() < 0.7:
                taken = began
                while taken <= TODAY and rng.random() < 0.85:
                    labs.append((pk, rid, "lithium_level", 0.8, "mmol/L", taken, prescriber))
                    taken += timedelta(days=rng.choice([7, 30, 90]))
        self.copy(
            "medications_regimen",
            [
                "id",
                "patient_id",
                "medication_id",
                "dose",
                "unit",
                "frequency",
                "start_date",
                "status",
                "stopped_on",
                "prescriber_id",
            ],
            regimens,
        )
        self.copy(
            "medications_dosechange",
            ["regimen_id", "previous_dose", "dose", "reason", "reason_code", "effective_on", "changed_by_id"],
            changes,
        )
        self.copy(
            "medications_labresult",
            ["patient_id", "regimen_id", "test", "value", "unit", "taken_on", "recorded_by_id"],
            labs,
        )

        modalities = {m.code: m.pk for m in Modality.objects.all()}
        courses: list[tuple] = []
        sessions: list[tuple] = []
        reviews: list[tuple] = []
        for pk, start in registered.items():
            if rng.random() < 0.12:
                requested = start + timedelta(days=rng.randint(40, 90))
                if requested <= TODAY:
                    held = requested + timedelta(days=rng.randint(2, 21))
                    done = held <= TODAY and rng.random() < 0.8
                    reviews.append(
                        (
                            pk,
                            "completed" if done else "requested",
                            "Not improving",
                            cms[pk % 20].pk,
                            f"{requested} 10:00+00",
                            f"{held} 10:00+00" if done else None,
                        )
                    )
            if rng.random() > 0.6:
                continue
            began = start + timedelta(days=rng.randint(0, 30))
            if began > TODAY:
                continue
            ended = began + timedelta(days=rng.randint(60, 200)) if rng.random() < 0.35 else None
            ended = ended if ended and ended <= TODAY else None
            cid = len(courses) + 1
            therapist = staff["t"][(pk * 3) % 20].pk
            courses.append(
                (
                    cid,
                    pk,
                    therapist,
                    modalities[rng.choice(MOD)],
                    began,
                    "completed" if ended else "active",
                    ended,
                    therapist,
                )
            )
            day = began
            while day <= (ended or TODAY):
                attendance = rng.choice(ATTENDANCE)
                sessions.append((cid, day, attendance, 50 if attendance == "attended" else 0, therapist))
                day += timedelta(days=rng.choice([7, 7, 7, 14]))
        self.copy(
            "therapy_therapycourse",
            ["id", "patient_id", "therapist_id", "modality_id", "started_on", "status", "ended_on", "created_by_id"],
            courses,
        )
        self.copy(
            "therapy_therapysession",
            ["course_id", "session_date", "attendance", "duration_minutes", "logged_by_id"],
            sessions,
        )
        self.copy(
            "careplans_casereview",
            ["patient_id", "status", "reason", "requested_by_id", "requested_at", "reviewed_at"],
            reviews,
        )
        return {"admin": admin, "care_manager": staff["c"][0]}


# --- Hand-written SQL: the same numbers, no ORM, no Python rule -------------------------------

FLAGS_SQL = """
    f.safety_alert_open AS f_safety,
    (f.phq9_baseline_on <= %(week10)s AND f.phq9_latest >= 5 AND NOT (f.phq9_baseline > 0 AND f.phq9_latest * 2 <= f.phq9_baseline))
     OR (f.gad7_baseline_on <= %(week10)s AND f.gad7_latest >= 5 AND NOT (f.gad7_baseline > 0 AND f.gad7_latest * 2 <= f.gad7_baseline))
       AS f_not_improving,
    f.monitoring_due_on < %(today)s AS f_monitoring,
    f.measurement_anchor <= %(week4)s AS f_measurement,
    f.case_review_open AS f_review"""

HAND_SQL: dict[str, str] = {
    # The care manager's first registry page from the stored facts (the floor the page stands on).
    # Module constants only are interpolated; values are parameters.
    "registry": f"""
        WITH flagged AS (
            SELECT f.*, p.public_id, p.family_name, p.given_name, p.mrn, {FLAGS_SQL}
            FROM reports_patientreportfacts f JOIN careplans_patient p ON p.id = f.patient_id
            WHERE p.status = 'active' AND p.id IN (
                  SELECT m.patient_id FROM careplans_careteammember m
                  WHERE m.user_id = %(care_manager)s AND m.ended_at IS NULL
                  UNION SELECT g.patient_id FROM careplans_breakglassgrant g
                  WHERE g.user_id = %(care_manager)s AND g.expires_at > now()))
        SELECT flagged.*, f_safety::int + coalesce(f_not_improving, false)::int + coalesce(f_monitoring, false)::int
               + coalesce(f_measurement, false)::int + f_review::int AS flag_count, COUNT(*) OVER () AS total
        FROM flagged ORDER BY flag_count DESC, family_name, given_name, patient_id LIMIT 100""",  # noqa: S608
    "registry_summary": f"""
        WITH flagged AS (
            SELECT f.*, {FLAGS_SQL},
                   CASE WHEN f.phq9_baseline > 0 THEN (f.phq9_latest - f.phq9_baseline) * 100.0 / f.phq9_baseline END AS ch,
                   CASE WHEN f.gad7_baseline > 0 THEN (f.gad7_latest - f.gad7_baseline) * 100.0 / f.gad7_baseline END AS g,
                   (%(today)s - coalesce(f.phq9_baseline_on, f.gad7_baseline_on, f.registered_on)) / 7 AS weeks
            FROM reports_patientreportfacts f JOIN careplans_patient p ON p.id = f.patient_id WHERE p.status = 'active')
        SELECT care_manager_id, MAX(care_manager_name), COUNT(*), COUNT(*) FILTER (WHERE f_safety),
               COUNT(*) FILTER (WHERE f_not_improving), COUNT(*) FILTER (WHERE f_monitoring),
               COUNT(*) FILTER (WHERE f_measurement), COUNT(*) FILTER (WHERE f_review),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY ch), COUNT(ch),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY g), COUNT(g),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY weeks), COUNT(weeks)
        FROM flagged GROUP BY GROUPING SETS ((), (care_manager_id))""",  # noqa: S608
    "treatment_outcomes": """
        WITH cohort AS (
            SELECT f.patient_id, f.phq9_baseline AS base, f.phq9_baseline_on AS b
            FROM reports_patientreportfacts f JOIN careplans_patient p ON p.id = f.patient_id
            WHERE f.phq9_baseline_on BETWEEN %(start)s AND %(end)s AND f.phq9_baseline >= 10),
        t AS (
            SELECT c.*, EXISTS (SELECT 1 FROM medications_regimen r WHERE r.patient_id = c.patient_id
                        AND r.start_date <= c.b + 112 AND (r.stopped_on IS NULL OR r.stopped_on >= c.b)
                        AND r.entered_in_error_at IS NULL) AS med,
                   EXISTS (SELECT 1 FROM therapy_therapycourse tc WHERE tc.patient_id = c.patient_id
                        AND tc.started_on <= c.b + 112 AND (tc.ended_on IS NULL OR tc.ended_on >= c.b)
                        AND tc.entered_in_error_at IS NULL) AS ther,
                   (SELECT a.total_score FROM outcomes_assessment a WHERE a.patient_id = c.patient_id
                        AND a.instrument = 'PHQ-9' AND a.entered_in_error_at IS NULL
                        AND a.administered_on BETWEEN c.b + 56 AND c.b + 112 AND a.administered_on <= %(today)s
                        ORDER BY a.administered_on DESC, a.created_at DESC, a.id DESC LIMIT 1) AS s12,
                   (SELECT a.total_score FROM outcomes_assessment a WHERE a.patient_id = c.patient_id
                        AND a.instrument = 'PHQ-9' AND a.entered_in_error_at IS NULL
                        AND a.administered_on BETWEEN c.b + 152 AND c.b + 212 AND a.administered_on <= %(today)s
                        ORDER BY a.administered_on DESC, a.created_at DESC, a.id DESC LIMIT 1) AS s6
            FROM cohort c)
        SELECT med, ther, COUNT(*), COUNT(s12), COUNT(*) FILTER (WHERE s12 * 2 <= base), COUNT(*) FILTER (WHERE s12 < 5),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s12 - base) * 100.0 / base),
               COUNT(s6), COUNT(*) FILTER (WHERE s6 * 2 <= base), COUNT(*) FILTER (WHERE s6 < 5),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY (s6 - base) * 100.0 / base)
        FROM t GROUP BY GROUPING SETS ((med, ther), ())""",
    "therapy": """
        SELECT c.therapist_id, c.modality_id, COUNT(*), COUNT(*) FILTER (WHERE s.attendance = 'attended'),
               COUNT(*) FILTER (WHERE s.attendance = 'cancelled'), COUNT(*) FILTER (WHERE s.attendance = 'late_cancel'),
               COUNT(*) FILTER (WHERE s.attendance = 'no_show')
        FROM therapy_therapysession s JOIN therapy_therapycourse c ON c.id = s.course_id
        WHERE s.session_date BETWEEN %(start)s AND %(end)s AND c.entered_in_error_at IS NULL
          AND s.entered_in_error_at IS NULL
        GROUP BY GROUPING SETS ((c.therapist_id, c.modality_id), (c.therapist_id), (c.modality_id), ())""",
    # Active regimens by class (+ all), dose changes by month (up, down, for side effects) and
    # side-effect reports by class (+ all) and severity: the page's three sections.
    "medication": """
        SELECT m.drug_class, COUNT(*), COUNT(DISTINCT r.patient_id), NULL::bigint, NULL::bigint, NULL::bigint
        FROM medications_regimen r
        JOIN medications_medication m ON m.id = r.medication_id
        WHERE r.start_date <= %(end)s AND (r.stopped_on IS NULL OR r.stopped_on > %(end)s)
          AND r.entered_in_error_at IS NULL GROUP BY GROUPING SETS ((m.drug_class), ())
        UNION ALL
        SELECT date_trunc('month', d.effective_on)::text, COUNT(*), COUNT(*) FILTER (WHERE d.dose > d.previous_dose),
               COUNT(*) FILTER (WHERE d.dose < d.previous_dose), COUNT(*) FILTER (WHERE d.reason_code = 'side_effect'),
               NULL::bigint
        FROM medications_dosechange d JOIN medications_regimen r ON r.id = d.regimen_id
        WHERE d.previous_dose IS NOT NULL AND d.entered_in_error_at IS NULL AND r.entered_in_error_at IS NULL
          AND d.effective_on BETWEEN %(start)s AND %(end)s GROUP BY 1
        UNION ALL
        SELECT m.drug_class, COUNT(*), COUNT(DISTINCT s.patient_id), COUNT(*) FILTER (WHERE s.severity = 'mild'),
               COUNT(*) FILTER (WHERE s.severity = 'moderate'), COUNT(*) FILTER (WHERE s.severity = 'severe')
        FROM medications_sideeffect s LEFT JOIN medications_regimen r ON r.id = s.regimen_id
        LEFT JOIN medications_medication m ON m.id = r.medication_id
        WHERE s.onset BETWEEN %(start)s AND %(end)s AND s.entered_in_error_at IS NULL
        GROUP BY GROUPING SETS ((m.drug_class), ())""",
    # Per care manager and month: patients with time, minutes and the units of each CMS code
    # (cocm/billing.py): the month's care manager is the one who logged most of its minutes
    # (ties: the earliest entry), an episode's first month follows six months without time.
    "cocm_summary": """
        WITH logged AS (
            SELECT patient_id, date_trunc('month', day)::date AS m, logged_by_id, SUM(minutes) AS t, MIN(id) AS f
            FROM cocm_careminutes WHERE day <= %(end)s AND entered_in_error_at IS NULL GROUP BY 1, 2, 3),
        months AS (
            SELECT DISTINCT ON (patient_id, m) patient_id, m, logged_by_id AS cm,
                   (SUM(t) OVER (PARTITION BY patient_id, m))::int AS minutes
            FROM logged ORDER BY patient_id, m, t DESC, f),
        episodes AS (
            SELECT months.*, coalesce(lag(m) OVER (PARTITION BY patient_id ORDER BY m) < m - interval '6 months', true)
                   AS first FROM months)
        SELECT cm, m, COUNT(*), SUM(minutes), COUNT(*) FILTER (WHERE first AND minutes >= 70),
               COUNT(*) FILTER (WHERE NOT first AND minutes >= 31),
               SUM(CASE WHEN first AND minutes >= 70 THEN (minutes - 70) / 30
                        WHEN NOT first AND minutes >= 31 THEN greatest(minutes - 60, 0) / 30 ELSE 0 END),
               COUNT(*) FILTER (WHERE minutes >= 16 AND minutes < CASE WHEN first THEN 70 ELSE 31 END)
        FROM episodes WHERE m >= %(start_month)s GROUP BY 1, 2""",
}
# The reports whose numbers come from a Python rule (medications.monitoring) or from several
# dependent steps a single statement does not reproduce: timed, without a hand-SQL ratio.
NO_HAND_SQL = "rule in Python / several measures"


def _median_time(fn: Callable[[], Any]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def time_reports(users: dict[str, Any], size: int) -> list[dict[str, Any]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from reports.base import Audience
    from reports.catalog import reports_all
    from reports.params import ReportParamsForm

    form = ReportParamsForm({"period": "12m"}, today=TODAY)
    assert form.is_valid(), form.errors
    values = {
        "today": TODAY,
        "start": form.cleaned_data["start"],
        "end": form.cleaned_data["end"],
        "week10": TODAY - timedelta(weeks=10),
        "week4": TODAY - timedelta(weeks=4),
        "care_manager": users["care_manager"].pk,
        "start_month": form.cleaned_data["start"].replace(day=1),
    }
    rows = []
    for report in reports_all():
        user = users["admin"] if report.audience == Audience.ADMIN else users["care_manager"]
        params = form.params(user)
        options_form = report.options_form({})
        options = options_form.cleaned_data if options_form is not None and options_form.is_valid() else {}

        def page(report: Any = report, params: Any = params, options: Any = options) -> Any:
            return report.run(params, options=options, paginate=True)

        def hand(sql: str = HAND_SQL.get(report.key, "SELECT 1")) -> Any:
            with connection.cursor() as cursor:
                cursor.execute("SET jit = off")
                cursor.execute(sql, values)
                return cursor.fetchall()

        page()  # warm: plans, caches, the first dirty refresh
        with CaptureQueriesContext(connection) as queries:
            page()
        page_s = _median_time(page)
        hand_s = _median_time(hand) if report.key in HAND_SQL else None
        rows.append(
            {
                "patients": size,
                "report": report.key,
                "audience": str(report.audience),
                "page_s": round(page_s, 3),
                "queries": len(queries),
                "hand_sql_s": None if hand_s is None else round(hand_s, 3),
                "ratio": None if not hand_s else round(page_s / hand_s, 2),
            }
        )
    return rows


def run_size(size: int, *, seed: int = 7, keep: bool = False, reuse: bool = False) -> list[dict[str, Any]]:
    from django.core.management import call_command
    from django.db import connection

    from reports.facts import facts_refresh_all

    if not reuse:
        create_database()
    try:
        connection.close()
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        if reuse:
            seeder, users = None, kept_users()
        else:
            seeder = CopySeeder(size, random.Random(seed))  # noqa: S311  (synthetic data)
            users = seeder.run()
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        seeded = time.perf_counter() - started
        started = time.perf_counter()
        facts_refresh_all(today=TODAY)
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE reports_reportfactsdirty")
            # Statistics for the derived tables, as autovacuum keeps them in production.
            for table in ("patientreportfacts", "regimenreportfacts", "contactperiodfacts"):
                cursor.execute(f"ANALYZE reports_{table}")
        rebuilt = time.perf_counter() - started
        if seeder is None:
            with connection.cursor() as cursor:
                cursor.execute("SELECT count(*) FROM careplans_patient")
                size = cursor.fetchone()[0]
            out(f"{size} patients (kept {DB_NAME}, reused); report facts rebuilt in {rebuilt:.1f} s")
        else:
            out(
                f"{size} patients: seeded by COPY in {seeded:.0f} s ("
                + ", ".join(f"{count} {name}" for name, count in seeder.counts.items())
                + f"); report facts rebuilt in {rebuilt:.1f} s"
            )
        rows = time_reports(users, size)
        for row in rows:
            row["facts_rebuild_s"] = round(rebuilt, 1)
        return rows
    finally:
        connection.close()
        if not keep and not reuse:
            drop_database()


def report_rows(
    sizes: tuple[int, ...] = (1000, 10000), *, seed: int = 7, keep: bool = False, reuse: bool = False
) -> list[dict[str, Any]]:
    """The table as rows (for the benchmark harness): one per size and report."""
    _configure()
    if reuse:
        return run_size(sizes[-1], seed=seed, reuse=True)
    rows: list[dict[str, Any]] = []
    for size in sizes:
        rows += run_size(size, seed=seed, keep=keep and size == sizes[-1])
    return rows


def print_table(rows: list[dict[str, Any]]) -> None:
    out(f"{'patients':>8} {'report':<20} {'audience':<10} {'page s':>7} {'queries':>7} {'hand s':>7} {'ratio':>6}")
    for row in rows:
        hand = "-" if row["hand_sql_s"] is None else f"{row['hand_sql_s']:.3f}"
        ratio = NO_HAND_SQL if row["ratio"] is None else f"{row['ratio']:.2f}"
        out(
            f"{row['patients']:>8} {row['report']:<20} {row['audience']:<10} {row['page_s']:>7.3f} "
            f"{row['queries']:>7} {hand:>7} {ratio:>6}"
        )


def main() -> None:
    global DB_NAME
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="Keep the last size's database afterwards.")
    parser.add_argument("--database", default=DB_NAME, help="A database name of one's own (default %(default)s).")
    parser.add_argument("--reuse", action="store_true", help="Time a kept --database again, without seeding.")
    args = parser.parse_args()
    DB_NAME = args.database
    print_table(report_rows(tuple(args.patients), seed=args.seed, keep=args.keep, reuse=args.reuse))


if __name__ == "__main__":
    main()
