"""Helpers for the medications tests: the shipped catalog, and regimens started through
the services (the way a prescriber starts them), at chosen dates."""

import importlib
from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps

from medications import limits, services
from medications.interactions import interaction_warnings
from medications.models import Medication, Regimen


def ensure_catalog() -> None:
    """Reload the shipped catalog if a transactional test (browser, concurrency) flushed it:
    a flush empties every table, data migrations included."""
    if not Medication.objects.exists():
        catalog = importlib.import_module("medications.migrations.0002_catalog_protocols_interactions")
        shipped_rules, catalog.INTERACTIONS = catalog.INTERACTIONS, []  # 0003 replaces them (codes unique)
        try:
            catalog.load(apps, None)
        finally:
            catalog.INTERACTIONS = shipped_rules
        importlib.import_module("medications.migrations.0003_mechanism_interactions_data").load(apps, None)
        importlib.import_module("medications.migrations.0004_c_catalog_injectables_protocols").load(apps, None)
        importlib.import_module("medications.migrations.0006_medication_rxnorm").codes_set(apps, None)


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


def acknowledging(patient, medication: Medication, on: date) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """The acknowledgement a prescriber would give for every blocking warning of this start."""
    codes = [w.code for w in limits.start_warnings(patient=patient, medication=medication, on=on) if w.is_blocking]
    return {"acknowledged_warnings": codes, "acknowledgement_reason": "Reviewed with the patient"} if codes else {}


@pytest.fixture
def start_regimen(prescriber) -> Callable[..., Regimen]:  # type: ignore[no-untyped-def]
    """start_regimen(patient, "Lithium carbonate", "400", start_date=date(...), frequency=...).
    Blocking warnings are acknowledged unless `acknowledge=False` (the tests of that rule)."""

    def start(
        patient,
        name: str,
        dose: str = "1",
        *,
        start_date: date | None = None,  # type: ignore[no-untyped-def]
        frequency: str = "once_daily",
        actor=None,
        acknowledge: bool = True,
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
            if acknowledge:
                extra = {**acknowledging(patient, med(name), start_date), **extra}
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
            if extra.pop("acknowledge", True):
                found = interaction_warnings(
                    patient=regimen.patient, medication=regimen.medication, exclude_regimen=regimen
                )
                codes = [w.code for w in found if w.is_blocking]
                if codes:
                    extra = {"acknowledged_warnings": codes, "acknowledgement_reason": "Reviewed", **extra}
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
