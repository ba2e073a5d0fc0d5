"""Measured goal targets: progress computed from check-ins, questionnaires and measurements,
never typed (issue 17 item 4; FHIR Goal.target.measure / detailQuantity, CLINICAL.md FHIR table)."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Avg

from careplans.models import Goal, Patient
from clinic.access import Action, require
from clinic.audit import audit_record
from clinic.models import AuditAction, User
from medications.models import LabResult, LabTest
from outcomes.models import Assessment
from patient_portal.models import CheckIn, GoalTarget, TargetDirection, TargetMeasure

# Check-in measures are judged on the average of the last 7 days of check-ins, so one bad night
# does not undo a goal; questionnaire and weight measures on the latest value.
CHECK_IN_WINDOW = timedelta(days=7)
INSTRUMENT_OF = {TargetMeasure.PHQ9: "PHQ-9", TargetMeasure.GAD7: "GAD-7", TargetMeasure.WSAS: "WSAS"}
LAB_OF = {TargetMeasure.WEIGHT: LabTest.WEIGHT, TargetMeasure.BMI: LabTest.BMI}
CHECK_IN_FIELD = {TargetMeasure.SLEEP: "sleep_hours", TargetMeasure.ACTIVITY: "activity_minutes"}
UNITS = {TargetMeasure.SLEEP: "h", TargetMeasure.ACTIVITY: "min", TargetMeasure.WEIGHT: "kg", TargetMeasure.BMI: ""}


@dataclass(frozen=True)
class Progress:
    target: GoalTarget
    current: Decimal | None
    as_of: date | None
    basis: str  # where `current` comes from, in words
    met: bool | None  # None: nothing measured yet

    @property
    def target_text(self) -> str:
        return f"{TargetMeasure(self.target.measure).label} {TargetDirection(self.target.direction).label} {_num(self.target.value)}{_unit(self.target.measure)}"

    @property
    def current_text(self) -> str:
        return "not measured yet" if self.current is None else f"{_num(self.current)}{_unit(self.target.measure)}"


def _num(value: Decimal) -> str:
    return format(Decimal(value).quantize(Decimal("0.1")).normalize(), "f")


def _unit(measure: str) -> str:
    unit = UNITS.get(TargetMeasure(measure), "")
    return f" {unit}" if unit else ""


def _met(direction: str, current: Decimal, value: Decimal) -> bool:
    if direction == TargetDirection.AT_MOST:
        return current <= value
    if direction == TargetDirection.BELOW:
        return current < value
    return current >= value


def progress_of(target: GoalTarget, patient: Patient) -> Progress:
    measure = TargetMeasure(target.measure)
    current: Decimal | None = None
    as_of: date | None = None
    basis = ""
    if measure in INSTRUMENT_OF:
        latest = (
            Assessment.objects.filter(patient=patient, instrument=INSTRUMENT_OF[measure])
            .order_by("-administered_on", "-created_at")
            .values_list("total_score", "administered_on")
            .first()
        )
        if latest:
            current, as_of, basis = Decimal(latest[0]), latest[1], "latest questionnaire"
    elif measure in CHECK_IN_FIELD:
        name = CHECK_IN_FIELD[measure]
        last_day = (
            CheckIn.objects.filter(patient=patient, **{f"{name}__isnull": False})
            .order_by("-answered_on")
            .values_list("answered_on", flat=True)
            .first()
        )
        if last_day:
            average = CheckIn.objects.filter(
                patient=patient, answered_on__gt=last_day - CHECK_IN_WINDOW, **{f"{name}__isnull": False}
            ).aggregate(value=Avg(name))["value"]
            current, as_of, basis = Decimal(str(average)), last_day, "average of the last 7 days of check-ins"
    else:
        latest_lab = (
            LabResult.objects.filter(patient=patient, test=LAB_OF[measure])
            .order_by("-taken_on", "-id")
            .values_list("value", "taken_on")
            .first()
        )
        if latest_lab:
            current, as_of, basis = Decimal(latest_lab[0]), latest_lab[1], "latest measurement"
    met = None if current is None else _met(target.direction, current, target.value)
    return Progress(target=target, current=current, as_of=as_of, basis=basis, met=met)


def targets_of(patient: Patient, goals: list[Goal]) -> dict[int, Progress]:
    """goal pk -> progress, for the goals that have a measured target."""
    found = GoalTarget.objects.filter(goal__in=goals)
    return {target.goal_id: progress_of(target, patient) for target in found}


@transaction.atomic
def target_set(*, goal: Goal, actor: User, measure: str, direction: str, value: Decimal) -> GoalTarget:
    require(actor, Action.EDIT_CARE_PLAN)
    if measure not in TargetMeasure.values:
        raise ValidationError({"measure": ["Choose a measure from the list."]})
    if direction not in TargetDirection.values:
        raise ValidationError({"direction": ["Choose at most, below or at least."]})
    target = GoalTarget.objects.filter(goal=goal).first() or GoalTarget(goal=goal, set_by=actor)
    before = {"measure": target.measure, "direction": target.direction, "value": str(target.value or "")}
    target.measure, target.direction, target.value, target.set_by = measure, direction, value, actor
    target.full_clean()
    target.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE if before["measure"] else AuditAction.CREATE,
        obj=target,
        patient_id=goal.care_plan.patient.public_id,
        changes={k: [before[k] or None, str(getattr(target, k))] for k in before},
    )
    return target
