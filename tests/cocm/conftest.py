"""Shared with the report tests: Celery tasks run in-process for the CSV exports."""

from tests.reports.conftest import eager_celery  # noqa: F401  (a fixture)
