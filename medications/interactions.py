"""Known dangerous combinations, from mechanisms: each catalog drug carries its properties as
data (DrugProperty: serotonergic, MAO inhibition, QT tier, CYP1A2/2D6/3A4 and UGT roles, ...);
class rules combine properties, pair rules name what a label singles out (InteractionRule).

For one pair of drugs, every hazard (serotonin syndrome, QT, raised levels, ...) gives at most
one warning: a rule naming a drug wins over a class or property rule of the same hazard (the
label's own advice), then the most severe. A drug stopped within its washout window still
counts for the rules marked `washout` (CLINICAL.md b11: fluoxetine 5 weeks before an MAOI,
2 weeks for other SSRIs, SNRIs, TCAs, and after an MAOI).

The table is small, hand-kept and cited (migrations 0002, 0003), NOT a complete interaction
database: NLM's RxNav interaction API, which others relied on, was switched off on
2 January 2024 (CLINICAL.md b10). A missing warning never means a combination is safe.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from django.db.models import Max, Q
from django.utils import timezone

from careplans.models import Patient
from medications.models import (
    CURRENT_REGIMEN_STATUSES,
    SEVERITY_RANK,
    DrugProperty,
    DrugPropertyKind,
    InteractionRule,
    Medication,
    PregnancyPotential,
    PrescribingProfile,
    Regimen,
    RegimenStatus,
    SmokingStatus,
)


@dataclass(frozen=True)
class InteractionWarning:
    drug: str
    other_drug: str
    other_regimen: UUID | None
    severity: str
    risk: str
    advice: str
    source: str
    code: str = ""
    mechanism: str = ""
    action: str = ""
    hazard: str = ""
    other_stopped_on: date | None = None
    washout_days_left: int | None = None

    @property
    def drugs(self) -> str:
        return f"{self.drug} + {self.other_drug}" if self.other_drug else self.drug

    @property
    def message(self) -> str:
        if self.washout_days_left is not None and self.other_stopped_on is not None:
            days = "day" if self.washout_days_left == 1 else "days"
            return (
                f"{self.drug} + {self.other_drug} (stopped {self.other_stopped_on:%Y-%m-%d}, "
                f"{self.washout_days_left} {days} of its washout left): {self.risk}."
            )
        return f"{self.drugs}: {self.risk}."

    @property
    def is_blocking(self) -> bool:
        return SEVERITY_RANK[self.severity] <= SEVERITY_RANK["major"]

    def as_dict(self) -> dict[str, str | int | None]:
        return {
            "code": self.code,
            "drugs": self.drugs,
            "drug": self.drug,
            "other_drug": self.other_drug,
            "other_regimen": str(self.other_regimen) if self.other_regimen else None,
            "severity": self.severity,
            "risk": self.risk,
            "mechanism": self.mechanism,
            "action": self.action,
            "advice": self.advice,
            "source": self.source,
            "message": self.message,
            "washout_days_left": self.washout_days_left,
        }


@dataclass(frozen=True)
class Other:
    """A drug the new one would combine with: a current regimen, or a stopped one in washout."""

    medication: Medication
    regimen_id: UUID | None = None
    stopped_on: date | None = None
    washout_days_left: int | None = None


@dataclass
class RuleBook:
    """The active rules and the properties of the drugs in question (two queries)."""

    rules: list[InteractionRule]
    properties: dict[int, frozenset[str]] = field(default_factory=dict)

    def props(self, medication: Medication) -> frozenset[str]:
        return self.properties.get(medication.pk, frozenset())


def active_rules() -> list[InteractionRule]:
    return list(InteractionRule.objects.filter(is_active=True).order_by("id"))


def properties_of(medication_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    properties: dict[int, set[str]] = defaultdict(set)
    for medication_id, kind in DrugProperty.objects.filter(medication_id__in=set(medication_ids)).values_list(
        "medication_id", "kind"
    ):
        properties[medication_id].add(kind)
    return {pk: frozenset(kinds) for pk, kinds in properties.items()}


def rule_book(medication_ids: Iterable[int]) -> RuleBook:
    return RuleBook(active_rules(), properties_of(medication_ids))


def _side_matches(
    medication_id: int | None, drug_class: str, prop: str, medication: Medication, props: frozenset[str]
) -> bool:
    if medication_id is not None:
        return medication_id == medication.pk
    if drug_class:
        return drug_class == medication.drug_class
    return prop in props


def _rule_matches(rule: InteractionRule, first: Medication, second: Medication, book: RuleBook) -> bool:
    p1, p2 = book.props(first), book.props(second)
    a_first = _side_matches(rule.medication_a_id, rule.drug_class_a, rule.property_a, first, p1)
    b_second = _side_matches(rule.medication_b_id, rule.drug_class_b, rule.property_b, second, p2)
    if a_first and b_second:
        return True
    a_second = _side_matches(rule.medication_a_id, rule.drug_class_a, rule.property_a, second, p2)
    b_first = _side_matches(rule.medication_b_id, rule.drug_class_b, rule.property_b, first, p1)
    return a_second and b_first


def rules_for_pair(
    first: Medication, second: Medication, book: RuleBook, *, washout_only: bool = False
) -> list[InteractionRule]:
    """One rule per hazard: a rule naming a drug beats a class rule, then the most severe wins."""
    best: dict[str, InteractionRule] = {}
    for rule in book.rules:
        if washout_only and not rule.washout:
            continue
        if not _rule_matches(rule, first, second, book):
            continue
        current = best.get(rule.hazard)
        if current is None or _rank(rule) < _rank(current):
            best[rule.hazard] = rule
    return sorted(best.values(), key=_rank)


def _rank(rule: InteractionRule) -> tuple[int, int, int]:
    return (0 if rule.is_pair_rule else 1, SEVERITY_RANK[rule.severity], rule.pk or 0)


def interactions_between(
    *, medication: Medication, others: Iterable[Other], book: RuleBook
) -> list[InteractionWarning]:
    """Warnings for taking `medication` together with each of `others`, most severe first."""
    warnings = []
    for other in others:
        if other.medication.pk == medication.pk:
            continue
        washout = other.washout_days_left is not None
        for rule in rules_for_pair(medication, other.medication, book, washout_only=washout):
            warnings.append(
                InteractionWarning(
                    drug=medication.name,
                    other_drug=other.medication.name,
                    other_regimen=other.regimen_id,
                    severity=rule.severity,
                    risk=rule.risk,
                    advice=rule.advice,
                    source=rule.source,
                    code=rule.code,
                    mechanism=rule.mechanism,
                    action=rule.action,
                    hazard=rule.hazard,
                    other_stopped_on=other.stopped_on if washout else None,
                    washout_days_left=other.washout_days_left,
                )
            )
    warnings.sort(key=lambda w: SEVERITY_RANK[w.severity])
    return warnings


def washout_days_left(regimen: Regimen, on: date) -> int | None:
    """Days of the stopped regimen's washout still to run on `on` (None: none left, or no washout).
    Stopped on day 0 with a 35-day window: day 34 has 1 day left, day 35 none."""
    if regimen.status != RegimenStatus.STOPPED or regimen.stopped_on is None or not regimen.medication.washout_days:
        return None
    window = regimen.medication.washout_days
    left = min(window - (on - regimen.stopped_on).days, window)  # a start backdated before the stop: all of it
    return left if left > 0 else None


# Longest washout in the catalog bounds which stopped regimens are read at all.
def _longest_washout() -> int:
    return Medication.objects.aggregate(longest=Max("washout_days"))["longest"] or 0


def _others_of(regimens: Iterable[Regimen], on: date, exclude_pk: int | None = None) -> list[Other]:
    others = []
    for regimen in regimens:
        if regimen.pk == exclude_pk or regimen.entered_in_error_at is not None:
            continue
        if regimen.status in CURRENT_REGIMEN_STATUSES:
            others.append(Other(regimen.medication, regimen.public_id))
            continue
        left = washout_days_left(regimen, on)
        if left is not None:
            others.append(Other(regimen.medication, regimen.public_id, regimen.stopped_on, left))
    return others


def _candidates(patient_ids: Iterable[int], on: date) -> Q:
    window = _longest_washout()
    return Q(patient_id__in=set(patient_ids)) & (
        Q(status__in=CURRENT_REGIMEN_STATUSES)
        | Q(status=RegimenStatus.STOPPED, stopped_on__gte=on - timedelta(days=window), medication__washout_days__gt=0)
    )


def interaction_warnings(
    *, patient: Patient, medication: Medication, exclude_regimen: Regimen | None = None, on: date | None = None
) -> list[InteractionWarning]:
    """What taking `medication` from `on` (default today) would combine with: the patient's
    current regimens and those stopped within their washout window."""
    on = on or timezone.localdate()
    regimens = Regimen.objects.filter(_candidates([patient.pk], on)).select_related("medication")
    others = _others_of(regimens, on, exclude_pk=exclude_regimen.pk if exclude_regimen else None)
    if not others:
        return []
    book = rule_book([medication.pk, *(o.medication.pk for o in others)])
    return interactions_between(medication=medication, others=others, book=book)


def warnings_for_regimens(
    regimens: Sequence[Regimen], *, on: date | None = None
) -> dict[int, list[InteractionWarning]]:
    """Each current regimen's warnings against the same patient's other current regimens and
    those stopped within their washout, then the patient's own warnings (pregnancy potential,
    smoking). Five queries whatever the number of regimens (longest washout, the patients'
    regimens, the rules, the drugs' properties, the prescribing profiles)."""
    on = on or timezone.localdate()
    current = [r for r in regimens if r.status in CURRENT_REGIMEN_STATUSES]
    if not current:
        return {}
    by_patient: dict[int, list[Regimen]] = defaultdict(list)
    for regimen in Regimen.objects.filter(_candidates({r.patient_id for r in current}, on)).select_related(
        "medication"
    ):
        by_patient[regimen.patient_id].append(regimen)
    book = rule_book({r.medication_id for rows in by_patient.values() for r in rows})
    profiles = {p.patient_id: p for p in PrescribingProfile.objects.filter(patient_id__in=by_patient.keys())}
    result = {}
    for regimen in current:
        profile = profiles.get(regimen.patient_id) or PrescribingProfile()
        others = _others_of(by_patient[regimen.patient_id], on, regimen.pk)
        result[regimen.pk] = interactions_between(medication=regimen.medication, others=others, book=book)
        result[regimen.pk] += patient_warnings(
            medication=regimen.medication,
            smoking_status=profile.smoking_status,
            pregnancy_potential=profile.pregnancy_potential,
            properties=book.props(regimen.medication),
        )
    return result


CYP1A2_SUBSTRATE_KINDS = (DrugPropertyKind.CYP1A2_SUBSTRATE_SENSITIVE, DrugPropertyKind.CYP1A2_SUBSTRATE_MODERATE)


def property_holders(kind: DrugPropertyKind, medication_ids: Iterable[int]) -> set[int]:
    """Which of these drugs have the property (e.g. the CYP1A2 substrates smoking affects)."""
    return set(
        DrugProperty.objects.filter(medication_id__in=set(medication_ids), kind=kind).values_list(
            "medication_id", flat=True
        )
    )


# --- Warnings about the patient and one drug (no other drug) ---------------------------------

SMOKING_SOURCE = (
    "Clozaril US PI, section 7 (cigarette smoking induces CYP1A2; stopping raises clozapine levels); "
    "Zyprexa US PI, section 12.3; FDA Table of Substrates, Inhibitors and Inducers (smoking: moderate CYP1A2 inducer)"
)


def patient_warnings(
    *, medication: Medication, smoking_status: str, pregnancy_potential: str, properties: frozenset[str]
) -> list[InteractionWarning]:
    """Warnings about this patient and this drug alone (an InteractionWarning with no other drug)."""
    warnings = []
    if DrugPropertyKind.PREGNANCY_PREVENTION in properties and pregnancy_potential != PregnancyPotential.NO:
        recorded = PregnancyPotential(pregnancy_potential).label.lower()
        warnings.append(
            InteractionWarning(
                drug=medication.name,
                other_drug="",
                other_regimen=None,
                severity="major",
                risk=f"Major birth defects and neurodevelopmental harm (pregnancy potential: {recorded})",
                advice="Before starting: a negative pregnancy test, highly effective contraception and the "
                "Pregnancy Prevention Programme (annual risk acknowledgement form); record 'cannot become "
                "pregnant' on the prescribing profile where that is the case.",
                source="MHRA valproate Pregnancy Prevention Programme (PREVENT); Depakote US PI, boxed warning",
                code="pregnancy-prevention-programme",
                mechanism="Teratogenicity",
                action="monitor",
                hazard="other",
            )
        )
    if smoking_status == SmokingStatus.SMOKER and properties.intersection(CYP1A2_SUBSTRATE_KINDS):
        warnings.append(smoking_warning(medication.name, started=True))
    return warnings


def smoking_warning(drug: str, *, started: bool) -> InteractionWarning:
    if started:
        return InteractionWarning(
            drug=drug,
            other_drug="",
            other_regimen=None,
            severity="moderate",
            risk="Tobacco smoking lowers its levels (CYP1A2 induction)",
            advice="A higher dose may be needed while smoking; if the patient stops smoking, levels rise within "
            "days: reduce the dose and check the level.",
            source=SMOKING_SOURCE,
            code="smoking-cyp1a2-induction",
            mechanism="Polycyclic hydrocarbons in smoke induce CYP1A2",
            action="monitor",
            hazard="exposure_down",
        )
    return InteractionWarning(
        drug=drug,
        other_drug="",
        other_regimen=None,
        severity="major",
        risk="Stopping smoking raises its levels (CYP1A2 induction ends; clozapine up to about 50 % within 2-4 weeks)",
        advice="Reduce the dose stepwise over the first week and check the level (clozapine, olanzapine); "
        "nicotine replacement does not induce CYP1A2.",
        source=SMOKING_SOURCE,
        code="smoking-stopped-cyp1a2",
        mechanism="CYP1A2 induction by smoke wears off",
        action="reduce",
        hazard="exposure_up",
    )
