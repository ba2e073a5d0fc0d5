"""Long-acting injectable schedules: when the next injection is due and when it counts as
missed (issue 11, item 8). Pure functions of the regimen's frequency and its injections.

Missed-dose windows, per the labels' dosing windows:
- monthly: Invega Sustenna "may be given up to 7 days before or after the monthly time point";
  Abilify Maintena, monthly, no sooner than 26 days after the previous one;
- every 3 months: Invega Trinza "up to 2 weeks before or after the 3-month time point";
- every 6 months: Invega Hafyera "up to 2 weeks before or 3 weeks after the 6-month time point";
- every 2 and every 4 weeks (Risperdal Consta, fluphenazine and haloperidol decanoate,
  olanzapine pamoate, Aristada): no label window is this tight; 3 and 7 days are the
  clinic defaults here, so a missed depot is chased within the week.
"""

import calendar
from collections.abc import Sequence
from datetime import date, timedelta

from medications.models import INJECTION_INTERVALS, Frequency

MISSED_AFTER_DAYS: dict[str, int] = {
    Frequency.EVERY_2_WEEKS: 3,
    Frequency.EVERY_4_WEEKS: 7,
    Frequency.MONTHLY: 7,
    Frequency.EVERY_3_MONTHS: 14,
    Frequency.EVERY_6_MONTHS: 21,
}
ANNOUNCE_DAYS = 7  # "next injection due" reaches the inbox a week ahead


def add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def next_injection_due(*, frequency: str, start_date: date, given: Sequence[date]) -> date | None:
    """The first injection is due on the start date; each later one an interval after the last."""
    if frequency not in INJECTION_INTERVALS:
        return None
    if not given:
        return start_date
    days, months = INJECTION_INTERVALS[frequency]
    last = max(given)
    return add_months(last, months) if months else last + timedelta(days=days)


def missed_on(*, frequency: str, due: date) -> date:
    """The first day the injection due on `due` counts as missed."""
    return due + timedelta(days=MISSED_AFTER_DAYS[frequency] + 1)
