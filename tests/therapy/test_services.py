"""Therapy services: what a therapist's write does to the record, the audit trail and the outbox."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from careplans.models import TeamRole
from clinic.audit import keyed_hash
from clinic.models import AuditEvent
from outcomes.models import SafetyAlert, SafetyAlertRecipients
from reminders.models import Reminder, ReminderKind
from tests.factories import CarePlanFactory, CareTeamMemberFactory, GoalFactory, PatientFactory
from therapy import services
from therapy.models import Attendance, CourseStatus, Homework, ProcessNote, TherapyCourse, TherapySession

TODAY = timezone.localdate


def _follow_ups():  # type: ignore[no-untyped-def]
    return Reminder.objects.filter(kind=ReminderKind.SESSION_FOLLOW_UP)


# --- Missed sessions and risk -------------------------------------------------------------


@pytest.mark.parametrize("attendance", [Attendance.NO_SHOW, Attendance.LATE_CANCEL])
def test_missed_session_reminds_therapist_and_care_manager(course, therapist, care_manager, prescriber, attendance):
    session = services.session_log(course=course, actor=therapist, session_date=TODAY(), attendance=attendance)
    reminders = _follow_ups()
    assert {r.recipient_id for r in reminders} == {therapist.pk, care_manager.pk}
    assert all(r.subject_id == str(session.public_id) and r.due_date == session.session_date for r in reminders)
    assert all(r.patient_id == course.patient_id for r in reminders)


@pytest.mark.parametrize("attendance", [Attendance.ATTENDED, Attendance.CANCELLED])
def test_attended_or_cancelled_in_time_reminds_nobody(course, therapist, attendance):
    services.session_log(course=course, actor=therapist, session_date=TODAY(), attendance=attendance)
    assert not Reminder.objects.exists()


def test_missed_session_without_a_care_manager_reminds_the_therapist_only(therapist, cbt):
    patient = PatientFactory()
    CareTeamMemberFactory(patient=patient, user=therapist, role=TeamRole.THERAPIST)
    course = services.course_open(patient=patient, actor=therapist, modality=cbt)
    services.session_log(course=course, actor=therapist, session_date=TODAY(), attendance=Attendance.NO_SHOW)
    assert list(_follow_ups().values_list("recipient", flat=True)) == [therapist.pk]


def test_logging_the_same_no_show_again_does_not_duplicate(course, therapist):
    session = services.session_log(course=course, actor=therapist, session_date=TODAY(), attendance=Attendance.NO_SHOW)
    services.session_update(session=session, actor=therapist, summary="Phoned, no answer")
    assert _follow_ups().count() == 2  # therapist + care manager, once each


def test_no_show_reminder_is_rolled_back_with_the_session(course, therapist):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.session_log(course=course, actor=therapist, session_date=TODAY(), attendance=Attendance.NO_SHOW)
        raise RuntimeError("the request failed after the write")
    assert not TherapySession.objects.exists()
    assert not Reminder.objects.exists()


def test_raised_risk_opens_a_safety_alert_and_alerts_the_team_at_once(course, therapist, prescriber, care_manager):
    """One safety signal (issue 16 item 3): the same alert as PHQ-9 item 9, to the clinic's
    default recipients (prescriber, therapist, care manager)."""
    session = services.session_log(
        course=course,
        actor=therapist,
        session_date=TODAY(),
        risk_level="raised",
        risk_note="Passive thoughts of death this week.",
    )
    alert = SafetyAlert.objects.get()
    assert (alert.source, alert.session_public_id, alert.status) == ("session_risk", session.public_id, "open")
    assert alert.source_date == session.session_date and alert.assessment is None
    reminders = Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT)
    assert {r.recipient_id for r in reminders} == {prescriber.pk, therapist.pk, care_manager.pk}
    assert all(r.urgent and r.subject_id == str(alert.public_id) and r.due_date == TODAY() for r in reminders)
    assert all("Passive thoughts" not in r.detail for r in reminders)


def test_low_risk_alerts_nobody(course, therapist):
    services.session_log(course=course, actor=therapist, session_date=TODAY(), risk_level="low")
    assert not Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT).exists()
    assert not SafetyAlert.objects.exists()


def test_risk_raised_on_correction_alerts_then_once(course, therapist, prescriber):
    session = services.session_log(course=course, actor=therapist, session_date=TODAY())
    services.session_update(session=session, actor=therapist, risk_level="raised", risk_note="Disclosed plan.")
    services.session_update(session=session, actor=therapist, risk_level="low", risk_note="")
    services.session_update(session=session, actor=therapist, risk_level="raised", risk_note="Again.")
    assert SafetyAlert.objects.count() == 1  # one session, one alert
    assert Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT, recipient=prescriber).count() == 1


def test_raised_risk_with_none_of_the_chosen_roles_on_team_alerts_the_whole_team(therapist, care_manager, cbt):
    SafetyAlertRecipients.objects.update_or_create(
        pk=1, defaults={"prescriber": True, "therapist": False, "care_manager": False}
    )
    patient = PatientFactory()
    CareTeamMemberFactory(patient=patient, user=therapist, role=TeamRole.THERAPIST)
    CareTeamMemberFactory(patient=patient, user=care_manager, role=TeamRole.CARE_MANAGER)
    course = services.course_open(patient=patient, actor=therapist, modality=cbt)
    services.session_log(course=course, actor=therapist, session_date=TODAY(), risk_level="raised", risk_note="x")
    recipients = Reminder.objects.filter(kind=ReminderKind.SAFETY_ALERT).values_list("recipient", flat=True)
    assert sorted(recipients) == sorted([therapist.pk, care_manager.pk])


def test_raised_risk_is_rolled_back_with_the_session(course, therapist):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.session_log(course=course, actor=therapist, session_date=TODAY(), risk_level="raised", risk_note="x")
        raise RuntimeError("the request failed after the write")
    assert not SafetyAlert.objects.exists() and not Reminder.objects.exists()


# --- Sessions -------------------------------------------------------------------------------


def test_only_therapists_log_sessions(course, prescriber, care_manager):
    for user in (prescriber, care_manager):
        with pytest.raises(PermissionDenied):
            services.session_log(course=course, actor=user, session_date=TODAY())
    assert not TherapySession.objects.exists()


def test_a_prescriber_who_also_does_therapy_may_log(patient, prescriber, cbt):
    prescriber.is_therapist = True
    prescriber.save()
    course = services.course_open(patient=patient, actor=prescriber, modality=cbt)
    services.session_log(course=course, actor=prescriber, session_date=TODAY())
    assert TherapySession.objects.count() == 1


def test_session_before_the_course_started_is_refused(course, therapist):
    with pytest.raises(ValidationError) as error:
        services.session_log(course=course, actor=therapist, session_date=course.started_on - timedelta(days=1))
    assert "session_date" in error.value.message_dict


def test_session_audit_says_only_that_the_note_changed(course, therapist):
    session = services.session_log(
        course=course, actor=therapist, session_date=TODAY(), summary="Shared", private_note="very private"
    )
    event = AuditEvent.objects.get(action="create", object_id=str(session.public_id))
    assert event.changes["process_note"] == "changed"
    assert event.changes["summary"] == [None, keyed_hash("Shared")]  # free text: its keyed hash only (issue 12)
    assert "very private" not in str(event.changes)
    services.session_update(session=session, actor=therapist, private_note="still private")
    update = AuditEvent.objects.get(action="update", object_id=str(session.public_id))
    assert update.changes == {"process_note": "changed"}


def test_unchanged_note_is_not_audited_as_changed(course, therapist):
    session = services.session_log(course=course, actor=therapist, session_date=TODAY(), private_note="same")
    services.session_update(session=session, actor=therapist, private_note="same", summary="new")
    update = AuditEvent.objects.get(action="update", object_id=str(session.public_id))
    assert "process_note" not in update.changes


def test_each_author_keeps_their_own_note(course, therapist, co_therapist):
    session = services.session_log(course=course, actor=therapist, session_date=TODAY(), private_note="mine")
    services.session_update(session=session, actor=co_therapist, private_note="theirs")
    assert ProcessNote.objects.get(author=therapist).text == "mine"
    assert ProcessNote.objects.get(author=co_therapist).text == "theirs"


def test_goal_progress_only_on_the_course_goals(course, therapist, care_plan):
    other_goal = GoalFactory(care_plan=care_plan, description="Walk daily")
    with pytest.raises(ValidationError) as error:
        services.session_log(
            course=course, actor=therapist, session_date=TODAY(), goal_progress={other_goal: "achieved"}
        )
    assert "goal_progress" in error.value.message_dict
    assert not TherapySession.objects.exists()


def test_homework_set_in_one_session_is_reviewed_in_the_next(course, therapist):
    first = services.session_log(
        course=course, actor=therapist, session_date=TODAY() - timedelta(days=7), homework="Activity schedule"
    )
    second = services.session_log(course=course, actor=therapist, session_date=TODAY(), last_homework="done")
    homework = Homework.objects.get()
    assert (homework.assigned_in, homework.reviewed_in, homework.completion) == (first, second, "done")


def test_reviewing_homework_when_none_was_set_is_a_field_error(course, therapist):
    with pytest.raises(ValidationError) as error:
        services.session_log(course=course, actor=therapist, session_date=TODAY(), last_homework="done")
    assert "last_homework" in error.value.message_dict


def test_entered_in_error_hides_the_session_and_is_audited(course, therapist):
    session = services.session_log(course=course, actor=therapist, session_date=TODAY())
    with pytest.raises(ValidationError):
        services.session_enter_in_error(session=session, actor=therapist, reason=" ")
    services.session_enter_in_error(session=session, actor=therapist, reason="Wrong patient")
    assert not TherapySession.objects.exists()
    assert TherapySession.all_records.get().entered_in_error_reason == "Wrong patient"
    assert AuditEvent.objects.filter(action="enter_in_error", object_id=str(session.public_id)).exists()


# --- Courses --------------------------------------------------------------------------------


def test_course_goals_must_belong_to_the_patient(patient, therapist, cbt):
    foreign = GoalFactory(care_plan=CarePlanFactory())
    with pytest.raises(ValidationError) as error:
        services.course_open(patient=patient, actor=therapist, modality=cbt, goals=[foreign])
    assert "goals" in error.value.message_dict
    assert not TherapyCourse.objects.exists()


def test_course_needs_the_therapist_on_the_care_team(therapist, cbt):
    with pytest.raises(ValidationError):
        services.course_open(patient=PatientFactory(), actor=therapist, modality=cbt)


def test_course_status_moves_along_the_transition_table(course, therapist):
    services.course_update(course=course, actor=therapist, status=CourseStatus.ON_HOLD)
    services.course_update(course=course, actor=therapist, status=CourseStatus.COMPLETED)
    course.refresh_from_db()
    assert course.ended_on == TODAY()
    services.course_update(course=course, actor=therapist, status=CourseStatus.ACTIVE)
    course.refresh_from_db()
    assert course.ended_on is None


def test_reopening_when_another_course_of_that_modality_is_open_is_refused(course, therapist, patient, cbt):
    services.course_update(course=course, actor=therapist, status=CourseStatus.COMPLETED)
    services.course_open(patient=patient, actor=therapist, modality=cbt)
    with pytest.raises(ValidationError) as error:
        services.course_update(course=course, actor=therapist, status=CourseStatus.ACTIVE)
    assert "status" in error.value.message_dict


def test_course_update_audits_goal_changes(course, therapist, goals):
    services.course_update(course=course, actor=therapist, goals=[goals[0]], planned_sessions=20)
    event = AuditEvent.objects.get(action="update", object_id=str(course.public_id))
    assert event.changes["planned_sessions"] == [12, 20]
    assert event.changes["goals"][1] == [str(goals[0].public_id)]


def test_failed_session_leaves_no_course_behind(patient, therapist, cbt):
    with pytest.raises(ValidationError):
        services.session_log_for_patient(
            patient=patient, actor=therapist, modality=cbt, session_date=TODAY() + timedelta(days=5)
        )
    assert not TherapyCourse.objects.exists()
