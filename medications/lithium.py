"""Lithium: who needs levels at least 3-monthly, and the level after an interacting drug.

UK NHS Specialist Pharmacy Service, Lithium monitoring (https://sps.nhs.uk/monitorings/lithium-monitoring,
CLINICAL.md b7): levels at least every 3 months for people aged 65 or over, taking drugs
that interact with lithium, at risk of impaired renal or thyroid function, with raised
calcium, or whose last level was 0.8 mmol/L or higher; starting an interacting drug
(NSAIDs, ACE inhibitors, angiotensin-II receptor blockers, thiazide diuretics) calls for a
level 5-7 days later (lithium US label, Drug interactions; SPS).
"""

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from medications.models import LabTest
from medications.monitoring import ExtraCheck, IntervalCap, Observation

# By catalog name until the mechanism-based catalog (issue 11 item 1) carries a
# "raises lithium levels" property; names not (yet) in the catalog are harmless here.
LITHIUM_INTERACTING = frozenset(
    {
        # NSAIDs
        "Ibuprofen",
        "Naproxen",
        "Diclofenac",
        "Celecoxib",
        # ACE inhibitors
        "Lisinopril",
        "Enalapril",
        "Ramipril",
        # Angiotensin-II receptor blockers
        "Losartan",
        "Candesartan",
        "Valsartan",
        # Thiazide diuretics
        "Hydrochlorothiazide",
        "Bendroflumethiazide",
        "Chlorthalidone",
    }
)
RISK_AGE = 65
HIGH_LAST_LEVEL = Decimal("0.8")
EGFR_REDUCED = Decimal("60")  # KDIGO 2012 G3a or worse
TSH_RANGE = (Decimal("0.4"), Decimal("4.0"))  # usual adult reference interval, mIU/L
CALCIUM_RAISED = Decimal("2.6")  # adjusted calcium reference 2.2-2.6 mmol/L
THREE_MONTHS_DAYS = 91
LEVEL_AFTER_INTERACTING_DRUG = (7, 2)  # due 7 days after, a level from day 5 counts


def _latest(results: Sequence[Observation], test: str) -> list[Decimal]:
    values = [r.value for r in sorted(results, key=lambda r: r.taken_on) if r.test == test and r.value is not None]
    return values


def risk_reasons(*, age: int, interacting: Iterable[str], results: Sequence[Observation]) -> list[str]:
    """Why this patient is in an NHS SPS 3-monthly group (empty: not in one)."""
    reasons = []
    if age >= RISK_AGE:
        reasons.append(f"age {RISK_AGE} or over")
    names = sorted(set(interacting))
    if names:
        reasons.append("on " + ", ".join(names))
    egfr = _latest(results, LabTest.EGFR)
    if egfr and (egfr[-1] < EGFR_REDUCED or (len(egfr) >= 3 and egfr[-3] > egfr[-2] > egfr[-1])):
        reasons.append("renal function reduced or falling")
    tsh = _latest(results, LabTest.TSH)
    if tsh and not TSH_RANGE[0] <= tsh[-1] <= TSH_RANGE[1]:
        reasons.append("thyroid function abnormal")
    calcium = _latest(results, LabTest.CALCIUM)
    if calcium and calcium[-1] > CALCIUM_RAISED:
        reasons.append("raised calcium")
    level = _latest(results, LabTest.LITHIUM_LEVEL)
    if level and level[-1] >= HIGH_LAST_LEVEL:
        reasons.append("last level 0.8 mmol/L or higher")
    return reasons


def interval_cap(reasons: list[str]) -> IntervalCap | None:
    if not reasons:
        return None
    return IntervalCap(
        LabTest.LITHIUM_LEVEL, THREE_MONTHS_DAYS, f"At least every 3 months (NHS SPS): {'; '.join(reasons)}"[:200]
    )


def interacting_drug_checks(*, lithium_start: date, others: Iterable[tuple[str, date]]) -> list[ExtraCheck]:
    """A level 5-7 days after each interacting drug started after lithium (others: name, start)."""
    offset, window = LEVEL_AFTER_INTERACTING_DRUG
    return [
        ExtraCheck(LabTest.LITHIUM_LEVEL, started, offset, window, f"5-7 days after starting {name} (NHS SPS)")
        for name, started in others
        if name in LITHIUM_INTERACTING and started > lithium_start
    ]
