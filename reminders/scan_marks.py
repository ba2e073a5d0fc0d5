"""Which patients changed since the last scan (issue 14): the incremental rescan's input.

A database trigger on each table a daily rule reads inserts a ReminderScanMark (the row's
patient) on INSERT and UPDATE, in the transaction of the change. Triggers, not post_save
handlers: they add no query to any clinical write (every write's query count is pinned in
the tests), and they also see QuerySet.update() and bulk_create, which send no signal.

Layering (DESIGN.md: medications, therapy, outcomes -> reminders -> careplans): each app's
own migration installs the triggers on its own tables with `scan_mark_triggers` below, so
reminders never names a table of an app above it; reminders installs those of careplans.
The rules read nothing else per patient that changes within a day; what a day changes
(today's date, ages) and catalog edits are the next day's full scan's.

The scan takes the marks committed when it starts (`marks_take`), and deletes exactly those
once every rule ran (`marks_consume`): a change committed during the scan keeps its mark
for the next rescan, whatever id its mark got.
"""

from collections.abc import Callable, Sequence
from typing import Any

from django.db import migrations

from reminders.models import ReminderScanMark

MARKS_TABLE = "reminders_reminderscanmark"
CONSUME_BATCH = 10_000


def _trigger_sql(vendor: str, table: str, patient_sql: str) -> tuple[list[str], list[str]]:
    """(create, drop) statements: after each inserted or updated row of `table`, mark the patient
    `patient_sql` names (a SELECT over NEW's columns, e.g. "SELECT NEW.patient_id")."""
    name = f"reminders_mark_{table}"
    insert = f"INSERT INTO {MARKS_TABLE} (patient_id) {patient_sql}"  # noqa: S608  (our constants)
    if vendor == "postgresql":
        return (
            [
                f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ "
                f"BEGIN {insert}; RETURN NULL; END $$",
                f"CREATE TRIGGER {name} AFTER INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
            ],
            [f"DROP TRIGGER IF EXISTS {name} ON {table}", f"DROP FUNCTION IF EXISTS {name}()"],
        )
    if vendor == "sqlite":
        return (
            [
                f"CREATE TRIGGER {name}_{event.lower()} AFTER {event} ON {table} FOR EACH ROW BEGIN {insert}; END"
                for event in ("INSERT", "UPDATE")
            ],
            [f"DROP TRIGGER IF EXISTS {name}_{event.lower()}" for event in ("INSERT", "UPDATE")],
        )
    return [], []  # another database: no marks; every scan there is a full one (see reminders_scan)


def scan_mark_triggers(tables: dict[str, str]) -> migrations.RunPython:
    """A migration operation installing the mark triggers: {table: patient SELECT over NEW}."""

    def run(create: bool) -> Callable[[Any, Any], None]:
        def operation(apps: Any, schema_editor: Any) -> None:
            for table, patient_sql in tables.items():
                statements = _trigger_sql(schema_editor.connection.vendor, table, patient_sql)[0 if create else 1]
                for statement in statements:
                    schema_editor.execute(statement, params=None)  # no placeholders

        return operation

    return migrations.RunPython(run(True), run(False))


def marks_supported(vendor: str) -> bool:
    return vendor in ("postgresql", "sqlite")


def marks_take() -> list[tuple[int, int]]:
    """(mark id, patient id) of every mark committed now."""
    return list(ReminderScanMark.objects.order_by("id").values_list("id", "patient_id"))


def marks_consume(mark_ids: Sequence[int]) -> int:
    """Delete exactly these marks (not every id up to the highest: a transaction still open
    when they were read may commit a lower id later)."""
    deleted = 0
    for start in range(0, len(mark_ids), CONSUME_BATCH):
        deleted += ReminderScanMark.objects.filter(id__in=mark_ids[start : start + CONSUME_BATCH]).delete()[0]
    return deleted
