"""Patient-specific dose limits and the warnings that come from the patient, not another drug.

A limit (DoseLimit, data from the labels) lowers the catalog maximum for this patient: age
(citalopram 20 mg/day above 60), hepatic impairment (the prescribing profile), renal function
(the latest eGFR), body weight (valproate 60 mg/kg/day at the latest weight); an indication
limit sets the maximum for that indication (alprazolam: anxiety 4 mg, panic disorder 10 mg).
The patient's warnings: a drug that needs a pregnancy prevention programme (valproate: MHRA
PREVENT) for someone who could become pregnant, and tobacco smoking with a CYP1A2 substrate.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from careplans.models import Patient
from medications.interactions import (
    InteractionWarning,
    interaction_warnings,
    patient_warnings,
    properties_of,
)
from medications.models import (
    HEPATIC_RANK,
    DoseLimit,
    HepaticImpairment,
    LabResult,
    LabTest,
    LimitCondition,
    Medication,
    PrescribingProfile,
)


@dataclass(frozen=True)
class PatientFacts:
    age: int
    hepatic_impairment: str
    smoking_status: str
    pregnancy_potential: str
    egfr: Decimal | None
    egfr_on: date | None
    weight_kg: Decimal | None
    weight_on: date | None


@dataclass(frozen=True)
class PatientLimit:
    max_daily_dose: Decimal
    reason: str
    source: str


def profile_of(patient: Patient) -> PrescribingProfile:
    """The patient's prescribing profile, or an unsaved default one (nothing recorded)."""
    return PrescribingProfile.objects.filter(patient=patient).first() or PrescribingProfile(patient=patient)


def _latest(patient: Patient, test: str, on: date) -> tuple[Decimal | None, date | None]:
    row = (
        LabResult.objects.filter(patient=patient, test=test, taken_on__lte=on)
        .order_by("-taken_on", "-id")
        .values_list("value", "taken_on")
        .first()
    )
    return (row[0], row[1]) if row else (None, None)


def patient_facts(*, patient: Patient, on: date) -> PatientFacts:
    """Three queries: the profile, the latest eGFR, the latest weight."""
    profile = profile_of(patient)
    egfr, egfr_on = _latest(patient, LabTest.EGFR, on)
    weight, weight_on = _latest(patient, LabTest.WEIGHT, on)
    return PatientFacts(
        age=patient.age_on(on),
        hepatic_impairment=profile.hepatic_impairment,
        smoking_status=profile.smoking_status,
        pregnancy_potential=profile.pregnancy_potential,
        egfr=egfr,
        egfr_on=egfr_on,
        weight_kg=weight,
        weight_on=weight_on,
    )


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def _applies(limit: DoseLimit, facts: PatientFacts, indication: str) -> PatientLimit | None:
    condition = limit.condition
    if condition == LimitCondition.AGE_ABOVE and facts.age > limit.threshold:  # type: ignore[operator]
        return PatientLimit(limit.max_daily_dose, f"{limit.reason}; the patient is {facts.age}", limit.source)  # type: ignore[arg-type]
    if (
        condition == LimitCondition.HEPATIC
        and HEPATIC_RANK[facts.hepatic_impairment] >= HEPATIC_RANK[limit.hepatic_level]
    ):
        level = HepaticImpairment(facts.hepatic_impairment).label.lower()
        return PatientLimit(limit.max_daily_dose, f"{limit.reason} (recorded: {level})", limit.source)  # type: ignore[arg-type]
    if condition == LimitCondition.EGFR_BELOW and facts.egfr is not None and facts.egfr < limit.threshold:  # type: ignore[operator]
        reason = f"{limit.reason}; latest eGFR {_fmt(facts.egfr)} on {facts.egfr_on:%Y-%m-%d}"
        return PatientLimit(limit.max_daily_dose, reason, limit.source)  # type: ignore[arg-type]
    if condition == LimitCondition.PER_KG and facts.weight_kg is not None:
        maximum = (limit.max_per_kg * facts.weight_kg).quantize(Decimal("0.001"))  # type: ignore[operator]
        reason = f"{_fmt(limit.max_per_kg)} mg/kg/day at {_fmt(facts.weight_kg)} kg ({facts.weight_on:%Y-%m-%d})"  # type: ignore[arg-type]
        return PatientLimit(maximum, reason, limit.source)
    if condition == LimitCondition.INDICATION and limit.keyword.lower() in indication.lower():
        return PatientLimit(limit.max_daily_dose, limit.reason, limit.source)  # type: ignore[arg-type]
    return None


def patient_limit(
    *, medication: Medication, facts: PatientFacts, indication: str = "", limits: Sequence[DoseLimit] | None = None
) -> PatientLimit | None:
    """The lowest maximum daily dose that applies to this patient, when it is below the catalog's
    (an indication limit counts even when it equals the catalog maximum: it names the indication)."""
    if limits is None:
        limits = list(DoseLimit.objects.filter(medication=medication, is_active=True))
    applying = [(limit, found) for limit in limits if (found := _applies(limit, facts, indication)) is not None]
    for_indication = [found for limit, found in applying if limit.condition == LimitCondition.INDICATION]
    ceiling = max(for_indication, key=lambda f: f.max_daily_dose) if for_indication else None
    lowering = [found for limit, found in applying if limit.condition != LimitCondition.INDICATION]
    if ceiling is not None:
        lowering.append(ceiling)
    best = min(lowering, key=lambda f: f.max_daily_dose, default=None)
    if best is None or (best is not ceiling and best.max_daily_dose >= medication.max_daily_dose):
        return None
    return best


def limit_error(*, medication: Medication, daily: Decimal, limit: PatientLimit) -> str | None:
    """The `dose` field error for a daily dose above the patient's limit (None: within it)."""
    if daily <= limit.max_daily_dose:
        return None
    unit = medication.unit
    if limit.max_daily_dose == 0:
        return (
            f"{medication.name} is not recommended for this patient: {limit.reason} ({limit.source}). "
            "Give an override reason to prescribe it."
        )
    return (
        f"{_fmt(daily)} {unit} a day is above this patient's maximum of {_fmt(limit.max_daily_dose)} {unit} a day "
        f"for {medication.name}: {limit.reason} ({limit.source}). Give an override reason to prescribe it."
    )


def start_warnings(*, patient: Patient, medication: Medication, on: date) -> list[InteractionWarning]:
    """Everything starting `medication` on `on` raises: interactions with current regimens and
    those in washout, then this patient's own warnings (pregnancy potential, smoking)."""
    warnings = interaction_warnings(patient=patient, medication=medication, on=on)
    facts = patient_facts(patient=patient, on=on)
    properties = properties_of([medication.pk]).get(medication.pk, frozenset())
    return warnings + patient_warnings(
        medication=medication,
        smoking_status=facts.smoking_status,
        pregnancy_potential=facts.pregnancy_potential,
        properties=properties,
    )
