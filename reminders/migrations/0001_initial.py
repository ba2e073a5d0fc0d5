"""Reminder and TeamMessage, taken over from careplans (issue 10): state only.

The tables were created by careplans 0003/0004 and keep their names (db_table) and
constraint and index names; after careplans 0005 dropped the models from its state, this
adds them to the reminders app's state. Nothing runs against the database.
"""

import django.db.models.deletion
import django.db.models.manager
import django.utils.timezone
import uuid
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('careplans', '0005_move_reminders_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # The table stays where it is, with its data: only Django's state moves.
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='Reminder',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('kind', models.CharField(choices=[('safety_alert', 'Safety alert'), ('monitoring_due', 'Monitoring due'), ('measurement_due', 'Measurement due'), ('session_follow_up', 'Session follow-up'), ('care_plan_review', 'Care plan review'), ('not_improving', 'Not improving'), ('case_review', 'Case review'), ('team_message', 'Team message')], max_length=24)),
                        ('subject_type', models.CharField(max_length=60)),
                        ('subject_id', models.CharField(max_length=64)),
                        ('due_date', models.DateField()),
                        ('detail', models.CharField(blank=True, max_length=300)),
                        ('status', models.CharField(choices=[('pending', 'Pending'), ('sending', 'Sending'), ('sent', 'Sent'), ('acknowledged', 'Acknowledged'), ('snoozed', 'Snoozed'), ('done', 'Done'), ('failed', 'Failed')], default='pending', max_length=14)),
                        ('urgent', models.BooleanField(default=False)),
                        ('attempts', models.PositiveSmallIntegerField(default=0)),
                        ('claimed_at', models.DateTimeField(blank=True, null=True)),
                        ('claim_token', models.UUIDField(blank=True, editable=False, null=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('acknowledged_at', models.DateTimeField(blank=True, null=True)),
                        ('snoozed_until', models.DateField(blank=True, null=True)),
                        ('done_at', models.DateTimeField(blank=True, null=True)),
                        ('patient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='reminders', to='careplans.patient')),
                        ('recipient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reminders', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'careplans_reminder',
                        'ordering': ['-urgent', 'due_date', 'id'],
                        'indexes': [models.Index(fields=['recipient', 'status'], name='careplans_r_recipie_d91b54_idx'), models.Index(fields=['status', 'claimed_at'], name='careplans_r_status_52986e_idx')],
                        'constraints': [models.UniqueConstraint(fields=('kind', 'subject_type', 'subject_id', 'due_date', 'recipient'), name='careplans_reminder_once_per_subject_due_recipient'), models.CheckConstraint(condition=models.Q(('kind__in', ['safety_alert', 'monitoring_due', 'measurement_due', 'session_follow_up', 'care_plan_review', 'not_improving', 'case_review', 'team_message'])), name='careplans_reminder_kind_valid'), models.CheckConstraint(condition=models.Q(('status__in', ['pending', 'sending', 'sent', 'acknowledged', 'snoozed', 'done', 'failed'])), name='careplans_reminder_status_valid'), models.CheckConstraint(condition=models.Q(models.Q(('status', 'snoozed'), _negated=True), ('snoozed_until__isnull', False), _connector='OR'), name='careplans_reminder_snooze_has_date')],
                    },
                ),
                migrations.CreateModel(
                    name='TeamMessage',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('public_id', models.UUIDField(default=uuid.uuid4, editable=False, unique=True)),
                        ('entered_in_error_at', models.DateTimeField(blank=True, editable=False, null=True)),
                        ('entered_in_error_reason', models.CharField(blank=True, editable=False, max_length=500)),
                        ('body', models.CharField(max_length=1000)),
                        ('author', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('entered_in_error_by', models.ForeignKey(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('patient', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='team_messages', to='careplans.patient')),
                        ('recipient', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('thread', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='replies', to='reminders.teammessage')),
                    ],
                    options={
                        'db_table': 'careplans_teammessage',
                        'ordering': ['created_at', 'id'],
                        'base_manager_name': 'all_records',
                        'indexes': [models.Index(fields=['patient', 'created_at'], name='careplans_t_patient_3efacf_idx')],
                        'constraints': [models.CheckConstraint(condition=models.Q(('body', ''), _negated=True), name='careplans_teammessage_body_required'), models.CheckConstraint(condition=models.Q(('recipient__isnull', True), models.Q(('recipient', models.F('author')), _negated=True), _connector='OR'), name='careplans_teammessage_not_to_self')],
                    },
                    managers=[
                        ('objects', django.db.models.manager.Manager()),
                        ('all_records', django.db.models.manager.Manager()),
                    ],
                ),
            ],
        ),
    ]
