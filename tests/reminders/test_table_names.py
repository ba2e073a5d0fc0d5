"""Reminder, TeamMessage and ReportRun moved apps (issue 10) but kept their tables, so the
rows written before the move are still there (SeparateDatabaseAndState, no SQL)."""

from reminders.models import Reminder, TeamMessage
from reports.models import ReportRun


def test_moved_models_keep_the_tables_and_constraint_names_of_their_first_home():
    assert Reminder._meta.db_table == "careplans_reminder"
    assert TeamMessage._meta.db_table == "careplans_teammessage"
    assert ReportRun._meta.db_table == "clinic_reportrun"
    names = {c.name for model in (Reminder, TeamMessage) for c in model._meta.constraints}
    assert "careplans_reminder_once_per_subject_due_recipient" in names
    assert all(name.startswith("careplans_") for name in names)
    assert all(c.name.startswith("clinic_reportrun_") for c in ReportRun._meta.constraints)
