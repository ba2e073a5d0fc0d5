"""Case review: a care manager flags, the consultant records; recommendations become plan tasks."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from careplans import case_reviews
from careplans.case_reviews import Recommendation
from careplans.models import CarePlanTask, CaseReview, TeamRole
from clinic.models import AuditEvent
from reminders.models import Reminder
from tests.factories import CareTeamMemberFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_flagging_puts_the_patient_on_the_list_and_tells_the_reviewers(patient, care_manager, prescriber):
    consultant = UserFactory(is_prescriber=True)
    CareTeamMemberFactory(patient=patient, user=consultant, role=TeamRole.PSYCHIATRIC_CONSULTANT)
    review = case_reviews.case_review_flag(patient=patient, actor=care_manager, reason="PHQ-9 flat at week 10")
    assert case_reviews.open_case_review_of(patient) == review
    assert {r.recipient for r in Reminder.objects.filter(kind="case_review")} == {prescriber, consultant}
    assert AuditEvent.objects.filter(object_type="careplans.casereview", action="create").count() == 1


def test_flagging_twice_is_refused(patient, care_manager):
    case_reviews.case_review_flag(patient=patient, actor=care_manager, reason="Not improving")
    with pytest.raises(ValidationError) as error:
        case_reviews.case_review_flag(patient=patient, actor=care_manager, reason="Again")
    assert "patient" in error.value.message_dict
    assert CaseReview.objects.count() == 1


def test_flag_needs_a_reason(patient, care_manager):
    with pytest.raises(ValidationError) as error:
        case_reviews.case_review_flag(patient=patient, actor=care_manager, reason="  ")
    assert "reason" in error.value.message_dict


def test_recording_completes_the_review_and_turns_recommendations_into_tasks(
    patient, care_plan, care_manager, prescriber
):
    case_reviews.case_review_flag(patient=patient, actor=care_manager, reason="Not improving")
    review = case_reviews.case_review_record(
        patient=patient,
        actor=prescriber,
        summary="Partial response to sertraline 100 mg.",
        recommendations=[
            Recommendation("Increase sertraline to 150 mg", TeamRole.PRESCRIBER, date(2026, 4, 1)),
            Recommendation("Add behavioural activation to CBT", TeamRole.THERAPIST),
            Recommendation("   "),
        ],
    )
    review.refresh_from_db()
    assert (review.status, review.reviewed_by) == ("completed", prescriber)
    assert "Increase sertraline to 150 mg" in review.recommendations
    tasks = list(case_reviews.open_tasks_of(care_plan))
    assert [(t.description, t.assigned_role, t.source_review) for t in tasks] == [
        ("Increase sertraline to 150 mg", "prescriber", review),
        ("Add behavioural activation to CBT", "therapist", review),
    ]
    assert case_reviews.open_case_review_of(patient) is None
    assert AuditEvent.objects.filter(object_type="careplans.careplantask").count() == 2


def test_an_unrequested_review_can_be_recorded(patient, care_plan, prescriber):
    review = case_reviews.case_review_record(
        patient=patient, actor=prescriber, summary="Doing well.", recommendations=[]
    )
    assert (review.status, review.reason, review.requested_by) == (
        "completed",
        case_reviews.UNREQUESTED_REASON,
        prescriber,
    )


def test_recommendations_need_a_care_plan(patient, prescriber):
    with pytest.raises(ValidationError) as error:
        case_reviews.case_review_record(
            patient=patient, actor=prescriber, summary="", recommendations=[Recommendation("Switch to mirtazapine")]
        )
    assert "recommendations" in error.value.message_dict
    assert not CaseReview.objects.exists()


def test_an_empty_review_is_refused(patient, care_plan, prescriber):
    with pytest.raises(ValidationError):
        case_reviews.case_review_record(patient=patient, actor=prescriber, summary=" ", recommendations=[])


def test_completing_a_task_is_audited_and_happens_once(patient, care_plan, prescriber, therapist):
    case_reviews.case_review_record(
        patient=patient, actor=prescriber, summary="", recommendations=[Recommendation("Add behavioural activation")]
    )
    task = CarePlanTask.objects.get()
    case_reviews.care_plan_task_complete(task=task, actor=therapist)
    task.refresh_from_db()
    assert (task.status, task.completed_by) == ("done", therapist)
    assert list(case_reviews.open_tasks_of(care_plan)) == []
    with pytest.raises(ValidationError):
        case_reviews.care_plan_task_complete(task=task, actor=therapist)
