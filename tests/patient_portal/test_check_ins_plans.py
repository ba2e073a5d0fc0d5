"""Check-ins and their concerns, the safety plan API (versions, 409), measured goal targets, the
take-home plan's contents, and what the timeline shows (issue 17 items 2-5)."""

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from outcomes.timeline import ScorePoint, timeline_build
from patient_portal import submissions, take_home, targets
from patient_portal.models import CheckIn, GoalTarget, SafetyPlanVersion
from patient_portal.worklist import check_in_worklist_items
from reminders.models import Reminder, ReminderKind
from tests.factories import GoalFactory
from tests.patient_portal.helpers import make_link, token_of

pytestmark = pytest.mark.django_db


def _check_in(patient, user, **answers):  # type: ignore[no-untyped-def]
    token = token_of(make_link(patient, user, purpose="check_in").url)
    return submissions.check_in_submit(token=token, data={"mood": 6} | answers, address="10.1.1.1")


def test_check_in_through_the_api_and_its_validation(api, care_manager, patient):
    token = token_of(make_link(patient, care_manager, purpose="check_in").url)
    bad = api().post(f"/api/v1/self-report/{token}/", {"mood": 11, "sleep_hours": 30}, format="json")
    assert bad.status_code == 400 and set(bad.json()) == {"mood", "sleep_hours"}
    good = api().post(
        f"/api/v1/self-report/{token}/",
        {"mood": 7, "sleep_hours": "7.5", "activity_minutes": 30, "medication_taken": "yes", "note": "ok"},
        format="json",
    )
    assert good.status_code == 201
    saved = CheckIn.objects.get(patient=patient)
    assert (saved.mood, saved.sleep_hours, saved.activity_minutes, saved.note) == (7, Decimal("7.5"), 30, "ok")


@pytest.mark.parametrize(("mood", "concern"), [(2, True), (3, False), (0, True)])
def test_mood_2_or_below_reaches_the_inbox_and_the_worklist(care_manager, prescriber, patient, mood, concern):
    _check_in(patient, care_manager, mood=mood)
    rows = Reminder.objects.filter(kind=ReminderKind.CHECK_IN_CONCERN)
    assert rows.filter(recipient=prescriber).exists() is concern
    assert rows.filter(recipient=care_manager).exists() is concern
    items = check_in_worklist_items(prescriber)
    assert bool(items) is concern
    if concern:
        assert set(items[0]) == {"kind", "patient", "title", "due_date", "severity", "url"}
        assert items[0]["patient"] == patient and f"mood {mood}/10" in items[0]["title"]


def test_three_no_in_a_row_raise_a_concern_two_do_not(care_manager, prescriber, patient, outsider):
    for _ in range(2):
        _check_in(patient, care_manager, medication_taken="no")
    assert not Reminder.objects.filter(kind=ReminderKind.CHECK_IN_CONCERN).exists()
    _check_in(patient, care_manager, medication_taken="")  # no medication answer: does not break the run
    _check_in(patient, care_manager, medication_taken="no")
    assert Reminder.objects.filter(kind=ReminderKind.CHECK_IN_CONCERN, recipient=prescriber).exists()
    assert any("not taken at the last 3 check-ins" in item["title"] for item in check_in_worklist_items(prescriber))
    assert check_in_worklist_items(outsider) == []


def test_a_yes_breaks_the_run(care_manager, patient):
    for taken in ("no", "no", "yes", "no"):
        _check_in(patient, care_manager, medication_taken=taken)
    assert not Reminder.objects.filter(kind=ReminderKind.CHECK_IN_CONCERN).exists()


