"""Helpers for the medications tests: the shipped catalog, and regimens started through
the services (the way a prescriber starts them), at chosen dates."""

import importlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps

from medications import services
from medications.models import Medication, Regimen


def ensure_catalog() -> None:
    """Reload the shipped catalog if a transactional test (browser, concurrency) flushed it:
    a flush empties every table, data migrations included."""
    if not Medication.objects.exists():
        for name in ("0002_catalog_protocols_interactions", "0004_c_catalog_injectables_protocols"):
            importlib.import_module(f"medications.migrations.{name}").load(apps, None)


@pytest.fixture(autouse=True)
def _catalog(request) -> None:  # type: ignore[no-untyped-def]
    if (
        "db" in request.fixturenames
        or "transactional_db" in request.fixturenames
        or request.node.get_closest_marker("django_db")
    ):
        request.getfixturevalue("transactional_db" if "transactional_db" in request.fixturenames else "db")
        ensure_catalog()


def med(name: str) -> Medication:
    return Medication.objects.get(name=name)


@pytest.fixture
def start_regimen(prescriber) -> Callable[..., Regimen]:  # type: ignore[no-untyped-def]
    """start_regimen(patient, "Lithium carbonate", "400", start_date=date(...), frequency=...)."""

    def start(
        patient,
        name: str,
        dose: str = "1",
        *,
        start_date: date | None = None,  # type: ignore[no-untyped-def]
        frequency: str = "once_daily",
        actor=None,
        baseline_anc: str | None = "2000",
        **extra,
    ) -> Regimen:
        start_date = start_date or date(2026, 1, 5)
        with time_machine.travel(start_date, tick=False):
            # Clozapine needs a baseline ANC in the week before the start (clozapine.py).
            if name == "Clozapine" and baseline_anc is not None:
                services.lab_result_record(
                    patient=patient,
                    actor=actor or prescriber,
                    test="anc",
                    value=Decimal(baseline_anc),
                    taken_on=start_date,
                )
            return services.regimen_start(
                patient=patient,
                medication=med(name),
                dose=Decimal(dose),
                frequency=frequency,
                start_date=start_date,
                actor=actor or prescriber,
                **extra,
            )

    return start


@pytest.fixture
def change_dose(prescriber) -> Callable[..., object]:  # type: ignore[no-untyped-def]
    def change(regimen: Regimen, dose: str, on: date, reason: str = "Titration", **extra):  # type: ignore[no-untyped-def]
        with time_machine.travel(on, tick=False):
            regimen.refresh_from_db()
            return services.dose_change_record(
                regimen=regimen,
                dose=Decimal(dose),
                reason=reason,
                actor=extra.pop("actor", prescriber),
                reason_code=extra.pop("reason_code", "titration_up"),
                **extra,
            )

    return change


@pytest.fixture
def add_lab(prescriber) -> Callable[..., object]:  # type: ignore[no-untyped-def]
    def add(patient, test: str, value: str, on: date, **extra):  # type: ignore[no-untyped-def]
        with time_machine.travel(on, tick=False):
            return services.lab_result_record(
                patient=patient,
                actor=extra.pop("actor", prescriber),
                test=test,
                value=Decimal(value),
                taken_on=on,
                **extra,
            )

    return add
