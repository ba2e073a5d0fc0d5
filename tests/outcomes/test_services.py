"""Recording questionnaires: stored score, audit, and the PHQ-9 item-9 safety alert."""

from datetime import date

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from careplans.models import TeamRole
from clinic.models import AuditEvent
from outcomes import services
from outcomes.models import Assessment, SafetyAlert, SafetyAlertRecipients, SafetyAlertStatus, SafetyFollowUp
from reminders.models import Reminder, ReminderKind
from tests.factories import CareTeamMemberFactory, UserFactory
from tests.outcomes.helpers import answers, record

pytestmark = pytest.mark.django_db
TODAY = date(2026, 3, 2)


@pytest.fixture(autouse=True)
def _today():  # type: ignore[no-untyped-def]
    with time_machine.travel(date(2026, 3, 2), tick=False):
        yield


class Rollback(Exception):
    pass


def test_recording_stores_the_server_computed_score_and_band(patient, care_manager):
    assessment = record(patient, care_manager, "PHQ-9", 14, TODAY)
    assessment.refresh_from_db()
    assert (assessment.total_score, assessment.severity, assessment.responses) == (14, "moderate", answers("PHQ-9", 14))
    assert not assessment.safety_item_positive
    assert not SafetyAlert.objects.exists()


def test_recording_is_audited_without_the_score(patient, care_manager):
    assessment = record(patient, care_manager, "GAD-7", 12, TODAY)
    event = AuditEvent.objects.get(object_type="outcomes.assessment")
    assert event.object_id == str(assessment.public_id)
    assert event.patient_id == patient.public_id
    assert event.changes == {"instrument": [None, "GAD-7"], "administered_on": [None, "2026-03-02"]}
    assert "12" not in str(event.changes)


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("responses", {"responses": [1] * 8}),
        ("responses", {"responses": [1] * 8 + [7]}),
        ("instrument", {"instrument": "BDI-II"}),
        ("administered_on", {"administered_on": date(2026, 3, 3)}),
        ("administered_on", {"administered_on": date(1900, 1, 1)}),
    ],
)
def test_wrong_input_is_refused_and_nothing_is_stored(patient, care_manager, field, kwargs):
    data = {"instrument": "PHQ-9", "responses": [1] * 9, "administered_on": TODAY} | kwargs
    with pytest.raises(ValidationError) as error:
        services.assessment_record(patient=patient, actor=care_manager, **data)
    assert field in error.value.message_dict
    assert not Assessment.all_records.exists()
    assert not AuditEvent.objects.filter(object_type="outcomes.assessment").exists()


def test_positive_item_9_alerts_prescriber_therapist_and_care_manager_at_once(
    patient, prescriber, therapist, care_manager
):
    assessment = record(patient, care_manager, "PHQ-9", 3, TODAY, item9=1)
    alert = SafetyAlert.objects.get()
    assert (alert.assessment, alert.status) == (assessment, SafetyAlertStatus.OPEN)
    rows = Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT)
    assert {r.recipient for r in rows} == {prescriber, therapist, care_manager}  # the clinic's default
    assert alert.source == "phq9_item9" and alert.source_date == TODAY
    assert all(r.urgent and r.patient == patient and r.due_date == TODAY for r in rows)
    assert {r.subject_id for r in rows} == {str(alert.public_id)}


def test_item_9_alert_is_written_in_the_questionnaire_transaction_and_rolls_back_with_it(patient, care_manager):
    with pytest.raises(Rollback), transaction.atomic():
        record(patient, care_manager, "PHQ-9", 20, TODAY, item9=2)
        # Inside the same transaction the alert and its outbox rows already exist ...
        assert SafetyAlert.objects.filter(status="open").count() == 1
        assert Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT).count() == 3
        raise Rollback
    # ... and a rollback leaves none of them behind.
    assert not Assessment.all_records.exists()
    assert not SafetyAlert.all_records.exists()
    assert not Reminder.objects.exists()


def test_a_failing_alert_rolls_back_the_questionnaire(patient, care_manager, monkeypatch):
    def broken(drafts, **kwargs):  # the outside world (the outbox insert) failing
        raise IntegrityError("outbox unavailable")

    monkeypatch.setattr(services, "reminders_write", broken)
    with pytest.raises(IntegrityError):
        record(patient, care_manager, "PHQ-9", 9, TODAY, item9=1)
    assert not Assessment.all_records.exists()


def test_alert_reaches_everyone_on_a_team_without_prescriber_or_therapist(care_manager):
    patient = CareTeamMemberFactory(user=care_manager, role=TeamRole.CARE_MANAGER).patient
    record(patient, care_manager, "PHQ-9", 5, TODAY, item9=1)
    assert [r.recipient for r in Reminder.objects.all()] == [care_manager]


def test_alert_goes_to_every_member_in_the_chosen_roles(patient, care_manager):
    second = UserFactory(is_therapist=True)
    CareTeamMemberFactory(patient=patient, user=second, role=TeamRole.THERAPIST)
    record(patient, care_manager, "PHQ-9", 5, TODAY, item9=3)
    assert Reminder.objects.count() == 4  # prescriber, two therapists, care manager


def test_the_clinic_setting_decides_who_is_alerted(patient, care_manager, prescriber, therapist):
    SafetyAlertRecipients.objects.update_or_create(
        pk=1, defaults={"prescriber": False, "therapist": True, "care_manager": False}
    )
    record(patient, care_manager, "PHQ-9", 5, TODAY, item9=1)
    assert list(Reminder.objects.values_list("recipient", flat=True)) == [therapist.pk]


