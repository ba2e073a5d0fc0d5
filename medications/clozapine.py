"""Clozapine start and restart rules (issue 11, item 6).

Clozaril US label, section 2.5 and 5.1 (CLINICAL.md b8, b11):
- before starting, a baseline ANC of at least 1500/µL (general population), or at least
  1000/µL with benign ethnic neutropenia (BEN), where the label asks for at least two
  baseline ANCs; "baseline" is taken here as the 7 days before the start;
- after a gap in dosing of 2 days or more, restart at 12.5 mg once or twice daily and
  re-titrate (the first-dose risks of orthostatic hypotension, bradycardia, syncope return).
"""

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

CLOZAPINE = "Clozapine"
BASELINE_ANC_MIN = Decimal("1500")
BEN_BASELINE_ANC_MIN = Decimal("1000")
BEN_BASELINE_COUNT = 2
BASELINE_WINDOW_DAYS = 7
RETITRATION_GAP_DAYS = 2
RETITRATION_SOURCE = "Clozaril US label, sections 2.5 and 5.1 (CLINICAL.md b11)"
BASELINE_SOURCE = "Clozaril US label, section 2.5; Clozapine REMS ANC tables (CLINICAL.md b8)"


def baseline_anc_error(*, ancs: Sequence[tuple[date, Decimal]], start_date: date, ben: bool) -> str | None:
    """Why clozapine may not start on `start_date` given the patient's ANCs, or None."""
    recent = sorted((taken, value) for taken, value in ancs if 0 <= (start_date - taken).days <= BASELINE_WINDOW_DAYS)
    minimum = BEN_BASELINE_ANC_MIN if ben else BASELINE_ANC_MIN
    if not recent:
        return (
            f"Clozapine needs a baseline ANC (at least {minimum}/µL) taken in the {BASELINE_WINDOW_DAYS} days "
            "before the start: enter the result first."
        )
    if ben and len(recent) < BEN_BASELINE_COUNT:
        return "With benign ethnic neutropenia, clozapine needs two baseline ANCs in the 7 days before the start."
    taken, value = recent[-1]
    if value < minimum:
        band = " (benign ethnic neutropenia table)" if ben else ""
        return (
            f"The baseline ANC of {value.normalize():f}/µL on {taken:%Y-%m-%d} is below {minimum}/µL{band}: "
            "clozapine may not start."
        )
    return None


def retitration_message(gap_days: int) -> str:
    return (
        f"Clozapine restarted after {gap_days} days without it: restart at 12.5 mg once or twice daily and re-titrate."
    )
