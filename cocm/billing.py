"""Minutes in a calendar month -> the CMS collaborative-care codes (a pure function).

Source: CLINICAL.md, table row "CoCM billing (US)": 99492 = first 70 min in the first
month; 99493 = first 60 min in subsequent months; 99494 = each additional 30 min; per the
CPT midpoint rule 99493 is reportable from 31 min. Applied as written:
- first month: 99492 from 70 minutes (the row gives no midpoint for it);
- subsequent month: 99493 from 31 minutes (the row's midpoint rule);
- 99494: one unit per full additional 30 minutes beyond the 70 (first month) or 60
  (subsequent month) that the primary code covers, only with the primary code;
- G2214 is not in CLINICAL.md. CMS added it in 2021 (CY2021 Physician Fee Schedule, CMS-1734-F;
  NGS Medicare "The Psychiatric Collaborative Care Model": "Initial or subsequent psychiatric
  collaborative care management, first 30 minutes in a month") for months too short for
  99492/99493. Here: reportable from 16 minutes (the midpoint of its 30, the same CPT rule
  the row applies to 99493) when the month's primary code is not reached, never with 99494.
- the first month: the first calendar month with minutes of an episode; an episode ends
  after six consecutive months without collaborative-care services, and a new one then
  starts (AMA episode definition, as quoted by NC Medicaid's CoCM bulletin of 2025-09-17).
A clinic should confirm these with its payers; the numbers are constants here.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

FIRST_MONTH_MINIMUM = 70  # 99492
FIRST_MONTH_COVERS = 70
SUBSEQUENT_MINIMUM = 31  # 99493, midpoint of its 60
SUBSEQUENT_COVERS = 60
ADDITIONAL_BLOCK = 30  # 99494
G2214_MINIMUM = 16  # midpoint of 30
EPISODE_GAP_MONTHS = 6


@dataclass(frozen=True)
class MonthCodes:
    month: date  # the first day of the calendar month
    minutes: int
    first_month: bool
    codes: tuple[tuple[str, int], ...]  # (code, units), e.g. (("99493", 1), ("99494", 2))

    @property
    def label(self) -> str:
        return ", ".join(code if units == 1 else f"{code} x{units}" for code, units in self.codes) or "none"


def month_codes(minutes: int, *, first_month: bool) -> tuple[tuple[str, int], ...]:
    minimum, covers, primary = (
        (FIRST_MONTH_MINIMUM, FIRST_MONTH_COVERS, "99492")
        if first_month
        else (SUBSEQUENT_MINIMUM, SUBSEQUENT_COVERS, "99493")
    )
    if minutes >= minimum:
        additional = max(0, minutes - covers) // ADDITIONAL_BLOCK
        return ((primary, 1),) + ((("99494", additional),) if additional else ())
    if minutes >= G2214_MINIMUM:
        return (("G2214", 1),)
    return ()


def _month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def months_billed(totals: Iterable[tuple[date, int]]) -> list[MonthCodes]:
    """[(first day of a month, minutes that month), ...] of one patient -> the codes, in order."""
    result = []
    previous: int | None = None
    for month, minutes in sorted(totals):
        index = _month_index(month)
        first = previous is None or index - previous > EPISODE_GAP_MONTHS
        result.append(MonthCodes(month, minutes, first, month_codes(minutes, first_month=first)))
        previous = index
    return result


def month_codes_sql(minutes: str, first_month: str) -> dict[str, str]:
    """`month_codes` as SQL expressions, code -> units, for a report that bills every patient-month
    of the clinic in the database (reports/cocm_minutes.py). `minutes` is an integer column,
    `first_month` a 0/1 column. Only the constants above are interpolated. Kept beside the Python
    rule and checked against it (tests/cocm/test_billing.py) so the two cannot drift apart.

    Integer division truncates toward zero in PostgreSQL and SQLite alike; a subsequent month's
    minutes - 60 is then at least 31 - 60 = -29, which truncates to 0 units as max(0, ...) does."""
    first = f"({first_month} = 1 AND {minutes} >= {FIRST_MONTH_MINIMUM})"
    subsequent = f"({first_month} = 0 AND {minutes} >= {SUBSEQUENT_MINIMUM})"
    return {
        "99492": f"CASE WHEN {first} THEN 1 ELSE 0 END",
        "99493": f"CASE WHEN {subsequent} THEN 1 ELSE 0 END",
        "99494": (
            f"CASE WHEN {first} THEN ({minutes} - {FIRST_MONTH_COVERS}) / {ADDITIONAL_BLOCK} "
            f"WHEN {subsequent} THEN ({minutes} - {SUBSEQUENT_COVERS}) / {ADDITIONAL_BLOCK} ELSE 0 END"
        ),
        "G2214": f"CASE WHEN NOT {first} AND NOT {subsequent} AND {minutes} >= {G2214_MINIMUM} THEN 1 ELSE 0 END",
    }
