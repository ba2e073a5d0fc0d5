"""Every rule has its stable code now (0003_mechanism_interactions_data): make it unique.
A separate migration so that PostgreSQL never alters a table with pending row updates."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("medications", "0003_mechanism_interactions_data")]

    operations = [
        migrations.AlterField(
            model_name="interactionrule",
            name="code",
            field=models.SlugField(help_text="Stable: acknowledgements record it.", max_length=60, unique=True),
        ),
    ]
