"""Reading clinic-wide reports from a PostgreSQL read replica (issue 14 item 3).

With `DATABASE_REPLICA_URL` set, settings add a "replica" database alias (in tests a TEST
MIRROR of "default", so it is the same database). The reports code chooses the alias, the
router never guesses from a model:

- `reading_replica()` wraps an ADMIN report's computation (reports.base.Report.run): while it
  runs, ORM reads of this thread go to the replica (`ReplicaRouter.db_for_read`) and the raw
  report SQL uses `report_connection()`.
- Writes never go there: `db_for_write` is always "default", migrations never run on it.
- Care-team (patient-level) reports stay on the primary: they are small (one caseload), and
  their scope is care-team membership, which must take effect on the next request (SECURITY.md
  AC-6) and not one replication lag later.
- Inside a transaction on the primary (a test's, or a caller's own) reports read the primary,
  so they see what that transaction wrote.

Without a replica every function here answers "default".
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.base.base import BaseDatabaseWrapper

REPLICA = "replica"

_reading: ContextVar[str | None] = ContextVar("reports_reading_alias", default=None)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def report_alias() -> str:
    """The alias report SQL reads from right now."""
    return _reading.get() or DEFAULT_DB_ALIAS


def report_connection() -> BaseDatabaseWrapper:
    return connections[report_alias()]


@contextmanager
def reading_replica() -> Iterator[str]:
    """Route this thread's report reads to the replica when one is configured and the primary
    is not inside a transaction; yields the alias chosen."""
    alias = REPLICA if replica_configured() and not connections[DEFAULT_DB_ALIAS].in_atomic_block else DEFAULT_DB_ALIAS
    token = _reading.set(alias)
    try:
        yield alias
    finally:
        _reading.reset(token)


@contextmanager
def reading_primary() -> Iterator[None]:
    """Reads of the primary inside a replica block: what is read to be written back (the
    report facts refresh) must be the primary's current data."""
    token = _reading.set(None)
    try:
        yield
    finally:
        _reading.reset(token)


class ReplicaRouter:
    """settings.DATABASE_ROUTERS (only when a replica is configured)."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        return _reading.get()  # None: Django's default alias

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data: a replica row and a primary row may be related

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db != REPLICA
