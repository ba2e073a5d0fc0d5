"""Shared fixtures: a patient with a full care team, a colleague of another role, an outsider.

In CI (CI=true) the suite must run on the real PostgreSQL and Redis: if
DATABASE_URL or REDIS_URL is missing or unreachable, the run stops with an error
instead of quietly skipping (DEVELOPERS.md).
"""

import os
import socket
import uuid
from collections.abc import Callable
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from rest_framework.test import APIClient

from careplans.models import TeamRole
from tests.factories import CarePlanFactory, CareTeamMemberFactory, PatientFactory, UserFactory

IN_CI = os.environ.get("CI", "").lower() == "true"
ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
HAS_REDIS = bool(settings.REDIS_URL)


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def pytest_configure(config: pytest.Config) -> None:
    if not IN_CI:
        return
    problems = []
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        problems.append("DATABASE_URL does not point at PostgreSQL")
    elif not _reachable(os.environ["DATABASE_URL"], 5432):
        problems.append("PostgreSQL is unreachable")
    if not os.environ.get("REDIS_URL"):
        problems.append("REDIS_URL is not set")
    elif not _reachable(os.environ["REDIS_URL"], 6379):
        problems.append("Redis is unreachable")
    if problems:
        raise pytest.UsageError("CI needs the real services: " + "; ".join(problems))


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group markers
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); always runs in CI")
    skip_redis = pytest.mark.skip(reason="needs Redis (set REDIS_URL); always runs in CI")
    for item in items:
        _keep_migration_data(item)
        if "postgres" in item.keywords and not ON_POSTGRES:
            item.add_marker(skip_pg)
        if "redis" in item.keywords and not HAS_REDIS:
            item.add_marker(skip_redis)
        if "redis" in item.keywords:
            item.add_marker(pytest.mark.xdist_group("redis"))  # one process runs the real workers


def _keep_migration_data(item: pytest.Item) -> None:
    """Transactional tests (threads, a real worker, the browser's live server) end by emptying
    every table, which would also wipe the catalogs that data migrations ship (medications,
    protocols, modalities) for the tests after them. Django's serialized rollback restores them."""
    marker = item.get_closest_marker("django_db")
    transactional = (marker is not None and marker.kwargs.get("transaction")) or "live_server" in getattr(
        item, "fixturenames", ()
    )
    if transactional:
        kwargs = dict(marker.kwargs) if marker is not None else {}
        kwargs.update(transaction=True, serialized_rollback=True)
        item.add_marker(pytest.mark.django_db(**kwargs), append=False)


@pytest.fixture(autouse=True)
def _fast_passwords(settings) -> None:  # type: ignore[no-untyped-def]
    # Hashing at 1,000,000 PBKDF2 rounds (AU-2) would make every login in the suite slow;
    # tests/clinic/test_passwords.py checks the production hasher separately.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _private_cache(settings) -> None:  # type: ignore[no-untyped-def]
    # Sign-in throttle counters live in the cache (clinic/throttles.py): each test gets its own
    # empty in-process cache. With REDIS_URL set the Redis cache is shared by both xdist workers,
    # so clearing it would wipe the other worker's counters mid-test.
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": f"test-{uuid.uuid4()}"}
    }


@pytest.fixture(autouse=True)
def _audit_settings(settings) -> None:  # type: ignore[no-untyped-def]
    # The sealer leaves rows younger than the grace unsealed (clinic/audit_chain.py); tests seal
    # what they wrote at once. No anchor file unless a test names its own (tests/clinic/test_audit*).
    settings.AUDIT_SEAL_GRACE_SECONDS = 0
    settings.AUDIT_ANCHOR_FILE = ""


@receiver(connection_created)
def _allow_flush_of_the_audit_trail(sender, connection, **kwargs) -> None:  # type: ignore[no-untyped-def]
    # PostgreSQL refuses TRUNCATE of the audit trail (clinic migration 0007) unless the session
    # says otherwise: the flush after each transactional test does.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET tandem.audit_allow_truncate = 'on'")


@pytest.fixture
def prescriber(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="prescriber", is_prescriber=True)


@pytest.fixture
def therapist(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="therapist", is_therapist=True)


@pytest.fixture
def care_manager(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="caremanager", is_care_manager=True)


@pytest.fixture
def clinic_admin(db):  # type: ignore[no-untyped-def]
    return UserFactory(username="clinicadmin", is_clinic_admin=True)


@pytest.fixture
def outsider(db):  # type: ignore[no-untyped-def]
    """A prescriber with every role a clinician can hold, on no care team of ours."""
    return UserFactory(username="outsider", is_prescriber=True, is_therapist=True, is_care_manager=True)


@pytest.fixture
def patient(prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    """A patient whose care team is the prescriber, the therapist and the care manager."""
    patient = PatientFactory()
    CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PRESCRIBER)
    CareTeamMemberFactory(patient=patient, user=therapist, role=TeamRole.THERAPIST)
    CareTeamMemberFactory(patient=patient, user=care_manager, role=TeamRole.CARE_MANAGER)
    return patient


@pytest.fixture
def care_plan(patient):  # type: ignore[no-untyped-def]
    return CarePlanFactory(patient=patient)


@pytest.fixture
def api() -> Callable:
    """api(user) -> an APIClient authenticated as `user` (None: anonymous)."""

    def make(user=None) -> APIClient:  # type: ignore[no-untyped-def]
        client = APIClient()
        if user is not None:
            client.force_authenticate(user=user)
        return client

    return make


@pytest.fixture
def browser_client(client) -> Callable:  # type: ignore[no-untyped-def]
    """login(user) -> Django test client with a real session for `user`."""

    def login(user):  # type: ignore[no-untyped-def]
        client.force_login(user)
        return client

    return login
