"""The database as a thief with a copy of it would see it (SECURITY.md PN-3).

`same_connection_dump`: every row of every table through raw SQL on the test's own connection
(SQLite: `iterdump()`, the SQL text of the whole database), so rows of a test still inside its
transaction are included. `pg_dump_text`: a real `pg_dump` of committed data (PostgreSQL only).
"""

import subprocess  # noqa: S404 (pg_dump, fixed argument list)

from django.db import connection

from clinic.backups import _pg_env


def same_connection_dump() -> str:
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        return "\n".join(connection.connection.iterdump())
    parts = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            parts += [repr(row) for row in cursor.fetchall()]
    return "\n".join(parts)


def pg_dump_text() -> str:
    result = subprocess.run(  # noqa: S603
        ["pg_dump", "--data-only", "--format=plain"],  # noqa: S607
        env=_pg_env(connection),
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout
