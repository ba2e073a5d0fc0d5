"""Demo data: PHQ-9 and GAD-7 histories over several months, through the services.

Registered at order 90, after the medication and therapy seeders. Trajectories rotate so
the demo shows each flag: responding, remitting, not improving, and a recent start; two
patients answer item 9 above 0 (one followed up, one left open so the banner shows).
Only the patients this run created are touched, so a re-run adds nothing.
"""

import random
from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from careplans.models import CareTeamMember, Patient, TeamRole
from careplans.seeding import DemoClinic
from clinic.models import User
from outcomes import services
from outcomes.instruments import INSTRUMENTS
from outcomes.models import RiskOutcome, RiskPlan

# (name, baseline range, where the score ends as a fraction of baseline)
TRAJECTORIES = [
    ("responding", (15, 20), 0.45),
    ("remitting", (14, 19), 0.18),
    ("not_improving", (15, 21), 0.9),
    ("responding", (12, 16), 0.5),
    ("recent", (10, 18), 0.85),
]


def _answers(instrument: str, total: int, rng: random.Random, item9: int = 0) -> list[int]:
    """A plausible answer vector for `total`: points spread over random items."""
    definition = INSTRUMENTS[instrument]
    top = definition.max_answer
    answers = [0] * len(definition.items)
    fillable = list(range(len(answers)))
    if instrument == "PHQ-9":
        answers[8] = item9
        fillable.remove(8)
    remaining = max(0, min(total - sum(answers), top * len(fillable)))
    while remaining:
        index = rng.choice([i for i in fillable if answers[i] < top])
        answers[index] += 1
        remaining -= 1
    return answers


def _score(baseline: int, end_fraction: float, step: int, steps: int, rng: random.Random, ceiling: int) -> int:
    progress = min(1.0, step / max(steps * 0.7, 1))
    value = baseline + (baseline * end_fraction - baseline) * progress + rng.randint(-2, 2)
    return max(0, min(ceiling, round(value)))


def _history(
    patient: Patient, actor: User, prescriber: User | None, number: int, rng: random.Random, today: date
) -> None:
    name, (low, high), end_fraction = TRAJECTORIES[number % len(TRAJECTORIES)]
    weeks = rng.randint(3, 6) if name == "recent" else rng.randint(14, 30)
    start = today - timedelta(weeks=weeks)
    baseline = rng.randint(low, high)
    steps = weeks // 2
    safety_patient = number in (2, 7)  # two patients answer item 9 above 0 once
    for step in range(steps + 1):
        day = start + timedelta(weeks=2 * step)
        total = _score(baseline, end_fraction, step, steps, rng, ceiling=24)
        item9 = 1 if safety_patient and step == steps - (1 if number == 2 else 0) else 0
        services.assessment_record(
            patient=patient,
            actor=actor,
            instrument="PHQ-9",
            responses=_answers("PHQ-9", total + item9, rng, item9),
            administered_on=day,
        )
        if number % 2 == 0 and step % 2 == 0:
            gad = _score(round(baseline * 0.8), end_fraction, step, steps, rng, ceiling=21)
            services.assessment_record(
                patient=patient,
                actor=actor,
                instrument="GAD-7",
                responses=_answers("GAD-7", gad, rng),
                administered_on=day,
            )
        if number % 3 == 0 and step in (0, steps):
            wsas = _score(baseline + 8, end_fraction, step, steps, rng, ceiling=40)
            services.assessment_record(
                patient=patient,
                actor=actor,
                instrument="WSAS",
                responses=_answers("WSAS", wsas, rng),
                administered_on=day,
            )
    if number == 2 and prescriber is not None:  # followed up; patient 7's alert stays open
        services.safety_follow_up_record(
            patient=patient,
            actor=prescriber,
            format="phone",
            outcome=RiskOutcome.PASSIVE_IDEATION,
            plan=RiskPlan.SAFETY_PLAN,
            plan_details="Called the same day. Passive thoughts, no intent or plan. "
            "Safety plan reviewed, crisis line number given; therapist to check in at Thursday's session.",
        )


def seed_outcomes(clinic: DemoClinic) -> None:
    today = timezone.localdate()
    members = CareTeamMember.objects.filter(patient__in=clinic.patients, ended_at__isnull=True).select_related("user")
    by_patient: dict[int, dict[str, User]] = {}
    for member in members:
        by_patient.setdefault(member.patient_id, {}).setdefault(member.role, member.user)
    for number, patient in enumerate(clinic.patients):
        team = by_patient.get(patient.pk, {})
        actor = team.get(TeamRole.CARE_MANAGER) or next(iter(team.values()), None)
        if actor is None or number % 8 == 7 and number != 7:  # a few patients have no scores yet
            continue
        with transaction.atomic():
            _history(patient, actor, team.get(TeamRole.PRESCRIBER), number, clinic.rng, today)
