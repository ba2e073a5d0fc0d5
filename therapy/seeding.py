"""Demo data: most demo patients get a course of therapy with a realistic run of sessions.

Called by `seed_demo` with only the patients that run created, so a re-run adds nothing;
a patient who already has a course is skipped too. Everything goes through the services,
so the audit trail and the reminders (no-shows, overdue courses) are the real ones.
"""

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from careplans.models import Goal, Patient, TeamRole
from careplans.seeding import DemoClinic
from careplans.selectors import care_team_of
from clinic.models import User
from therapy import services
from therapy.models import (
    FREQUENCY_INTERVAL_DAYS,
    Attendance,
    Frequency,
    GoalProgress,
    HomeworkCompletion,
    Modality,
    RiskLevel,
    SessionFormat,
    TherapyCourse,
)
from therapy.selectors import open_homework_of

# Modality codes weighted roughly as a community clinic's caseload.
MODALITY_WEIGHTS = {
    "CBT": 10,
    "IPT": 3,
    "ACT": 3,
    "DBT": 2,
    "psychodynamic": 2,
    "MI": 2,
    "EMDR": 2,
    "family": 1,
    "couples": 1,
    "group": 1,
}
ATTENDANCE_WEIGHTS = {
    Attendance.ATTENDED: 84,
    Attendance.CANCELLED: 6,
    Attendance.LATE_CANCEL: 4,
    Attendance.NO_SHOW: 6,
}
SUMMARIES = [
    "Reviewed the week's mood ratings; identified two situations that triggered low mood and practised "
    "challenging the associated thoughts.",
    "Worked on behavioural activation: planned three valued activities for the coming week.",
    "Explored sleep routine and agreed on a fixed wake time; discussed worry postponement.",
    "Discussed a conflict at home; role-played asking for support. Patient engaged and reflective.",
    "Reviewed progress towards goals; mood somewhat better, energy still low in the mornings.",
    "Focused on values clarification and small steps back towards work.",
    "Practised a grounding exercise and reviewed the safety plan together; no new concerns.",
    "Explored avoidance of social contact; agreed on a graded plan to meet one friend.",
]
HOMEWORK = [
    "Thought record for two situations this week",
    "Activity schedule: one pleasant activity each day",
    "Keep the sleep diary and the fixed wake time",
    "Practise the breathing exercise twice daily",
    "Write down three things that went well each evening",
    "Call one friend before the next session",
]
PRIVATE_NOTES = [
    "My sense is the patient minimised the conflict with her mother; revisit gently.",
    "Noticed my own frustration when the homework was skipped again; bring to supervision.",
    "Possible rupture at the end of the session; repair next time.",
]
PARTICIPANTS = {
    "family": "Patient, mother, younger brother",
    "couples": "Patient and partner",
    "group": "Patient and 6 group members",
}


def demo_therapy_seed(clinic: DemoClinic) -> None:
    codes = {m.code: m for m in Modality.objects.filter(code__in=MODALITY_WEIGHTS)}
    if not codes:
        return
    choices = [code for code in MODALITY_WEIGHTS if code in codes]
    weights = [MODALITY_WEIGHTS[code] for code in choices]
    for patient in clinic.patients:
        if clinic.rng.random() < 0.15 or TherapyCourse.all_records.filter(patient=patient).exists():
            continue  # some patients are on medication alone
        therapist = next((m.user for m in care_team_of(patient) if m.role == TeamRole.THERAPIST), None)
        if therapist is None:
            continue
        modality = codes[clinic.rng.choices(choices, weights)[0]]
        _seed_course(patient=patient, therapist=therapist, modality=modality, rng=clinic.rng)


@transaction.atomic
def _seed_course(*, patient: Patient, therapist: User, modality: Modality, rng: random.Random) -> None:
    today = timezone.localdate()
    frequency = rng.choice([Frequency.WEEKLY, Frequency.WEEKLY, Frequency.EVERY_2_WEEKS])
    started = today - timedelta(weeks=rng.randint(3, 22))
    goals = list(Goal.objects.filter(care_plan__patient=patient))
    linked = rng.sample(goals, k=min(len(goals), rng.randint(1, 2)))
    course = services.course_open(
        patient=patient,
        actor=therapist,
        modality=modality,
        planned_frequency=frequency,
        planned_sessions=rng.choice([12, 16, 20]),
        usual_format=rng.choice([SessionFormat.IN_PERSON, SessionFormat.IN_PERSON, SessionFormat.TELEHEALTH]),
        goals=linked,
        started_on=started,
    )
    lapsed = rng.random() < 0.12  # a course that went quiet: the daily scan will flag it
    end = today - timedelta(days=30) if lapsed else today
    for number, day in enumerate(_session_dates(started, end, FREQUENCY_INTERVAL_DAYS[frequency], rng)):
        _seed_session(course=course, therapist=therapist, day=day, number=number, goals=linked, rng=rng)


def _session_dates(start: date, end: date, interval: int, rng: random.Random) -> list[date]:
    days, day = [], start
    while day <= end:
        days.append(day)
        day += timedelta(days=interval + rng.choice([0, 0, 0, 1, -1]))
    return days


def _seed_session(
    *, course: TherapyCourse, therapist: User, day: date, number: int, goals: list[Goal], rng: random.Random
) -> None:
    attendance = (
        Attendance.ATTENDED
        if number == 0
        else rng.choices(list(ATTENDANCE_WEIGHTS), list(ATTENDANCE_WEIGHTS.values()))[0]
    )
    if attendance != Attendance.ATTENDED:
        services.session_log(course=course, actor=therapist, session_date=day, attendance=attendance)
        return
    stage = (
        GoalProgress.NOT_STARTED
        if number == 0
        else (GoalProgress.ACHIEVED if number > 10 and rng.random() < 0.3 else GoalProgress.IN_PROGRESS)
    )
    raised = rng.random() < 0.01
    services.session_log(
        course=course,
        actor=therapist,
        session_date=day,
        attendance=attendance,
        duration_minutes=course.usual_duration_minutes + rng.choice([0, 0, 0, -5, 5]),
        participants=PARTICIPANTS.get(course.modality.code, ""),
        summary=rng.choice(SUMMARIES),
        risk_level=RiskLevel.RAISED if raised else rng.choice([RiskLevel.NONE] * 6 + [RiskLevel.LOW]),
        risk_note="Passive thoughts of death this week; no plan or intent. Safety plan reviewed." if raised else "",
        goal_progress={goal: stage for goal in goals},
        homework=rng.choice(HOMEWORK) if rng.random() < 0.7 else "",
        last_homework=_homework_review(course, rng),
        private_note=rng.choice(PRIVATE_NOTES) if rng.random() < 0.2 else "",
    )


def _homework_review(course: TherapyCourse, rng: random.Random) -> str:
    if open_homework_of(course) is None:
        return ""
    return rng.choices([HomeworkCompletion.DONE, HomeworkCompletion.PARTLY, HomeworkCompletion.NOT_DONE], [5, 3, 2])[0]
