"""EXPLAIN ANALYZE every set-based reminder rule's INSERT ... SELECT (issue 14), rolled back.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/<a seeded harness database> \\
        .venv/bin/python benchmarks/explain_scan_rules.py [--rule NAME] [--empty-outbox]

Each statement runs inside a transaction that is rolled back, so the outbox is unchanged.
--empty-outbox deletes the outbox first (inside the same rolled-back transaction): the first
scan of a day; without it, the plan of a rescan against the rows already written.
"""

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402

from reminders.outbox import INSERT_SELECT_SETTINGS, DraftQuery, insert_select_sql, reminder_rules  # noqa: E402


class Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rule", action="append")
    parser.add_argument("--empty-outbox", action="store_true")
    parser.add_argument("--plain", action="store_true", help="time only, no EXPLAIN")
    args = parser.parse_args()
    today = date.today()
    for name, rule in sorted(reminder_rules().items()):
        if args.rule and name not in args.rule:
            continue
        produced = rule(today)
        if not isinstance(produced, DraftQuery):
            continue
        sql, params = insert_select_sql(produced)
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                for setting in INSERT_SELECT_SETTINGS:
                    cursor.execute(setting)
                if args.empty_outbox:
                    cursor.execute("DELETE FROM careplans_reminder")
                started = time.perf_counter()
                if args.plain:
                    cursor.execute(sql, params)
                    plan = f"rows {cursor.rowcount}"
                else:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                elapsed = time.perf_counter() - started
                sys.stdout.write(f"===== {name}: {elapsed:.2f} s\n{plan}\n\n")
                raise Rollback
        except Rollback:
            pass


if __name__ == "__main__":
    main()
