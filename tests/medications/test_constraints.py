"""One test per database constraint added for issue 11 (STYLE.md rule 6)."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from medications.models import Injection, Medication, MonitoringException, Regimen

pytestmark = pytest.mark.django_db
START = date(2026, 1, 5)


def _fails(update) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        update()


def test_an_injectable_needs_a_per_injection_maximum_and_frequencies():
    lai = Medication.objects.filter(long_acting_injectable=True)
    _fails(lambda: lai.update(max_dose_per_injection=None))
    _fails(lambda: lai.update(injection_frequencies=""))


def test_prn_regimen_needs_a_daily_maximum_and_others_have_none(patient, start_regimen):
    regimen = start_regimen(patient, "Lorazepam", "1", start_date=START, frequency="as_needed", max_doses_per_day=3)
    _fails(lambda: Regimen.objects.filter(pk=regimen.pk).update(max_doses_per_day=None))
    oral = start_regimen(patient, "Sertraline", "50", start_date=START)
    _fails(lambda: Regimen.objects.filter(pk=oral.pk).update(max_doses_per_day=2))


def test_regimen_frequency_must_be_listed(patient, start_regimen):
    regimen = start_regimen(patient, "Sertraline", "50", start_date=START)
    _fails(lambda: Regimen.objects.filter(pk=regimen.pk).update(frequency="hourly"))


def test_monitoring_exception_constraints(patient, prescriber, start_regimen):
    regimen = start_regimen(patient, "Olanzapine", "5", start_date=START)
    common = dict(patient=patient, regimen=regimen, test="bmi", due_date=START, recorded_by=prescriber)
    _fails(lambda: MonitoringException.objects.create(kind="waived", reason="", **common))
    _fails(lambda: MonitoringException.objects.create(kind="done_elsewhere", reason="GP", **common))
    _fails(lambda: MonitoringException.objects.create(kind="maybe", reason="x", **common))
    _fails(lambda: MonitoringException.objects.create(kind="waived", reason="x", **{**common, "test": "xray"}))


def test_injection_dose_positive_and_site_listed(patient, prescriber, start_regimen):
    regimen = start_regimen(patient, "Paliperidone palmitate 1-monthly", "100", start_date=START, frequency="monthly")
    common = dict(regimen=regimen, given_on=START, given_by=prescriber)
    _fails(lambda: Injection.objects.create(dose=Decimal("0"), site="deltoid", **common))
    _fails(lambda: Injection.objects.create(dose=Decimal("100"), site="thigh", **common))
