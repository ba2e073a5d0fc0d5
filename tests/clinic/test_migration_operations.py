"""AddIndexOnline builds and drops its index on the database in use (PostgreSQL: concurrently,
outside a transaction; SQLite: plainly), and refuses to run inside a transaction on PostgreSQL."""

import pytest
from django.apps import apps
from django.db import NotSupportedError, connection, models
from django.db.migrations.state import ProjectState

from clinic.migration_operations import AddIndexOnline

INDEX = "test_online_idx"


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cursor:
        return set(connection.introspection.get_constraints(cursor, table))


@pytest.mark.django_db(transaction=True)
def test_add_index_online_builds_and_drops_the_index():
    state = ProjectState.from_apps(apps)
    operation = AddIndexOnline("patient", models.Index(fields=["family_name", "mrn"], name=INDEX))
    new_state = state.clone()
    operation.state_forwards("careplans", new_state)
    table = "careplans_patient"
    with connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("careplans", editor, state, new_state)
    assert INDEX in _indexes(table)
    with connection.schema_editor(atomic=False) as editor:
        operation.database_backwards("careplans", editor, new_state, state)
    assert INDEX not in _indexes(table)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="CONCURRENTLY is PostgreSQL's")
@pytest.mark.django_db(transaction=True)
def test_add_index_online_refuses_a_transaction_on_postgresql():
    state = ProjectState.from_apps(apps)
    operation = AddIndexOnline("patient", models.Index(fields=["mrn", "family_name"], name=INDEX))
    new_state = state.clone()
    operation.state_forwards("careplans", new_state)
    with pytest.raises(NotSupportedError), connection.schema_editor(atomic=True) as editor:
        operation.database_forwards("careplans", editor, state, new_state)
    assert INDEX not in _indexes("careplans_patient")
