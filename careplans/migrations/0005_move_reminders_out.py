"""Reminder and TeamMessage moved to the reminders app (issue 10): state only.

The tables careplans_reminder and careplans_teammessage keep their names and rows;
reminders/migrations/0001_initial.py takes them over in Django's state.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('careplans', '0004_reminder_claim_token_teammessage'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is, with its data: only Django's state moves.
            database_operations=[],
            state_operations=[
                migrations.RemoveField(
                    model_name='teammessage',
                    name='author',
                ),
                migrations.RemoveField(
                    model_name='teammessage',
                    name='entered_in_error_by',
                ),
                migrations.RemoveField(
                    model_name='teammessage',
                    name='patient',
                ),
                migrations.RemoveField(
                    model_name='teammessage',
                    name='recipient',
                ),
                migrations.RemoveField(
                    model_name='teammessage',
                    name='thread',
                ),
                migrations.DeleteModel(
                    name='Reminder',
                ),
                migrations.DeleteModel(
                    name='TeamMessage',
                ),
            ],
        ),
    ]
