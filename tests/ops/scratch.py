"""A throwaway database behind the `default` alias, for tests that migrate or restore a whole
database: a SQLite file in a temporary directory, or on PostgreSQL a database of its own
(created empty, dropped after). The test database of the rest of the suite is left alone."""

import copy
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper


@contextmanager
def scratch_database(name: str) -> Iterator[BaseDatabaseWrapper]:
    original = connections["default"]
    settings_dict = copy.deepcopy(original.settings_dict)
    tmpdir = None
    if original.vendor == "sqlite":
        tmpdir = tempfile.mkdtemp(prefix="tandem-scratch-")
        settings_dict["NAME"] = os.path.join(tmpdir, f"{name}.sqlite3")
    elif original.vendor == "postgresql":
        name = f"{name}_{os.getpid()}"  # two runs on one server never meet
        settings_dict["NAME"] = name
        with original._nodb_cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    else:  # pragma: no cover
        raise NotImplementedError(original.vendor)
    scratch = original.__class__(settings_dict, "default")
    ContentType.objects.clear_cache()  # ids cached per alias would point into the other database
    connections["default"] = scratch
    try:
        yield scratch
    finally:
        scratch.close()
        connections["default"] = original
        ContentType.objects.clear_cache()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)
        else:
            with original._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
