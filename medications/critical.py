"""Critical results: lab values that must reach a prescriber at once (issue 11, item 5).

A value in one of these ranges opens a CriticalResult in the lab result's own transaction
and an urgent `critical_result` reminder for the team's prescribers and care manager
(services.lab_result_record). Each threshold names its source; the boundaries are tested
one by one in tests/medications/test_critical.py.

Sources:
- LITHIUM: lithium US label ("toxicity ... at levels above 1.5 mEq/L"; severe usually above
  2.0) and NHS SPS lithium monitoring ("toxicity from about 1.5 mmol/L"), CLINICAL.md b7, b11.
- ANC: clozapine US prescribing information / Clozapine REMS 2015 ANC tables (PMC9243911
  Tables 6 and 7, CLINICAL.md b8): general population interrupt below 1000/µL (moderate),
  severe below 500/µL; benign ethnic neutropenia (BEN) table: interrupt below 500/µL.
- SODIUM < 125, PLATELETS < 50, QTc > 500 ms or a rise > 60 ms on a QT-prolonging drug: the
  issue's critical table (CLINICAL.md b11 "usual laboratory critical values"; QTc per the
  AHA/ACCF scientific statement on prevention of torsade de pointes, Drew et al.,
  Circulation 2010;121:1047-1060).
- KOST_1990: mean critical limits of US medical centres, Kost GJ, JAMA 1990;263:704-707
  (as tabulated in the CLR 2023-2024 "Table of critical limits", stored page
  https://content.yudu.com/web/1gmmj/0A1gmn1/CLR2023-2024/html/8.html): calcium < 1.65 or
  > 3.22 mmol/L, glucose < 46 or > 484 mg/dL, sodium > 158 mmol/L, white cells
  < 2.0 x10^9/L, platelets > 910 x10^9/L, creatinine > 654 µmol/L.
- INR > 5.0: laboratory panic-value lists (e.g. https://citilab.org.pk/panic-values); a
  clinic should replace it with its own laboratory's limit.
"""

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from medications.models import CriticalSeverity, LabTest

LITHIUM_SOURCE = "Lithium US label; NHS SPS lithium monitoring (CLINICAL.md b7, b11)"
ANC_SOURCE = "Clozapine US prescribing information / REMS 2015 ANC tables, PMC9243911 Tables 6-7 (CLINICAL.md b8)"
ANC_BEN_SOURCE = "Clozapine REMS 2015 benign ethnic neutropenia table, PMC9243911 Table 7 (CLINICAL.md b8)"
ISSUE_SOURCE = "Usual laboratory critical values (CLINICAL.md b11)"
QTC_SOURCE = "AHA/ACCF statement on torsade de pointes, Drew et al., Circulation 2010 (CLINICAL.md b11)"
KOST_SOURCE = "Kost GJ, Critical limits for urgent clinician notification, JAMA 1990;263:704-707"
INR_SOURCE = "Laboratory panic-value lists (INR > 5.0); replace with the clinic laboratory's own limit"

LITHIUM_CRITICAL = Decimal("1.5")
LITHIUM_SEVERE = Decimal("2.0")
ANC_CRITICAL = Decimal("1000")
ANC_SEVERE = Decimal("500")
SODIUM_LOW = Decimal("125")
SODIUM_HIGH = Decimal("158")
PLATELETS_LOW = Decimal("50")
PLATELETS_HIGH = Decimal("910")
QTC_LIMIT = Decimal("500")
QTC_RISE = Decimal("60")
CALCIUM_LOW = Decimal("1.65")
CALCIUM_HIGH = Decimal("3.22")
GLUCOSE_LOW = Decimal("46")
GLUCOSE_HIGH = Decimal("484")
WBC_LOW = Decimal("2.0")
CREATININE_HIGH = Decimal("654")
INR_HIGH = Decimal("5.0")

# Drugs with a known risk of QT prolongation / torsade (CredibleMeds "known risk" list, and the
# ziprasidone label's QT warning), by catalog name. The mechanism-based catalog (issue 11,
# item 1) should replace this list with the drugs' QT risk tier.
QT_DRUGS = frozenset(
    {
        "Citalopram",
        "Escitalopram",
        "Haloperidol",
        "Haloperidol decanoate",
        "Ziprasidone",
        "Methadone",
        "Ondansetron",
        "Ciprofloxacin",
        "Clarithromycin",
        "Fluconazole",
        "Chlorpromazine",
        "Pimozide",
        "Thioridazine",
    }
)


@dataclass(frozen=True)
class CriticalFinding:
    code: str
    severity: str
    message: str
    source: str


