"""ReportRun moved to the reports app (issue 10): state only.

The table clinic_reportrun keeps its name and rows; reports/migrations/0001_initial.py
takes it over in Django's state.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('clinic', '0002_report_run'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is, with its data: only Django's state moves.
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(
                    name='ReportRun',
                ),
            ],
        ),
    ]
