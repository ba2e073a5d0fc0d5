"""Restore a backup made by `manage.py backup` into the configured database.

Refuses a database that has any table unless --yes is given. --verify then prints the rows
in every table and runs `verify_audit` (exit 1 if the audit chain is broken)."""

from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from clinic.backups import BackupError, restore_backup, table_row_counts


class Command(BaseCommand):
    help = "Restore a backup into the configured database (empty, or --yes to replace it)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="A file written by `manage.py backup`.")
        parser.add_argument("--yes", action="store_true", help="Replace what the database holds now.")
        parser.add_argument("--verify", action="store_true", help="Then print row counts and run verify_audit.")

    def handle(self, *args: Any, **options: Any) -> None:
        connection = connections[DEFAULT_DB_ALIAS]
        try:
            restore_backup(connection, Path(options["file"]), replace=options["yes"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Restored {options['file']} into {connection.settings_dict['NAME']}.")
        if options["verify"]:
            counts = table_row_counts(connection)
            width = max((len(table) for table in counts), default=0)
            for table, rows in counts.items():
                self.stdout.write(f"{table:<{width}}  {rows}")
            self.stdout.write(f"{len(counts)} tables, {sum(counts.values())} rows.")
            call_command("verify_audit", stdout=self.stdout, stderr=self.stderr)
