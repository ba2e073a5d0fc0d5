"""A complete backup of the database into BACKUP_DIR, then backups older than the retention go.

Run it daily (the `backup` service in docker-compose.yml, or cron; README "Backups")."""

from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DEFAULT_DB_ALIAS, connections

from clinic.backups import BackupError, create_backup, prune_backups


class Command(BaseCommand):
    help = "Back the database up into BACKUP_DIR (pg_dump custom format, or SQLite's online backup)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dir", default=None, help="Where to write (default: BACKUP_DIR).")
        parser.add_argument(
            "--keep-days",
            type=int,
            default=None,
            help="Delete backups older than this many days (default: BACKUP_KEEP_DAYS; 0 keeps every one).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        directory = Path(options["dir"] or settings.BACKUP_DIR)
        keep_days = settings.BACKUP_KEEP_DAYS if options["keep_days"] is None else options["keep_days"]
        try:
            path = create_backup(connections[DEFAULT_DB_ALIAS], directory)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Backup written: {path} ({path.stat().st_size} bytes)")
        if keep_days > 0:
            for old in prune_backups(directory, keep_days, keep=path):
                self.stdout.write(f"Removed (older than {keep_days} days): {old}")
