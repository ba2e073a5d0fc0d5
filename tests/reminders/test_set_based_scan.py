"""The set-based scan (issue 14): a rule registered as a DraftQuery is written by ONE
INSERT ... SELECT on PostgreSQL, and it must write exactly the reminders its Python drafts
describe (recipients, subject, due date, detail), once."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from careplans.models import PatientStatus, TeamRole
from reminders import delivery
from reminders.models import Reminder
from reminders.outbox import DraftQuery, reminder_rules
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, PatientFactory
from tests.outcomes.helpers import record
from tests.therapy.factories import modality_catalog_ensure
from therapy import services as therapy_services
from therapy.models import Attendance, Modality

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def clinic(patient, prescriber, therapist, care_manager):  # type: ignore[no-untyped-def]
    """Something due for every set-based rule, and its edge cases."""
    today = timezone.localdate()
    CarePlanFactory(patient=patient, review_date=today - timedelta(days=3))
    CareTeamMemberFactory(patient=patient, user=prescriber, role=TeamRole.PSYCHIATRIC_CONSULTANT)  # two roles
    record(patient, care_manager, "PHQ-9", 14, today - timedelta(days=40))
    modality_catalog_ensure()
    course = therapy_services.course_open(
        patient=patient,
        actor=therapist,
        modality=Modality.objects.get(code="CBT"),
        goals=[],
        started_on=today - timedelta(days=90),
    )
    therapy_services.session_log(
        course=course, actor=therapist, session_date=today - timedelta(days=30), attendance=Attendance.ATTENDED
    )
    # No care manager on this team: the whole team is told the GAD-7 is due.
    anxious = PatientFactory()
    CareTeamMemberFactory(patient=anxious, user=prescriber, role=TeamRole.PRESCRIBER)
    CareTeamMemberFactory(patient=anxious, user=therapist, role=TeamRole.THERAPIST)
    plan = CarePlanFactory(patient=anxious, review_date=today + timedelta(days=5))
    GoalFactory(care_plan=plan, target="GAD-7 below 10")
    record(anxious, prescriber, "GAD-7", 12, today - timedelta(days=29))
    # PHQ-9 14 -> 12 over 11 weeks: not improving, for the prescriber.
    flat = PatientFactory()
    CareTeamMemberFactory(patient=flat, user=prescriber, role=TeamRole.PRESCRIBER)
    CareTeamMemberFactory(patient=flat, user=care_manager, role=TeamRole.CARE_MANAGER)
    record(flat, care_manager, "PHQ-9", 14, today - timedelta(weeks=11))
    record(flat, care_manager, "PHQ-9", 12, today - timedelta(days=3))
    discharged = PatientFactory(status=PatientStatus.DISCHARGED)
    CareTeamMemberFactory(patient=discharged, user=care_manager, role=TeamRole.CARE_MANAGER)
    CarePlanFactory(patient=discharged, review_date=today - timedelta(days=1))
    return today


def set_based_rules() -> dict[str, DraftQuery]:
    today = timezone.localdate()
    produced = {name: rule(today) for name, rule in reminder_rules().items()}
    return {name: query for name, query in produced.items() if isinstance(query, DraftQuery)}


def test_care_plan_measurement_and_therapy_rules_are_set_based(clinic):
    assert {
        "care_plan_review",
        "outcomes.measurement_due",
        "outcomes.not_improving",
        "therapy.course_overdue",
    } <= set(set_based_rules())


def test_each_set_based_rule_selects_exactly_its_python_drafts(clinic):
    for name, query in set_based_rules().items():
        selected = query.rows()
        drafted = {
            (d.recipient_id, d.patient_id, d.kind, d.subject_type, d.subject_id, d.due_date, d.detail)
            for d in query.drafts()
        }
        # The depot boundaries have their own test: tests/medications/test_set_based_injections.py
        assert drafted or name == "medications.injections", f"{name}: the clinic fixture should make it due"
        assert selected == drafted, name


def test_scan_writes_each_reminder_once_and_a_rescan_inserts_nothing(clinic):
    first = delivery.reminders_scan(today=clinic)
    rows = set(Reminder.objects.values_list("kind", "subject_id", "due_date", "recipient_id", "detail"))
    assert first.offered["care_plan_review"] == 3  # prescriber once despite two roles; discharged: nobody
    assert first.offered["outcomes.measurement_due"] == 3  # patient's care manager; anxious's whole team
    assert first.offered["therapy.course_overdue"] == 1
    assert first.offered["outcomes.not_improving"] == 1
    second = delivery.reminders_scan(today=clinic)
    assert all(second.offered[name] == 0 for name in set_based_rules())
    assert set(Reminder.objects.values_list("kind", "subject_id", "due_date", "recipient_id", "detail")) == rows
    assert Reminder.objects.filter(status="pending", urgent=False, attempts=0).count() == len(rows)
    assert Reminder.objects.values("public_id").distinct().count() == len(rows)


def test_a_set_based_rule_is_one_insert_however_many_rows(clinic, prescriber, therapist):
    for _ in range(30):
        extra = PatientFactory()
        CareTeamMemberFactory(patient=extra, user=prescriber, role=TeamRole.PRESCRIBER)
        CareTeamMemberFactory(patient=extra, user=therapist, role=TeamRole.THERAPIST)
        CarePlanFactory(patient=extra, review_date=clinic)
    with CaptureQueriesContext(connection) as queries:
        delivery.reminders_scan(today=clinic)
    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "careplans_reminder"')]
    assert sum("ON CONFLICT DO NOTHING" in sql and "SELECT" in sql for sql in inserts) >= 4
    assert Reminder.objects.filter(kind="care_plan_review").count() == 3 + 60


def test_python_rule_drafts_are_one_unnest_insert_each_once_with_its_urgency(patient, prescriber, care_manager):
    from reminders.outbox import ReminderDraft, reminders_insert_drafts

    today = timezone.localdate()
    drafts = [
        ReminderDraft(prescriber.pk, patient.pk, "monitoring_due", "medications.regimen", "r1:anc", today, "x" * 400),
        ReminderDraft(care_manager.pk, patient.pk, "critical_result", "medications.labresult", "l1", today, "ANC"),
    ]
    with CaptureQueriesContext(connection) as queries:
        assert reminders_insert_drafts(drafts) == 2
    assert len(queries.captured_queries) == 1
    written = dict(Reminder.objects.values_list("kind", "urgent"))
    assert written == {"monitoring_due": False, "critical_result": True}
    assert len(Reminder.objects.get(kind="monitoring_due").detail) == 300
    assert reminders_insert_drafts(drafts) == 0
    assert Reminder.objects.count() == 2


# --- Rules at once (issue 14): outside a transaction, each on its own connection ---------------


def _outbox() -> set[tuple[object, ...]]:
    return set(Reminder.objects.values_list("kind", "patient_id", "recipient_id", "due_date", "detail", "urgent"))


def _scan_again_from_empty(today, **options):  # type: ignore[no-untyped-def]
    from medications.models import MonitoringNextDue
    from reminders.models import ReminderScanRun

    Reminder.objects.all().delete()
    ReminderScanRun.objects.all().delete()
    MonitoringNextDue.objects.all().delete()
    return delivery.reminders_scan(today=today, **options)


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _connections_to_this_database() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_rules_run_at_once_on_their_own_connections_and_write_what_one_at_a_time_writes(clinic, monkeypatch):
    import threading

    from reminders import outbox

    both_running = threading.Barrier(2, timeout=20)
    pids: dict[str, int] = {}

    def waits_for_the_other(name):  # type: ignore[no-untyped-def]
        def rule(day, patients=None):  # type: ignore[no-untyped-def]
            pids[name] = _backend_pid()
            both_running.wait()  # passes only if the other rule runs at the same time
            return []

        return rule

    monkeypatch.setitem(outbox._RULES, "aa.first", waits_for_the_other("aa.first"))
    monkeypatch.setitem(outbox._RULES, "aa.second", waits_for_the_other("aa.second"))
    connections_before = _connections_to_this_database()
    at_once = delivery.reminders_scan(today=clinic, workers=2)
    assert not at_once.failed, at_once.failed
    assert len({pids["aa.first"], pids["aa.second"], _backend_pid()}) == 3  # two connections of their own
    assert _connections_to_this_database() == connections_before  # the rules' connections are closed
    written_at_once = _outbox()
    assert {kind for kind, *_ in written_at_once} >= {
        "care_plan_review",
        "measurement_due",
        "session_follow_up",
        "not_improving",
    }

    monkeypatch.delitem(outbox._RULES, "aa.first")
    monkeypatch.delitem(outbox._RULES, "aa.second")
    one_at_a_time = _scan_again_from_empty(clinic, workers=1)
    assert one_at_a_time.offered == {k: v for k, v in at_once.offered.items() if not k.startswith("aa.")}
    assert not one_at_a_time.failed
    assert _outbox() == written_at_once


@pytest.mark.django_db(transaction=True)
def test_a_rule_failing_beside_others_is_named_and_the_others_still_write(clinic, monkeypatch):
    from reminders import outbox
    from reminders.models import ReminderScanRun

    def broken(day, patients=None):  # type: ignore[no-untyped-def]
        raise RuntimeError("rule broke")

    monkeypatch.setitem(outbox._RULES, "outcomes.zz_broken", broken)
    result = delivery.reminders_scan(today=clinic, workers=2)
    assert result.failed == ["outcomes.zz_broken"]
    assert result.offered["care_plan_review"] == 3 and Reminder.objects.filter(kind="care_plan_review").count() == 3
    assert not ReminderScanRun.objects.filter(finished_at__isnull=False).exists()  # the next scan is a full one


def test_inside_a_transaction_the_rules_run_on_the_callers_connection(clinic, monkeypatch):
    from reminders import outbox

    seen: list[int] = []

    def records_its_connection(day, patients=None):  # type: ignore[no-untyped-def]
        seen.append(_backend_pid())
        return []

    monkeypatch.setitem(outbox._RULES, "aa.where", records_its_connection)
    result = delivery.reminders_scan(today=clinic, workers=2)  # the test's transaction is open
    assert seen == [_backend_pid()]
    assert result.offered["care_plan_review"] == 3  # it sees the fixture's uncommitted rows
