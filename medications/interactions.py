"""Known dangerous combinations, from the curated InteractionRule table.

The table is small, hand-kept and cited (migration 0002), NOT a complete interaction
database: NLM's RxNav interaction API, which others relied on, was switched off on
2 January 2024 (CLINICAL.md b10). A missing warning never means a combination is safe.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from careplans.models import Patient
from medications.models import CURRENT_REGIMEN_STATUSES, InteractionRule, Medication, Regimen


@dataclass(frozen=True)
class InteractionWarning:
    drug: str
    other_drug: str
    other_regimen: UUID | None
    severity: str
    risk: str
    advice: str
    source: str

    @property
    def message(self) -> str:
        return f"{self.drug} + {self.other_drug}: {self.risk}."

    def as_dict(self) -> dict[str, str | None]:
        return {
            "drugs": f"{self.drug} + {self.other_drug}",
            "drug": self.drug,
            "other_drug": self.other_drug,
            "other_regimen": str(self.other_regimen) if self.other_regimen else None,
            "severity": self.severity,
            "risk": self.risk,
            "advice": self.advice,
            "source": self.source,
            "message": self.message,
        }


def active_rules() -> list[InteractionRule]:
    return list(InteractionRule.objects.filter(is_active=True).order_by("id"))


def _side_matches(medication_id: int | None, drug_class: str, medication: Medication) -> bool:
    if medication_id is not None:
        return medication_id == medication.pk
    return drug_class == medication.drug_class


def _rule_matches(rule: InteractionRule, first: Medication, second: Medication) -> bool:
    a_first = _side_matches(rule.medication_a_id, rule.drug_class_a, first)
    b_second = _side_matches(rule.medication_b_id, rule.drug_class_b, second)
    a_second = _side_matches(rule.medication_a_id, rule.drug_class_a, second)
    b_first = _side_matches(rule.medication_b_id, rule.drug_class_b, first)
    return (a_first and b_second) or (a_second and b_first)


def interactions_between(
    *, medication: Medication, others: Iterable[tuple[Medication, UUID | None]], rules: Sequence[InteractionRule]
) -> list[InteractionWarning]:
    """Warnings for taking `medication` together with each of `others` (drug, its regimen id)."""
    warnings = []
    for other, regimen_id in others:
        if other.pk == medication.pk:
            continue
        for rule in rules:
            if _rule_matches(rule, medication, other):
                warnings.append(
                    InteractionWarning(
                        drug=medication.name,
                        other_drug=other.name,
                        other_regimen=regimen_id,
                        severity=rule.severity,
                        risk=rule.risk,
                        advice=rule.advice,
                        source=rule.source,
                    )
                )
                break  # one warning per pair of drugs is enough
    return warnings


def interaction_warnings(
    *, patient: Patient, medication: Medication, exclude_regimen: Regimen | None = None
) -> list[InteractionWarning]:
    """What starting `medication` would combine with among the patient's current regimens."""
    current = Regimen.objects.filter(patient=patient, status__in=CURRENT_REGIMEN_STATUSES).select_related("medication")
    if exclude_regimen is not None:
        current = current.exclude(pk=exclude_regimen.pk)
    others = [(regimen.medication, regimen.public_id) for regimen in current]
    if not others:
        return []
    return interactions_between(medication=medication, others=others, rules=active_rules())


def warnings_for_regimens(regimens: Sequence[Regimen]) -> dict[int, list[InteractionWarning]]:
    """Each current regimen's warnings against the same patient's other current regimens.
    Two queries whatever the number of regimens (the rules, the patients' current regimens)."""
    current_ids = [r.pk for r in regimens if r.status in CURRENT_REGIMEN_STATUSES]
    if not current_ids:
        return {}
    patient_ids = {r.patient_id for r in regimens if r.pk in current_ids}
    by_patient: dict[int, list[Regimen]] = defaultdict(list)
    for regimen in Regimen.objects.filter(
        patient_id__in=patient_ids, status__in=CURRENT_REGIMEN_STATUSES
    ).select_related("medication"):
        by_patient[regimen.patient_id].append(regimen)
    rules = active_rules()
    result: dict[int, list[InteractionWarning]] = {}
    for regimen in regimens:
        if regimen.pk not in current_ids:
            continue
        others = [(o.medication, o.public_id) for o in by_patient[regimen.patient_id] if o.pk != regimen.pk]
        result[regimen.pk] = interactions_between(medication=regimen.medication, others=others, rules=rules)
    return result
