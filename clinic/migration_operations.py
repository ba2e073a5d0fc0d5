"""Migration operations shared by the apps.

`AddIndexOnline`: on PostgreSQL, CREATE INDEX CONCURRENTLY, so that adding an index to a
table of a health system's size (millions of assessments) does not lock writes while it
builds; elsewhere (SQLite for `make run`) a plain CREATE INDEX. The migration using it must
say `atomic = False` (PostgreSQL refuses CONCURRENTLY inside a transaction). Django's own
AddIndexConcurrently is PostgreSQL-only: on SQLite its schema editor has no `concurrently`.
`RemoveIndexOnline`: the same for DROP INDEX CONCURRENTLY (a plain DROP INDEX waits for, and
then blocks, every query on the table).
"""

from typing import Any, ClassVar

from django.contrib.postgres.operations import AddIndexConcurrently, RemoveIndexConcurrently
from django.db.migrations.operations import AddIndex, RemoveIndex
from django.db.migrations.operations.base import Operation


class _ConcurrentlyOnPostgreSQL:
    """The PostgreSQL operation (the next class in the MRO) there; `plain` elsewhere."""

    plain: ClassVar[type[Operation]]

    def database_forwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_forwards(self, app_label, schema_editor, from_state, to_state)  # type: ignore[arg-type]

    def database_backwards(self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any) -> None:
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]
        else:
            self.plain.database_backwards(self, app_label, schema_editor, from_state, to_state)  # type: ignore[arg-type]


class AddIndexOnline(_ConcurrentlyOnPostgreSQL, AddIndexConcurrently):
    plain = AddIndex


class RemoveIndexOnline(_ConcurrentlyOnPostgreSQL, RemoveIndexConcurrently):
    plain = RemoveIndex
