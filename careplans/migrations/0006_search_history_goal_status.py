"""Patient search column + trigram index, care-plan version history, goal status history (issue 16, 14).

`search_name` is filled here for existing patients, and each existing plan's current text becomes
its first kept version, so the history starts from what the plan says today. On PostgreSQL the
pg_trgm extension backs a GIN index on `search_name` (`LIKE '%term%'`) and an index on UPPER(mrn)
serves MRN prefix search; SQLite has neither and scans.
"""

import unicodedata

import django.db.models.deletion
import django.utils.timezone

from django.conf import settings
from django.db import migrations, models


def _normalised(text):
    # A frozen copy of careplans.search.normalised: migrations never import app code that may change.
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def search_names_fill(apps, schema_editor):
    Patient = apps.get_model("careplans", "Patient")
    batch = []
    for patient in Patient.objects.only("pk", "given_name", "family_name", "preferred_name").iterator(chunk_size=2000):
        patient.search_name = _normalised(
            " ".join(p for p in (patient.family_name, patient.given_name, patient.preferred_name) if p)
        )
        batch.append(patient)
        if len(batch) >= 2000:
            Patient.objects.bulk_update(batch, ["search_name"])
            batch = []
    Patient.objects.bulk_update(batch, ["search_name"])


RELAPSE = ("warning_signs", "triggers", "coping_strategies", "people_to_contact", "crisis_steps")


def current_versions_keep(apps, schema_editor):
    CarePlan = apps.get_model("careplans", "CarePlan")
    RelapsePreventionPlan = apps.get_model("careplans", "RelapsePreventionPlan")
    CarePlanVersion = apps.get_model("careplans", "CarePlanVersion")
    relapse_by_plan = {r.care_plan_id: r for r in RelapsePreventionPlan.objects.all()}
    rows = []
    for plan in CarePlan.objects.all().iterator(chunk_size=2000):
        relapse = relapse_by_plan.get(plan.pk)
        rows.append(
            CarePlanVersion(
                care_plan_id=plan.pk,
                version=plan.version,
                saved_by_id=plan.updated_by_id,
                saved_at=plan.updated_at,
                status=plan.status,
                summary=plan.summary,
                diagnoses=plan.diagnoses,
                review_date=plan.review_date,
                **{name: getattr(relapse, name) if relapse else "" for name in RELAPSE},
            )
        )
    CarePlanVersion.objects.bulk_create(rows, batch_size=2000)


def postgres_only(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(sql)

    return run


TRIGRAM_INDEX = (
    "CREATE INDEX IF NOT EXISTS careplans_patient_search_trgm ON careplans_patient "
    "USING gin (search_name gin_trgm_ops)"
)
MRN_PREFIX_INDEX = (
    "CREATE INDEX IF NOT EXISTS careplans_patient_mrn_upper ON careplans_patient (UPPER(mrn::text) text_pattern_ops)"
)


class Migration(migrations.Migration):

    dependencies = [
        ('careplans', '0005_move_reminders_out'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='CarePlanVersion',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('version', models.PositiveIntegerField()),
                ('saved_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('status', models.CharField(choices=[('draft', 'Draft'), ('active', 'Active'), ('on_hold', 'On hold'), ('completed', 'Completed')], max_length=12)),
                ('summary', models.TextField(blank=True)),
                ('diagnoses', models.JSONField(blank=True, default=list)),
                ('review_date', models.DateField(blank=True, null=True)),
                ('warning_signs', models.TextField(blank=True)),
                ('triggers', models.TextField(blank=True)),
                ('coping_strategies', models.TextField(blank=True)),
                ('people_to_contact', models.TextField(blank=True)),
                ('crisis_steps', models.TextField(blank=True)),
                ('restored_from', models.PositiveIntegerField(blank=True, help_text='The version whose text this restored.', null=True)),
            ],
            options={
                'ordering': ['-version'],
            },
        ),
        migrations.CreateModel(
            name='GoalStatusChange',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('from_status', models.CharField(blank=True, choices=[('proposed', 'Proposed'), ('active', 'Active'), ('achieved', 'Achieved'), ('revised', 'Revised'), ('discontinued', 'Discontinued')], max_length=14)),
                ('to_status', models.CharField(choices=[('proposed', 'Proposed'), ('active', 'Active'), ('achieved', 'Achieved'), ('revised', 'Revised'), ('discontinued', 'Discontinued')], max_length=14)),
                ('changed_at', models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                'ordering': ['changed_at', 'id'],
            },
        ),
        migrations.AddField(
            model_name='patient',
            name='search_name',
            field=models.CharField(blank=True, editable=False, max_length=310),
        ),
        migrations.AddIndex(
            model_name='careteammember',
            index=models.Index(condition=models.Q(('ended_at__isnull', True)), fields=['user', 'patient'], name='careplans_member_active_user'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(fields=['family_name', 'given_name', 'id'], name='careplans_patient_name_idx'),
        ),
        migrations.AddField(
            model_name='careplanversion',
            name='care_plan',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='versions', to='careplans.careplan'),
        ),
        migrations.AddField(
            model_name='careplanversion',
            name='saved_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='goalstatuschange',
            name='changed_by',
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AddField(
            model_name='goalstatuschange',
            name='goal',
            field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='status_history', to='careplans.goal'),
        ),
        migrations.AddConstraint(
            model_name='careplanversion',
            constraint=models.UniqueConstraint(fields=('care_plan', 'version'), name='careplans_careplanversion_one_per_version'),
        ),
        migrations.AddIndex(
            model_name='patient',
            index=models.Index(fields=['birth_date'], name='careplans_patient_born_idx'),
        ),
        migrations.RunPython(search_names_fill, migrations.RunPython.noop),
        migrations.RunPython(current_versions_keep, migrations.RunPython.noop),
        migrations.RunPython(postgres_only("CREATE EXTENSION IF NOT EXISTS pg_trgm"), migrations.RunPython.noop),
        migrations.RunPython(
            postgres_only(TRIGRAM_INDEX), postgres_only("DROP INDEX IF EXISTS careplans_patient_search_trgm")
        ),
        migrations.RunPython(
            postgres_only(MRN_PREFIX_INDEX), postgres_only("DROP INDEX IF EXISTS careplans_patient_mrn_upper")
        ),
    ]
