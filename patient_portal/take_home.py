"""The plan the patient takes home (issue 17 item 5, issue 16 item 6): plain words only.

What is in it: goals (with a measured target and where they stand), the relapse-prevention
plan, the safety plan, current medications and doses, and the patient's own score chart.
What is never in it: the team's formulation (care-plan summary), diagnoses codes, session
notes, private notes, flags, case reviews, alerts.
"""

from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from careplans.models import GoalStatus, Patient
from careplans.selectors import goals_of, open_care_plan_of
from medications.models import Regimen, RegimenStatus
from outcomes.models import Assessment
from outcomes.timeline import ScorePoint, Timeline, timeline_build
from patient_portal.models import SafetyPlan
from patient_portal.targets import targets_of

SHOWN_GOAL_STATUSES = (GoalStatus.PROPOSED, GoalStatus.ACTIVE, GoalStatus.ACHIEVED)
RELAPSE_SECTIONS = (
    ("warning_signs", "Early warning signs to watch for"),
    ("triggers", "Things that can set me back"),
    ("coping_strategies", "What helps me stay well (coping strategies)"),
    ("people_to_contact", "People I will contact"),
    ("crisis_steps", "What to do if things get worse"),
)


@dataclass
class TakeHomePlan:
    goals: list[dict[str, Any]] = field(default_factory=list)
    relapse: list[dict[str, str]] = field(default_factory=list)
    safety_steps: list[dict[str, str]] = field(default_factory=list)
    safety_agreed_on: Any = None
    medications: list[dict[str, str]] = field(default_factory=list)
    chart: Timeline | None = None
    prepared_on: Any = None

    @property
    def is_empty(self) -> bool:
        return not (self.goals or self.relapse or self.safety_steps or self.medications or self.chart)


def _dose(value: Any) -> str:
    return format(value.normalize(), "f")


def take_home_plan(patient: Patient) -> TakeHomePlan:
    today = timezone.localdate()
    plan = TakeHomePlan(prepared_on=today)
    care_plan = open_care_plan_of(patient)
    if care_plan is not None:
        goals = list(goals_of(care_plan).filter(status__in=SHOWN_GOAL_STATUSES))
        progress = targets_of(patient, goals)
        for goal in goals:
            measured = progress.get(goal.pk)
            plan.goals.append(
                {
                    "description": goal.description,
                    "target": measured.target_text if measured else goal.target,
                    "now": measured.current_text if measured else "",
                    "met": measured.met if measured else None,
                    "due_date": goal.due_date,
                    "achieved": goal.status == GoalStatus.ACHIEVED,
                }
            )
        relapse = getattr(care_plan, "relapse_plan", None)
        if relapse is not None:
            plan.relapse = [
                {"title": title, "text": getattr(relapse, name)}
                for name, title in RELAPSE_SECTIONS
                if getattr(relapse, name)
            ]
    safety = SafetyPlan.objects.filter(patient=patient).first()
    if safety is not None and not safety.is_empty:
        plan.safety_steps = [step for step in safety.steps() if step["text"]]
        plan.safety_agreed_on = safety.agreed_on
    regimens = Regimen.objects.filter(
        patient=patient, status=RegimenStatus.ACTIVE, entered_in_error_at__isnull=True
    ).select_related("medication")
    plan.medications = [
        {
            "name": r.medication.name,
            "dose": f"{_dose(r.dose)} {r.get_unit_display()}",
            "how_often": r.get_frequency_display(),
            "what_for": r.indication,
        }
        for r in regimens.order_by("medication__name")
    ]
    scores = [
        ScorePoint(
            day=a.administered_on, instrument=a.instrument, total=a.total_score, severity=a.severity, source=a.source
        )
        for a in Assessment.objects.filter(patient=patient, instrument__in=["PHQ-9", "GAD-7"]).order_by(
            "administered_on"
        )
    ]
    if scores:
        plan.chart = timeline_build(scores=scores, today=today)
    return plan
