"""Runs inside the served checkout (`--app-dir`), against one harness database:

    python -m harness.probe --db NAME sessions   # sign-in sessions + the ids the URLs need
    python -m harness.probe --db NAME scan       # the reminder scan: first scan, then a rescan

Prints one JSON object. Run by harness.run in a subprocess, so the scan measured is the
served checkout's code (main for "before" numbers, the branch for "after").
"""

import argparse
import json
import os
import time
from datetime import date, timedelta
from typing import Any


def sessions() -> dict[str, Any]:
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db.models import Count
    from django.utils import timezone

    from careplans.models import CareTeamMember, Patient
    from clinic.models import User

    # The chart patient: active, a history near the upper median, a regimen and a therapy course;
    # the benchmark clinicians are its team (so every per-patient page is theirs to see).
    patient = (
        Patient.objects.filter(status="active", regimens__isnull=False, therapy_courses__isnull=False)
        .annotate(n=Count("assessments", distinct=True))
        .filter(n__gte=14)
        .order_by("pk")
        .first()
    )
    assert patient is not None, "no suitable chart patient"
    team = {m.role: m.user for m in CareTeamMember.objects.filter(patient=patient).select_related("user")}
    users = {
        "admin": User.objects.get(username="bench-admin"),
        "care_manager": team["care_manager"],
        "prescriber": team["prescriber"],
        "therapist": team["therapist"],
    }
    cookies = {}
    for role, user in users.items():
        store = SessionStore()
        store[SESSION_KEY] = str(user.pk)
        store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store["tandem_session_started"] = timezone.now().isoformat()
        store.set_expiry(12 * 3600)  # the run may outlast the idle limit; every request renews it anyway
        store.create()
        cookies[role] = store.session_key
    on_team = {m.user_id for m in CareTeamMember.objects.filter(patient=patient)}
    return {
        "cookie_name": settings.SESSION_COOKIE_NAME,
        "cookies": cookies,
        "user_ids": {role: u.pk for role, u in users.items()},
        "patient": {
            "pk": patient.pk,
            "public_id": str(patient.public_id),
            "team": sorted(on_team),
            "mrn": patient.mrn,  # what the MRN and birth-date searches type
            "birth_date": patient.birth_date.isoformat(),
        },
        "patients": Patient.objects.count(),
    }


def _kinds() -> dict[str, int]:
    from django.db.models import Count

    from reminders.models import Reminder

    return dict(Reminder.objects.values_list("kind").annotate(n=Count("id")).values_list("kind", "n"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("what", choices=["sessions", "scan"])
    args = parser.parse_args()
    from harness import databases

    databases.require_ours(args.db)
    os.environ["DATABASE_URL"] = databases.database_url(args.db)
    import django

    django.setup()
    out = sessions() if args.what == "sessions" else scan_with_kinds()
    print(json.dumps(out))


def scan_with_kinds() -> dict[str, Any]:
    from django.db import connection

    from reminders import delivery
    from reminders.models import Reminder

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE careplans_reminder CASCADE")  # its own database: an empty outbox
        # and no scan of today on record, so the first scan is a full one (checkouts with the
        # incremental rescan, issue 14; older ones have no such table).
        # The maintained next-due dates too (medications.monitoring_next_due): left from an
        # earlier probe they say yesterday's monitoring reminders were written, and the first
        # scan evaluated 1.6k regimens instead of all of them (1,631 rows instead of 40,253).
        for table in ("reminders_reminderscanrun", "reminders_reminderscanmark", "medications_monitoringnextdue"):
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0]:
                cursor.execute(f"TRUNCATE {table}")  # noqa: S608  (our constant names)
    today = date.today()
    runs = []
    # first: day D from an empty outbox; rescan: D again, nothing changed; new_day: D+1 (the
    # daily beat's steady state: yesterday's reminders written, today's date one day later).
    for label, day in (("first", today), ("rescan", today), ("new_day", today + timedelta(days=1))):
        started = time.perf_counter()
        result = delivery.reminders_scan(today=day)
        runs.append(
            {
                "run": label,
                "seconds": round(time.perf_counter() - started, 3),
                "offered": sum(result.offered.values()),
                "failed": result.failed,
                "rows": Reminder.objects.count(),
            }
        )
    per_rule = _per_rule(today) if os.environ.get("BENCH_PER_RULE", "1") == "1" else {}
    from django.conf import settings

    # Older checkouts scan on one connection (no REMINDER_SCAN_WORKERS).
    workers = int(getattr(settings, "REMINDER_SCAN_WORKERS", 1))
    return {"runs": runs, "workers": workers, "by_kind": _kinds(), "rule_seconds_from_empty": per_rule}


def _per_rule(today: date) -> dict[str, float]:
    """Each rule alone from an empty outbox (rolled back): where the first scan's time goes."""
    from django.db import transaction

    from reminders import outbox
    from reminders.outbox import reminder_rules, reminders_write

    draft_query = getattr(outbox, "DraftQuery", None)  # absent in checkouts before the set-based scan

    seconds = {}
    for name, rule in sorted(reminder_rules().items()):
        with transaction.atomic():
            sid = transaction.savepoint()
            from django.db import connection

            with connection.cursor() as cursor:
                cursor.execute("DELETE FROM careplans_reminder")
            started = time.perf_counter()
            produced = rule(today)
            if draft_query is not None and isinstance(produced, draft_query):
                outbox.reminders_insert_select(produced)
            else:
                reminders_write(produced)  # type: ignore[arg-type]  # drafts: not a DraftQuery here
            seconds[name] = round(time.perf_counter() - started, 3)
            transaction.savepoint_rollback(sid)
    return seconds


if __name__ == "__main__":
    main()