def test_safety_plan_api_versions_and_409(api, care_manager, therapist, outsider, patient):
    url = f"/api/v1/patients/{patient.public_id}/safety-plan/"
    empty = api(care_manager).get(url)
    assert empty.status_code == 200 and empty.json()["version"] == 0
    first = api(care_manager).patch(
        url, {"version": 0, "warning_signs": "Staying in bed", "agreed_on": "2025-01-02"}, format="json"
    )
    assert first.status_code == 200 and first.json()["version"] == 1
    second = api(therapist).patch(url, {"version": 1, "people_to_ask": "Sam"}, format="json")
    assert second.status_code == 200
    body = second.json()
    assert body["version"] == 2 and body["warning_signs"] == "Staying in bed" and body["people_to_ask"] == "Sam"
    stale = api(care_manager).patch(url, {"version": 1, "people_to_ask": "Alex"}, format="json")
    assert stale.status_code == 409 and stale.json()["current"]["people_to_ask"] == "Sam"
    assert api(care_manager).patch(url, {"people_to_ask": "x"}, format="json").status_code == 400
    assert [v["version"] for v in body["history"]] == [2, 1]
    assert SafetyPlanVersion.objects.count() == 2
    assert api(outsider).get(url).status_code == 404
    assert api(outsider).patch(url, {"version": 2}, format="json").status_code == 404


def test_safety_follow_up_records_safety_plan_reviewed(api, care_manager, prescriber, patient):
    token = token_of(make_link(patient, care_manager).url)
    api().post(f"/api/v1/self-report/{token}/", {"responses": [0, 0, 0, 0, 0, 0, 0, 0, 1]}, format="json")
    response = api(prescriber).post(
        "/api/v1/safety-follow-ups/",
        {
            "patient": str(patient.public_id),
            "format": "phone",
            "outcome": "passive_ideation",
            "plan": "safety_plan",
            "plan_details": "Went through the plan",
            "safety_plan_reviewed": True,
        },
        format="json",
    )
    assert response.status_code == 201 and response.json()["safety_plan_reviewed"] is True
    from patient_portal.safety_plans import last_reviewed_on

    assert last_reviewed_on(patient) == timezone.localdate()


def test_goal_progress_is_computed(care_manager, patient, care_plan):
    from tests.outcomes.helpers import record

    today = timezone.localdate()
    sleep_goal = GoalFactory(care_plan=care_plan, description="Sleep better", domain="lifestyle")
    phq_goal = GoalFactory(care_plan=care_plan, description="Feel better", domain="symptom")
    targets.target_set(
        goal=sleep_goal, actor=care_manager, measure="sleep_hours", direction="at_least", value=Decimal(7)
    )
    targets.target_set(goal=phq_goal, actor=care_manager, measure="phq9_total", direction="below", value=Decimal(5))
    progress = targets.targets_of(patient, [sleep_goal, phq_goal])
    assert progress[sleep_goal.pk].met is None and progress[sleep_goal.pk].current_text == "not measured yet"
    for hours in ("6", "8"):
        _check_in(patient, care_manager, sleep_hours=hours)
    record(patient, care_manager, "PHQ-9", 5, today - timedelta(days=1))
    progress = targets.targets_of(patient, [sleep_goal, phq_goal])
    assert progress[sleep_goal.pk].current == Decimal(7) and progress[sleep_goal.pk].met is True  # 7-day average
    assert progress[phq_goal.pk].current == 5 and progress[phq_goal.pk].met is False  # 5 is not below 5
    with pytest.raises(ValidationError):
        targets.target_set(goal=phq_goal, actor=care_manager, measure="iq", direction="below", value=Decimal(5))
    assert GoalTarget.objects.count() == 2


def test_take_home_plan_has_plain_content_and_nothing_internal(care_manager, prescriber, patient, care_plan):
    from tests.reports import builders

    care_plan.summary = "INTERNAL FORMULATION"
    care_plan.save()
    GoalFactory(care_plan=care_plan, description="Back to work part time", status="active")
    GoalFactory(care_plan=care_plan, description="Old goal", status="discontinued")
    builders.regimen(patient, "Sertraline", timezone.localdate() - timedelta(days=30), by=prescriber)
    plan = take_home.take_home_plan(patient)
    assert [g["description"] for g in plan.goals] == ["Back to work part time"]
    assert plan.medications and plan.medications[0]["name"] == "Sertraline"
    assert "INTERNAL FORMULATION" not in str(plan.__dict__)


