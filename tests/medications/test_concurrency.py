"""Concurrent dose changes on one regimen (SECURITY.md CC-2): the regimen row is locked and
the base version checked, so of 20 prescribers adjusting from the same version exactly one
succeeds and the others get a conflict (409 in the API). Needs PostgreSQL row locks."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from careplans.models import TeamRole
from medications.models import DoseChange, Regimen
from tests.factories import CareTeamMemberFactory, PatientFactory, UserFactory
from tests.medications.conftest import med

THREADS = 20


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_dose_changes_from_one_version_exactly_one_succeeds(api):
    from medications import services

    prescribers = [UserFactory(is_prescriber=True) for _ in range(THREADS)]
    patient = PatientFactory()
    for user in prescribers:
        CareTeamMemberFactory(patient=patient, user=user, role=TeamRole.PRESCRIBER)
    regimen = services.regimen_start(
        patient=patient,
        medication=med("Sertraline"),
        dose=Decimal("50"),
        frequency="once_daily",
        start_date=timezone.localdate(),
        actor=prescribers[0],
    )
    base = regimen.version
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []
    lock = threading.Lock()

    def adjust(index: int) -> None:
        try:
            client = api(prescribers[index])
            barrier.wait()
            response = client.post(
                f"/api/v1/regimens/{regimen.public_id}/dose-changes/",
                {"dose": str(60 + index), "reason": f"Adjustment {index}", "version": base},
                format="json",
            )
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=adjust, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * (THREADS - 1)
    regimen = Regimen.objects.get(pk=regimen.pk)
    chain = list(DoseChange.objects.filter(regimen=regimen).order_by("id").values_list("previous_dose", "dose"))
    assert len(chain) == 2 and chain[1][0] == Decimal("50") and chain[1][1] == regimen.dose
    assert regimen.version == base + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_prescribers_starting_an_maoi_and_an_ssri_at_once_cannot_both_skip_the_warning(api):
    # The patient row is locked for a start: the second start sees the first drug and is refused.
    first, second = UserFactory(is_prescriber=True), UserFactory(is_prescriber=True)
    patient = PatientFactory()
    for user in (first, second):
        CareTeamMemberFactory(patient=patient, user=user, role=TeamRole.PRESCRIBER)
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    lock = threading.Lock()

    def start(user, name: str) -> None:  # type: ignore[no-untyped-def]
        try:
            client = api(user)
            body = {
                "patient": str(patient.public_id),
                "medication": str(med(name).public_id),
                "dose": "15",
                "frequency": "once_daily",
                "start_date": timezone.localdate().isoformat(),
            }
            barrier.wait()
            response = client.post("/api/v1/regimens/", body, format="json")
            with lock:
                statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=start, args=(first, "Phenelzine")),
        threading.Thread(target=start, args=(second, "Sertraline")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 400]
    assert Regimen.objects.filter(patient=patient).count() == 1
