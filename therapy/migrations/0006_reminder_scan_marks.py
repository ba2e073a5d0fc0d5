"""The tables of therapy the daily reminder rules read mark their patient for the incremental
rescan (reminders.scan_marks, issue 14): a trigger per table, in the transaction of the change."""

from django.db import migrations

from reminders.scan_marks import scan_mark_triggers


class Migration(migrations.Migration):
    dependencies = [("therapy", "0005_scan_indexes"), ("reminders", "0010_scan_runs_and_marks")]

    operations = [
        scan_mark_triggers(
            {
            "therapy_therapycourse": "SELECT NEW.patient_id",
            "therapy_therapysession": "SELECT patient_id FROM therapy_therapycourse WHERE id = NEW.course_id",
            }
        )
    ]
