from django.db import migrations, models


class Migration(migrations.Migration):
    """The follow-up's contact method is called `format`, like a therapy session's."""

    dependencies = [
        ("outcomes", "0001_initial"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="safetyfollowup", name="outcomes_safetyfollowup_contact_valid"),
        migrations.RenameField(model_name="safetyfollowup", old_name="contact", new_name="format"),
        migrations.AlterField(
            model_name="safetyfollowup",
            name="format",
            field=models.CharField(
                choices=[("in_person", "In person"), ("telehealth", "Telehealth"), ("phone", "Phone")],
                help_text="How the patient was seen.",
                max_length=12,
            ),
        ),
        migrations.AddConstraint(
            model_name="safetyfollowup",
            constraint=models.CheckConstraint(
                condition=models.Q(("format__in", ["in_person", "telehealth", "phone"])),
                name="outcomes_safetyfollowup_format_valid",
            ),
        ),
    ]
