"""Backups and restores of the whole database (issue 15 item 4, SECURITY.md BK-1).

PostgreSQL: `pg_dump --format=custom` / `pg_restore`, connected with the same settings Django
uses (password through the environment, never on the command line). SQLite: the sqlite3 online
backup API, safe while the application runs. A backup is written beside its final name and
renamed when complete, readable by its owner only (it holds every patient's record: keep
BACKUP_DIR on an encrypted volume, SECURITY.md DP-5).
"""

import os
import re
import sqlite3
import subprocess  # noqa: S404 (pg_dump / pg_restore, fixed argument lists)
from datetime import UTC, datetime, timedelta
from pathlib import Path

from django.db.backends.base.base import BaseDatabaseWrapper

PREFIX = "tandem-"
STAMP = "%Y%m%dT%H%M%SZ"
SUFFIXES = {"postgresql": ".dump", "sqlite": ".sqlite3"}
NAME_RE = re.compile(rf"^{PREFIX}(\d{{8}}T\d{{6}}Z)(\.dump|\.sqlite3)$")


class BackupError(Exception):
    pass


def _pg_env(connection: BaseDatabaseWrapper) -> dict[str, str]:
    """libpq's environment for the database Django is connected to."""
    settings = connection.settings_dict
    env = dict(os.environ)
    for key, var in (("NAME", "PGDATABASE"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD"),
                     ("HOST", "PGHOST"), ("PORT", "PGPORT")):  # fmt: skip
        if settings.get(key):
            env[var] = str(settings[key])
    options = settings.get("OPTIONS") or {}
    for key, var in (("sslmode", "PGSSLMODE"), ("sslrootcert", "PGSSLROOTCERT"), ("sslcert", "PGSSLCERT"),
                     ("sslkey", "PGSSLKEY")):  # fmt: skip
        if options.get(key):
            env[var] = str(options[key])
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    try:
        result = subprocess.run(args, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    except FileNotFoundError as exc:
        raise BackupError(f"{args[0]} is not installed (the PostgreSQL client tools are needed)") from exc
    if result.returncode != 0:
        raise BackupError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip()[-2000:]}")


def backup_path(directory: Path, vendor: str, now: datetime) -> Path:
    try:
        suffix = SUFFIXES[vendor]
    except KeyError as exc:
        raise BackupError(f"no backup for the {vendor} backend") from exc
    return directory / f"{PREFIX}{now.astimezone(UTC).strftime(STAMP)}{suffix}"


def create_backup(connection: BaseDatabaseWrapper, directory: Path, now: datetime | None = None) -> Path:
    """Write a complete backup of `connection`'s database into `directory`; returns its path."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = backup_path(directory, connection.vendor, now or datetime.now(UTC))
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # Created 0600 before a byte is written.
    os.close(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    try:
        if connection.vendor == "postgresql":
            _run(["pg_dump", "--format=custom", "--no-owner", f"--file={partial}"], _pg_env(connection))
        else:
            connection.ensure_connection()
            destination = sqlite3.connect(partial)
            try:
                connection.connection.backup(destination)
            finally:
                destination.close()
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return target


def backups_in(directory: Path) -> list[tuple[datetime, Path]]:
    """Complete backups in `directory`, oldest first, with the time in their names."""
    found = []
    if directory.is_dir():
        for path in directory.iterdir():
            match = NAME_RE.match(path.name)
            if match and path.is_file():
                found.append((datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC), path))
    return sorted(found)


def prune_backups(directory: Path, keep_days: int, now: datetime | None = None, keep: Path | None = None) -> list[Path]:
    """Delete backups older than `keep_days` days (never `keep`, never the newest one)."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=keep_days)
    existing = backups_in(directory)
    newest = existing[-1][1] if existing else None
    removed = []
    for taken, path in existing:
        if taken < cutoff and path not in (keep, newest):
            path.unlink()
            removed.append(path)
    return removed


def database_is_empty(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        return not connection.introspection.table_names(cursor)


def restore_backup(connection: BaseDatabaseWrapper, path: Path, replace: bool) -> None:
    """Load `path` into `connection`'s database. `replace` must be True unless it is empty."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    if not replace and not database_is_empty(connection):
        raise BackupError(
            f"the database {connection.settings_dict['NAME']!s} is not empty: restore into an empty one, "
            "or pass --yes to replace what is in it"
        )
    if connection.vendor == "postgresql":
        if path.read_bytes()[:5] != b"PGDMP":
            raise BackupError(f"{path} is not a pg_dump custom-format file")
        args = ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction"]
        if replace:
            args += ["--clean", "--if-exists"]
        connection.close()  # nothing of ours holds a lock on what pg_restore drops
        env = _pg_env(connection)
        _run([*args, f"--dbname={env.get('PGDATABASE', '')}", str(path)], env)
    elif connection.vendor == "sqlite":
        with path.open("rb") as head:
            if head.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{path} is not a SQLite database")
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)  # replaces every page of the target
        finally:
            source.close()
    else:
        raise BackupError(f"no restore for the {connection.vendor} backend")


def table_row_counts(connection: BaseDatabaseWrapper) -> dict[str, int]:
    counts = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names(cursor)):
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")  # noqa: S608 (introspected name)
            counts[table] = cursor.fetchone()[0]
    return counts