@dataclass(frozen=True)
class Context:
    """What some rules need beyond the value itself."""

    benign_ethnic_neutropenia: bool = False
    previous_qtc: Decimal | None = None
    qt_drugs: tuple[str, ...] = ()


def _f(code: str, message: str, source: str, severe: bool = False) -> CriticalFinding:
    return CriticalFinding(code, CriticalSeverity.SEVERE if severe else CriticalSeverity.CRITICAL, message, source)


def _lithium(value: Decimal, context: Context) -> CriticalFinding | None:
    if value >= LITHIUM_SEVERE:
        return _f("lithium_severe_toxicity", "Toxic range, severe (lithium >= 2.0 mmol/L)", LITHIUM_SOURCE, True)
    if value >= LITHIUM_CRITICAL:
        return _f("lithium_toxic", "Toxic range (lithium >= 1.5 mmol/L)", LITHIUM_SOURCE)
    return None


def _anc(value: Decimal, context: Context) -> CriticalFinding | None:
    if value < ANC_SEVERE:
        source = ANC_BEN_SOURCE if context.benign_ethnic_neutropenia else ANC_SOURCE
        return _f("anc_severe", "ANC < 500/µL: severe neutropenia, interrupt clozapine", source, True)
    if value < ANC_CRITICAL and not context.benign_ethnic_neutropenia:
        return _f("anc_moderate", "ANC < 1000/µL: moderate neutropenia, interrupt clozapine", ANC_SOURCE)
    return None


def _sodium(value: Decimal, context: Context) -> CriticalFinding | None:
    if value < SODIUM_LOW:
        return _f("sodium_low", "Sodium < 125 mmol/L: severe hyponatraemia", ISSUE_SOURCE)
    if value > SODIUM_HIGH:
        return _f("sodium_high", "Sodium > 158 mmol/L: severe hypernatraemia", KOST_SOURCE)
    return None


def _platelets(value: Decimal, context: Context) -> CriticalFinding | None:
    if value < PLATELETS_LOW:
        return _f("platelets_low", "Platelets < 50 x10^9/L", ISSUE_SOURCE)
    if value > PLATELETS_HIGH:
        return _f("platelets_high", "Platelets > 910 x10^9/L", KOST_SOURCE)
    return None


def _qtc(value: Decimal, context: Context) -> CriticalFinding | None:
    if value > QTC_LIMIT:
        return _f("qtc_over_500", "QTc > 500 ms: torsade risk", QTC_SOURCE)
    if context.qt_drugs and context.previous_qtc is not None and value - context.previous_qtc > QTC_RISE:
        drugs = ", ".join(context.qt_drugs)
        return _f("qtc_rise_over_60", f"QTc rose > 60 ms since the previous ECG, on {drugs}"[:300], QTC_SOURCE)
    return None


def _range(code: str, label: str, unit: str, low: Decimal | None, high: Decimal | None, source: str) -> Callable:
    def rule(value: Decimal, context: Context) -> CriticalFinding | None:
        if low is not None and value < low:
            return _f(f"{code}_low", f"{label} < {low} {unit}", source)
        if high is not None and value > high:
            return _f(f"{code}_high", f"{label} > {high} {unit}", source)
        return None

    return rule


RULES: dict[str, Callable[[Decimal, Context], CriticalFinding | None]] = {
    LabTest.LITHIUM_LEVEL: _lithium,
    LabTest.ANC: _anc,
    LabTest.SODIUM: _sodium,
    LabTest.PLATELETS: _platelets,
    LabTest.QTC: _qtc,
    LabTest.CALCIUM: _range("calcium", "Calcium", "mmol/L", CALCIUM_LOW, CALCIUM_HIGH, KOST_SOURCE),
    LabTest.FASTING_GLUCOSE: _range("glucose", "Glucose", "mg/dL", GLUCOSE_LOW, GLUCOSE_HIGH, KOST_SOURCE),
    LabTest.FBC: _range("wbc", "White cells", "x10^9/L", WBC_LOW, None, KOST_SOURCE),
    LabTest.CREATININE: _range("creatinine", "Creatinine", "µmol/L", None, CREATININE_HIGH, KOST_SOURCE),
    LabTest.INR: _range("inr", "INR", "", None, INR_HIGH, INR_SOURCE),
}


def critical_finding(*, test: str, value: Decimal, context: Context | None = None) -> CriticalFinding | None:
    """The critical rule this value meets, or None."""
    rule = RULES.get(test)
    return rule(value, context or Context()) if rule else None
