"""Time reminders_scan on a seeded harness database (issue 14), each rule timed: a first scan
from an empty outbox; a rescan the same day with nothing changed; a full scan against the
written outbox (full=True: the first scan of a new day, its reminders mostly written already);
the next day's scan (a real new-day full scan); with --touch N, a last rescan after N patients'
care plans were saved (the review date moved to today: a real change each).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a seeded harness database> \\
        .venv/bin/python benchmarks/scan_timings.py [--touch N]

Empties the outbox and the scan runs first (TRUNCATE): only for a benchmark database of your own.
"""

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402

from reminders import delivery, outbox  # noqa: E402
from reminders.models import Reminder, ReminderScanMark  # noqa: E402

SECONDS: dict[str, float] = {}
NAMES: dict[int, str] = {}


def timed(name: str, rule: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(rule)
    def run(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        produced = rule(*args, **kwargs)
        if isinstance(produced, outbox.DraftQuery):
            NAMES[id(produced)] = name  # its INSERT ... SELECT is timed by timed_insert below
            SECONDS[name] = time.perf_counter() - started
            return produced
        produced = list(produced)
        SECONDS[name] = time.perf_counter() - started
        return produced

    return run


def scan(label: str, today: date, **options: Any) -> dict[str, Any]:
    SECONDS.clear()
    reset_queries()
    insert_select = outbox.reminders_insert_select
    statement: dict[str, float] = {}

    def timed_insert(query: outbox.DraftQuery) -> int:
        started = time.perf_counter()
        try:
            return insert_select(query)
        finally:
            statement[NAMES.get(id(query), "?")] = time.perf_counter() - started

    delivery.reminders_insert_select = timed_insert  # type: ignore[assignment]
    before = Reminder.objects.count()
    started = time.perf_counter()
    result = delivery.reminders_scan(today=today, **options)
    seconds = time.perf_counter() - started
    marks_left = ReminderScanMark.objects.count()
    delivery.reminders_insert_select = insert_select  # type: ignore[assignment]
    return {
        "run": label,
        "seconds": round(seconds, 2),
        "rows_written": Reminder.objects.count() - before,
        "full": result.full,
        "patients": result.patients,
        "marks_left": marks_left,
        "offered": result.offered,
        "failed": result.failed,
        "rule_build_seconds": {k: round(v, 2) for k, v in sorted(SECONDS.items())},
        "insert_select_seconds": {k: round(v, 2) for k, v in sorted(statement.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--touch", type=int, default=0)
    args = parser.parse_args()
    for name, rule in outbox.reminder_rules().items():
        outbox.reminder_rule_register(name, timed(name, rule), incremental=outbox.rule_is_incremental(name))
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE careplans_reminder CASCADE")
        for table in ("reminders_reminderscanrun", "reminders_reminderscanmark", "medications_monitoringnextdue"):
            cursor.execute("SELECT to_regclass(%s)", [table])
            if cursor.fetchone()[0]:
                cursor.execute(f"TRUNCATE {table}")  # noqa: S608  (our constant names)
    today = date.today()
    runs = [scan("first", today), scan("rescan", today), scan("full scan, outbox written", today, full=True)]
    # The next day's scan: a real new-day full scan (monitoring_due's next-due dates computed today).
    runs.append(scan("new day (tomorrow)", today + timedelta(days=1)))
    if args.touch:
        from careplans.models import CarePlan

        for plan in CarePlan.objects.order_by("id")[: args.touch]:
            plan.review_date = today
            plan.save()
        runs.append(scan(f"rescan after {args.touch} changed", today))
    sys.stdout.write(json.dumps(runs, indent=1) + "\n")


if __name__ == "__main__":
    main()
