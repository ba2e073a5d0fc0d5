from django.db import migrations, models

from clinic.migration_operations import AddIndexOnline, RemoveIndexOnline


class Migration(migrations.Migration):
    # CREATE / DROP INDEX CONCURRENTLY (clinic.migration_operations): the outbox stays writable.
    # The new index first, so the sweeper never runs without one.
    atomic = False

    dependencies = [
        ("reminders", "0012_drop_redundant_recipient_indexes"),
    ]

    operations = [
        AddIndexOnline(
            model_name="reminder",
            index=models.Index(
                condition=models.Q(("status", "sending")), fields=["claimed_at"], name="reminders_sending_idx"
            ),
        ),
        RemoveIndexOnline(
            model_name="reminder",
            name="careplans_r_status_52986e_idx",
        ),
    ]