def test_print_view_is_audited_and_has_no_internal_text(browser_client, care_manager, patient, care_plan):
    from clinic.models import AuditEvent

    care_plan.summary = "INTERNAL FORMULATION"
    care_plan.save()
    response = browser_client(care_manager).get(f"/patients/{patient.public_id}/plan/print/")
    assert response.status_code == 200
    assert "INTERNAL FORMULATION" not in response.content.decode()
    assert "@media print" in Path("static/patient_portal/portal.css").read_text()
    assert AuditEvent.objects.filter(action="print", patient_id=patient.public_id).exists()


def test_timeline_draws_self_reports_hollow_and_a_check_in_row():
    today = date(2025, 6, 1)

    class C:  # shaped like CheckIn
        def __init__(self, day: date, mood: int, taken: str) -> None:
            self.answered_on, self.mood, self.medication_taken = day, mood, taken
            self.sleep_hours, self.activity_minutes = Decimal("6.5"), 20

    timeline = timeline_build(
        scores=[
            ScorePoint(day=date(2025, 5, 1), instrument="PHQ-9", total=14, severity="moderate"),
            ScorePoint(day=date(2025, 5, 15), instrument="PHQ-9", total=9, severity="mild", source="self_report"),
        ],
        check_ins=[C(date(2025, 5, 20), 2, "no"), C(date(2025, 5, 21), 6, "yes")],
        today=today,
    )
    points = timeline.panels[0].points
    assert "point-self-report" not in points[0].css and "point-self-report" in points[1].css
    assert points[1].title.endswith("self-reported")
    assert [c.css for c in timeline.check_ins] == ["check-in check-in-med-no check-in-low", "check-in check-in-med-yes"]
    assert timeline.check_ins[0].y > timeline.check_ins[1].y  # lower mood lower on the row
    assert timeline.counts["check_ins"] == 2 and timeline.counts["self_reported"] == 1
    assert "sleep 6.5 h" in timeline.check_ins[0].title


def test_scheduled_check_in_links_are_sent_once_per_interval(care_manager, patient):
    from django.core import mail

    from patient_portal.models import CheckInSchedule, PatientLink
    from patient_portal.scheduling import check_in_links_due, measurement_links_due

    patient.email = "pat@example.org"
    patient.save()
    CheckInSchedule.objects.create(patient=patient, frequency="weekly", set_by=care_manager)
    today = timezone.localdate()
    assert check_in_links_due(today) == []
    assert check_in_links_due(today) == []  # already sent this week
    assert PatientLink.objects.filter(purpose="check_in").count() == 1
    assert measurement_links_due(today) == [] and not PatientLink.objects.filter(purpose="questionnaire").exists()
    assert len(mail.outbox) <= 1


def test_measurement_links_when_the_clinic_turns_them_on(care_manager, patient):
    from django.core import mail
    from django.test import TestCase

    from patient_portal.models import PatientLink, PortalSettings
    from patient_portal.scheduling import measurement_links_due
    from tests.outcomes.helpers import record

    today = timezone.localdate()
    record(patient, care_manager, "PHQ-9", 12, today - timedelta(weeks=5))
    patient.email = "pat@example.org"
    patient.save()
    assert measurement_links_due(today) == [] and not PatientLink.objects.exists()  # off by default
    PortalSettings.objects.create(measurement_links=True)
    with TestCase.captureOnCommitCallbacks(execute=True):
        measurement_links_due(today)
    link = PatientLink.objects.get()
    assert (link.purpose, link.instrument, link.created_by) == ("questionnaire", "PHQ-9", care_manager)
    assert len(mail.outbox) == 1 and "/p/" in mail.outbox[0].body
    measurement_links_due(today)  # one a week at most
    assert PatientLink.objects.count() == 1
