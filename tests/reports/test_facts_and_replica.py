"""Incremental report facts (reports/facts.py) and the read-replica router (reports/replica.py)."""

from datetime import date

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections

from reports.facts import facts_refresh_dirty
from reports.models import PatientReportFacts, ReportFactsDirty
from reports.replica import REPLICA, ReplicaRouter, reading_replica, report_alias
from reports.tasks import report_facts_rebuild_task, report_facts_refresh_dirty_task
from tests.reports import builders as b

pytestmark = pytest.mark.django_db


def test_a_write_marks_the_patient_and_a_refresh_recomputes_only_the_marked(team, care_manager, today):
    person = b.patient(team=team)
    assert ReportFactsDirty.objects.filter(patient=person).exists()
    assert facts_refresh_dirty(today=today) == 1
    facts = PatientReportFacts.objects.get(patient=person)
    assert (facts.phq9_baseline, facts.care_manager_id) == (None, care_manager.pk)
    assert facts_refresh_dirty(today=today) == 0  # nothing changed: nothing recomputed
    b.score(person, "PHQ-9", 17, date(2026, 2, 1), by=care_manager)
    assert facts_refresh_dirty(today=today) == 1
    facts.refresh_from_db()
    assert (facts.phq9_baseline, facts.phq9_baseline_on, facts.last_contact) == (17, date(2026, 2, 1), date(2026, 2, 1))


def test_the_nightly_rebuild_and_the_command_cover_everyone(team, care_manager, today):
    people = [b.patient(team=team) for _ in range(3)]
    ReportFactsDirty.objects.all().delete()  # as after a bulk load, which marks nobody
    report_facts_rebuild_task()
    assert PatientReportFacts.objects.count() == 3
    PatientReportFacts.objects.all().delete()
    call_command("refresh_report_facts", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert set(PatientReportFacts.objects.values_list("patient_id", flat=True)) == {p.pk for p in people}
    b.score(people[0], "GAD-7", 9, date(2026, 2, 2), by=care_manager)
    report_facts_refresh_dirty_task()
    assert PatientReportFacts.objects.get(patient=people[0]).gad7_latest == 9


def test_router_never_writes_or_migrates_on_the_replica():
    router = ReplicaRouter()
    assert router.db_for_write(PatientReportFacts) == "default"
    assert router.allow_migrate(REPLICA, "reports") is False
    assert router.allow_migrate("default", "reports") is True
    assert router.db_for_read(PatientReportFacts) is None  # outside a report: the default alias


def test_inside_a_transaction_reports_read_the_primary():
    """pytest-django wraps this test in a transaction: the report sees its own writes."""
    with reading_replica() as alias:
        assert alias == "default" == report_alias()
    assert report_alias() == "default"


@pytest.mark.django_db(transaction=True, databases=["default", REPLICA] if REPLICA in settings.DATABASES else None)
@pytest.mark.skipif(REPLICA not in settings.DATABASES, reason="DATABASE_REPLICA_URL not set")
def test_admin_reports_read_the_replica_when_one_is_configured(team, clinic_admin, care_manager, today):
    from django.test.utils import CaptureQueriesContext

    from reports.base import ReportParams
    from reports.catalog import report_get

    b.patient(team=team)
    params = ReportParams(user=clinic_admin, start=date(2025, 3, 3), end=today, today=today)
    with CaptureQueriesContext(connections[REPLICA]) as replica_queries:
        summary = report_get("registry_summary").run(params)  # type: ignore[union-attr]
    assert summary.sections[0].rows[0]["patients"] == 1
    assert len(replica_queries) > 0
    # The care team's registry stays on the primary (membership takes effect at once, AC-6).
    with CaptureQueriesContext(connections[REPLICA]) as replica_queries:
        report_get("registry").run(ReportParams(user=care_manager, start=today, end=today, today=today))  # type: ignore[union-attr]
    assert len(replica_queries) == 0


def test_a_patient_whose_monitoring_is_no_longer_pending_loses_the_due_date(team, prescriber, today):
    from medications.models import Regimen, RegimenStatus
    from reports.facts import facts_refresh

    person = b.patient(team=team)
    lithium = b.regimen(person, "Lithium carbonate", date(2025, 6, 1), by=prescriber)
    facts_refresh([person.pk], today=today)
    assert PatientReportFacts.objects.get(patient=person).monitoring_due_on is not None  # levels never taken
    Regimen.objects.filter(pk=lithium.pk).update(status=RegimenStatus.STOPPED)
    facts_refresh([person.pk], today=today)
    # On PostgreSQL the facts' upsert leaves this column alone: the refresh must clear it itself.
    assert PatientReportFacts.objects.get(patient=person).monitoring_due_on is None
