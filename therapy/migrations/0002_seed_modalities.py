"""Seed the psychotherapy modality catalog (issue 5). Codes are the API's (DESIGN.md:
`CBT`, `DBT`, `IPT`, `family`, ...). The clinic admin may edit names and add modalities."""

from django.db import migrations

MODALITIES = [
    # code, name, description, default minutes, involves others
    ("CBT", "Cognitive behavioural therapy", "Structured work on thoughts, behaviours and mood.", 50, False),
    ("DBT", "Dialectical behaviour therapy", "Skills for emotion regulation, distress tolerance and "
     "interpersonal effectiveness.", 60, False),
    ("psychodynamic", "Psychodynamic therapy", "Exploration of patterns, relationships and unconscious "
     "conflict.", 50, False),
    ("IPT", "Interpersonal psychotherapy", "Time-limited work on grief, role disputes, role transitions "
     "and interpersonal deficits.", 50, False),
    ("ACT", "Acceptance and commitment therapy", "Acceptance, defusion and values-based action.", 50, False),
    ("family", "Family therapy", "Sessions with family members.", 60, True),
    ("couples", "Couples therapy", "Sessions with the patient's partner.", 60, True),
    ("group", "Group therapy", "A therapist-led group.", 90, True),
    ("EMDR", "Eye movement desensitisation and reprocessing", "Trauma-focused reprocessing.", 60, False),
    ("MI", "Motivational interviewing", "Collaborative conversation to strengthen motivation for change.",
     45, False),
]


def seed(apps, schema_editor):
    Modality = apps.get_model("therapy", "Modality")
    for code, name, description, minutes, involves_others in MODALITIES:
        Modality.objects.get_or_create(
            code=code,
            defaults={"name": name, "description": description, "default_duration_minutes": minutes,
                      "involves_others": involves_others},
        )


def unseed(apps, schema_editor):
    Modality = apps.get_model("therapy", "Modality")
    Modality.objects.filter(code__in=[row[0] for row in MODALITIES], courses__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("therapy", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
