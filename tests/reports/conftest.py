"""Fixtures for the report tests: a fixed 'today', a care team and an eager Celery."""

from datetime import date

import pytest
import time_machine

from careplans.models import TeamRole
from clinic.celery import app as celery_app
from tests.conftest import ON_POSTGRES

TODAY = date(2026, 3, 2)


@pytest.fixture
def today():  # type: ignore[no-untyped-def]
    with time_machine.travel(date(2026, 3, 2), tick=False):
        yield TODAY


@pytest.fixture
def team(prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    return {TeamRole.PRESCRIBER: prescriber, TeamRole.THERAPIST: therapist, TeamRole.CARE_MANAGER: care_manager}


@pytest.fixture
def eager_celery():  # type: ignore[no-untyped-def]
    """Tasks run in-process even when REDIS_URL is set (as they do under `make run`)."""
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


# On PostgreSQL every report run switches JIT off and back on for its connection (two more
# statements; reports.base._without_jit).
JIT_STATEMENTS = 2 if ON_POSTGRES else 0


@pytest.fixture(autouse=True)
def counts_unsuppressed(settings):  # type: ignore[no-untyped-def]
    """The hand-count tests build 1 to 5 patients, every count a "small cell": they check the
    arithmetic with suppression off. tests/reports/test_minimum_necessary.py checks the
    suppression itself with the clinic's default (REPORT_SMALL_CELL = 5)."""
    settings.REPORT_SMALL_CELL = 1
