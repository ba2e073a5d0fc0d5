"""The harness's own databases: it creates them, marks them, and refuses any other.

A database is the harness's when it holds the table `bench_marker` with the random token
the harness wrote there and kept in `.bench/<name>.token` (git-ignored). A database that
exists without both (someone's data, another helper's run) is never touched.
"""

import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg

STATE_DIR = Path(__file__).resolve().parents[2] / ".bench"
SERVER = os.environ.get("BENCH_SERVER_URL", "postgres://postgres@127.0.0.1:5432/postgres")


def database_url(name: str) -> str:
    return urlunparse(urlparse(SERVER)._replace(path=f"/{name}"))


def _admin() -> psycopg.Connection:
    return psycopg.connect(database_url("postgres"), autocommit=True)


def _token_file(name: str) -> Path:
    return STATE_DIR / f"{name}.token"


def exists(name: str) -> bool:
    with _admin() as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def is_ours(name: str) -> bool:
    """True only if the database carries the token this checkout wrote into it."""
    token_file = _token_file(name)
    if not exists(name) or not token_file.exists():
        return False
    try:
        with psycopg.connect(database_url(name)) as conn:
            row = conn.execute("SELECT token FROM bench_marker").fetchone()
    except psycopg.Error:
        return False
    return row is not None and secrets.compare_digest(row[0], token_file.read_text().strip())


def create(name: str) -> None:
    if exists(name):
        sys.exit(f"database {name} exists and is not marked as this harness's: refusing to touch it.")
    token = secrets.token_hex(16)
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    with psycopg.connect(database_url(name)) as conn:
        conn.execute("CREATE TABLE bench_marker (token text NOT NULL)")
        conn.execute("INSERT INTO bench_marker VALUES (%s)", [token])
    STATE_DIR.mkdir(exist_ok=True)
    _token_file(name).write_text(token)


def drop(name: str) -> None:
    if not is_ours(name):
        sys.exit(f"database {name} is not this harness's: refusing to drop it.")
    with _admin() as conn:
        conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    _token_file(name).unlink(missing_ok=True)


def clone(source: str, target: str) -> None:
    """A private copy of a seeded database (CREATE DATABASE ... TEMPLATE: a file copy, seconds
    at 100k), marked with the source's token, so that parallel work (a helper's branch with its
    own migrations, a scan that writes the outbox) never shares a database with anyone."""
    require_ours(source)
    if exists(target):
        sys.exit(f"database {target} exists: refusing to touch it.")
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{target}" TEMPLATE "{source}"')
    _token_file(target).write_text(_token_file(source).read_text())


def require_ours(name: str) -> None:
    if not is_ours(name):
        sys.exit(f"database {name} was not created by this harness (no matching bench_marker token): refusing.")


if __name__ == "__main__":
    # python -m harness.databases clone tandem_bench_100k h_mine_100k   (BENCH_DB_PREFIX=h_mine then)
    if len(sys.argv) == 4 and sys.argv[1] == "clone":
        clone(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "drop":
        drop(sys.argv[2])
    else:
        sys.exit("usage: python -m harness.databases clone SOURCE TARGET | drop NAME")
