"""The tables of outcomes the daily reminder rules read mark their patient for the incremental
rescan (reminders.scan_marks, issue 14): a trigger per table, in the transaction of the change."""

from django.db import migrations

from reminders.scan_marks import scan_mark_triggers


class Migration(migrations.Migration):
    dependencies = [("outcomes", "0006_scan_indexes"), ("reminders", "0010_scan_runs_and_marks")]

    operations = [
        scan_mark_triggers(
            {
            "outcomes_assessment": "SELECT NEW.patient_id",
            }
        )
    ]