def test_zero_item_9_and_other_instruments_raise_no_alert(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 27 - 3, TODAY)
    record(patient, care_manager, "GAD-7", 21, TODAY)
    record(patient, care_manager, "WSAS", 40, TODAY)
    assert not SafetyAlert.objects.exists()
    assert not Reminder.objects.exists()


def test_a_later_negative_item_9_never_clears_an_open_alert(patient, care_manager):
    record(patient, care_manager, "PHQ-9", 12, date(2026, 2, 1), item9=1)
    record(patient, care_manager, "PHQ-9", 2, TODAY, item9=0)
    assert SafetyAlert.objects.get().status == SafetyAlertStatus.OPEN


def follow_up(patient, actor, **kwargs):  # type: ignore[no-untyped-def]
    data = {
        "format": "phone",
        "outcome": "passive_ideation",
        "plan": "safety_plan",
        "plan_details": "Reviewed safety plan; crisis line given; call back Friday.",
    } | kwargs
    return services.safety_follow_up_record(patient=patient, actor=actor, **data)


def test_follow_up_resolves_every_open_alert_of_the_patient(patient, care_manager, therapist):
    record(patient, care_manager, "PHQ-9", 12, date(2026, 2, 1), item9=1)
    record(patient, care_manager, "PHQ-9", 14, TODAY, item9=2)
    done = follow_up(patient, therapist)
    assert set(SafetyAlert.objects.values_list("status", flat=True)) == {"resolved"}
    assert done.resolved_alerts.count() == 2
    assert AuditEvent.objects.filter(object_type="outcomes.safetyalert", action="update").count() == 2
    # A new positive answer after the follow-up opens a new alert.
    record(patient, care_manager, "PHQ-9", 14, TODAY, item9=1)
    assert SafetyAlert.objects.filter(status="open").count() == 1


def test_follow_up_without_an_open_alert_is_refused(patient, therapist):
    with pytest.raises(ValidationError) as error:
        follow_up(patient, therapist)
    assert "patient" in error.value.message_dict
    assert not SafetyFollowUp.all_records.exists()


@pytest.mark.parametrize("outcome", ["intent_or_plan", "recent_behaviour"])
def test_high_risk_outcome_needs_an_urgent_plan(patient, care_manager, prescriber, outcome):
    record(patient, care_manager, "PHQ-9", 22, TODAY, item9=3)
    with pytest.raises(ValidationError) as error:
        follow_up(patient, prescriber, outcome=outcome, plan="routine")
    assert "plan" in error.value.message_dict
    assert SafetyAlert.objects.get().status == "open"
    follow_up(patient, prescriber, outcome=outcome, plan="emergency")
    assert SafetyAlert.objects.get().status == "resolved"


def test_follow_up_needs_plan_details_and_valid_choices(patient, care_manager, prescriber):
    record(patient, care_manager, "PHQ-9", 22, TODAY, item9=3)
    with pytest.raises(ValidationError) as error:
        follow_up(patient, prescriber, plan_details="  ", format="carrier pigeon")
    assert {"plan_details", "format"} <= set(error.value.message_dict)


def test_database_refuses_a_high_risk_follow_up_with_a_routine_plan(patient, prescriber):
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyFollowUp.objects.create(
            patient=patient,
            format="phone",
            outcome="intent_or_plan",
            plan="routine",
            plan_details="x",
            recorded_by=prescriber,
        )


def test_database_refuses_a_resolved_alert_without_follow_up(patient, care_manager):
    assessment = record(patient, care_manager, "PHQ-9", 5, TODAY, item9=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyAlert.objects.filter(assessment=assessment).update(status="resolved")


def test_database_refuses_an_unknown_severity(patient, care_manager):
    assessment = record(patient, care_manager, "PHQ-9", 5, TODAY)
    with pytest.raises(IntegrityError), transaction.atomic():
        Assessment.objects.filter(pk=assessment.pk).update(severity="catastrophic")


def test_entered_in_error_leaves_the_summary_but_not_the_alert(patient, care_manager):
    from outcomes.selectors import patient_outcome_summaries

    wrong = record(patient, care_manager, "PHQ-9", 22, date(2026, 1, 5), item9=1)
    record(patient, care_manager, "PHQ-9", 12, date(2026, 2, 2))
    services.assessment_enter_in_error(assessment=wrong, actor=care_manager, reason="Wrong patient's form")
    summary = patient_outcome_summaries(patient=patient, today=TODAY)["PHQ-9"]
    assert (summary.baseline.total_score, summary.count) == (12, 1)
    assert SafetyAlert.objects.get().status == "open"
    assert Assessment.all_records.get(pk=wrong.pk).entered_in_error_by == care_manager
    assert AuditEvent.objects.filter(action="enter_in_error", object_id=str(wrong.public_id)).exists()
    with pytest.raises(ValidationError):
        services.assessment_enter_in_error(assessment=wrong, actor=care_manager, reason="again")


def test_entering_in_error_needs_a_reason(patient, care_manager):
    assessment = record(patient, care_manager, "PHQ-9", 12, TODAY)
    with pytest.raises(ValidationError) as error:
        services.assessment_enter_in_error(assessment=assessment, actor=care_manager, reason=" ")
    assert "reason" in error.value.message_dict
