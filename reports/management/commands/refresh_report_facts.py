"""Rebuild every patient's report facts (reports/facts.py): after a bulk load, a restore, or
when the nightly beat task did not run. `--dirty` recomputes only the marked patients."""

from typing import Any

from django.core.management.base import BaseCommand

from reports.facts import facts_refresh_all, facts_refresh_dirty


class Command(BaseCommand):
    help = "Rebuild the registry's per-patient report facts (all patients, or --dirty only)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dirty", action="store_true", help="Only the patients changed since the last refresh.")

    def handle(self, *args: Any, **options: Any) -> None:
        done = facts_refresh_dirty() if options["dirty"] else facts_refresh_all()
        self.stdout.write(f"report facts refreshed for {done} patients")
