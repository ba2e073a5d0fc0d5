"""The tables of medications the daily reminder rules read mark their patient for the incremental
rescan (reminders.scan_marks, issue 14): a trigger per table, in the transaction of the change."""

from django.db import migrations

from reminders.scan_marks import scan_mark_triggers


class Migration(migrations.Migration):
    dependencies = [("medications", "0007_bounded_text"), ("reminders", "0010_scan_runs_and_marks")]

    operations = [
        scan_mark_triggers(
            {
            "medications_regimen": "SELECT NEW.patient_id",
            "medications_dosechange": "SELECT patient_id FROM medications_regimen WHERE id = NEW.regimen_id",
            "medications_injection": "SELECT patient_id FROM medications_regimen WHERE id = NEW.regimen_id",
            "medications_labresult": "SELECT NEW.patient_id",
            "medications_monitoringexception": "SELECT NEW.patient_id",
            "medications_patientmedicationprofile": "SELECT NEW.patient_id",
            }
        )
    ]
