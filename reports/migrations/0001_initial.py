"""ReportRun, taken over from clinic (issue 10): state only.

The table was created by clinic 0002 and keeps its name (db_table) and constraint and
index names; after clinic 0003 dropped the model from its state, this adds it to the
reports app's state. Nothing runs against the database.
"""

import django.db.models.deletion
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('clinic', '0003_move_reportrun_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is, with its data: only Django's state moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ReportRun',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('report', models.CharField(max_length=40)),
                        ('parameters', models.JSONField(blank=True, default=dict)),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('done', 'Done'), ('failed', 'Failed')], default='queued', max_length=10)),
                        ('progress', models.PositiveSmallIntegerField(default=0)),
                        ('row_count', models.PositiveIntegerField(blank=True, null=True)),
                        ('result_csv', models.TextField(blank=True)),
                        ('error_id', models.CharField(blank=True, help_text='Points at the log line; never a message.', max_length=32)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('requested_by', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'clinic_reportrun',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(fields=['requested_by', 'created_at'], name='clinic_repo_request_80a6d0_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('status__in', ['queued', 'running', 'done', 'failed'])), name='clinic_reportrun_status_valid'), models.CheckConstraint(condition=models.Q(('progress__lte', 100)), name='clinic_reportrun_progress_in_range'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'done'), _negated=True), models.Q(('finished_at__isnull', False), ('progress', 100)), _connector='OR'), name='clinic_reportrun_done_is_complete')],
                    },
                ),
            ],
        ),
    ]
