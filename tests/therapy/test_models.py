"""The database's own guards on therapy rows (one test per constraint) and the modality catalog."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from therapy import services
from therapy.models import (
    Homework,
    Modality,
    ProcessNote,
    SessionGoalProgress,
    TherapyCourse,
    TherapySession,
)


@pytest.fixture
def session(course, therapist):  # type: ignore[no-untyped-def]
    return services.session_log(course=course, actor=therapist, session_date=timezone.localdate(), homework="Walk")


def _refused(model, pk, **values):  # type: ignore[no-untyped-def]
    manager = getattr(model, "all_records", model.objects)
    with pytest.raises(IntegrityError), transaction.atomic():
        manager.filter(pk=pk).update(**values)


def test_catalog_is_seeded_with_the_api_codes(db):
    codes = set(Modality.objects.values_list("code", flat=True))
    assert codes >= {"CBT", "DBT", "psychodynamic", "IPT", "ACT", "family", "couples", "group", "EMDR", "MI"}
    assert Modality.objects.get(code="family").involves_others
    assert not Modality.objects.get(code="CBT").involves_others


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("status", "paused_forever"),
        ("planned_frequency", "hourly"),
        ("usual_format", "fax"),
        ("planned_sessions", 0),
        ("usual_duration_minutes", 1000),
    ],
)
def test_course_constraints(course, field, value):
    _refused(TherapyCourse, course.pk, **{field: value})


def test_course_dates_in_order(course):
    _refused(TherapyCourse, course.pk, status="completed", ended_on=course.started_on - timedelta(days=1))


def test_closed_course_has_an_end_date(course):
    _refused(TherapyCourse, course.pk, status="completed")


def test_one_open_course_per_patient_therapist_modality(course, therapist):
    with pytest.raises(IntegrityError), transaction.atomic():
        TherapyCourse.objects.create(
            patient=course.patient, therapist=therapist, modality=course.modality, created_by=therapist
        )


@pytest.mark.parametrize(
    ("field", "value"),
    [("attendance", "vanished"), ("format", "fax"), ("risk_level", "extreme"), ("duration_minutes", 481)],
)
def test_session_constraints(session, field, value):
    _refused(TherapySession, session.pk, **{field: value})


def test_attended_session_has_a_duration(session):
    _refused(TherapySession, session.pk, duration_minutes=0)


def test_raised_risk_has_a_note(session):
    _refused(TherapySession, session.pk, risk_level="raised", risk_note="")


def test_goal_progress_constraints(session, goals):
    row = SessionGoalProgress.objects.create(session=session, goal=goals[0], progress="in_progress")
    _refused(SessionGoalProgress, row.pk, progress="sideways")
    with pytest.raises(IntegrityError), transaction.atomic():
        SessionGoalProgress.objects.create(session=session, goal=goals[0], progress="achieved")


def test_homework_constraints(session):
    homework = Homework.objects.get()
    _refused(Homework, homework.pk, completion="forgotten")
    _refused(Homework, homework.pk, description="")
    _refused(Homework, homework.pk, completion="done")  # reviewed needs the reviewing session
    with pytest.raises(IntegrityError), transaction.atomic():
        Homework.objects.create(assigned_in=session, description="Second")


def test_one_process_note_per_author_per_session(session, therapist):
    ProcessNote.objects.create(session=session, author=therapist, text="a")
    with pytest.raises(IntegrityError), transaction.atomic():
        ProcessNote.objects.create(session=session, author=therapist, text="b")


def test_modality_constraints(db):
    modality = Modality.objects.get(code="CBT")
    _refused(Modality, modality.pk, code="")
    _refused(Modality, modality.pk, default_duration_minutes=2)


def test_str_never_contains_patient_data(session):
    for obj in (session, session.course, Homework.objects.get()):
        text = str(obj)
        assert session.course.patient.family_name not in text
        assert "Walk" not in text
