"""Which monitoring test is due, overdue or done: a pure function of the protocol's steps,
the regimen's start and dose changes, the patient's lab results and today.

How a step becomes due dates (the protocols themselves are data, seeded in migration 0002
from the published schedules named in each protocol's `source`):

- ONCE: one test `offset_days` after the start (day 0 = baseline).
- AFTER_DOSE_CHANGE: one test `offset_days` after the start and after every dose change;
  a result taken on or before the change reflects the old dose, so it never counts. With
  rule UNTIL_IN_RANGE the test repeats every `interval_days` after each result that is
  outside the patient's target range, until one is in range ("stable"). A requirement the
  next dose change overtakes before it was met is superseded, not overdue.
- REPEAT: rolling, "every `interval_days` since the last result" within the phase
  [`offset_days`, `until_day`) counted from the start. Of several phases the earliest due
  date wins, so weekly-to-6-months hands over to every-2-weeks at the boundary.
- A result counts for a due date if it was taken no more than `window_days` before it; a
  late result still counts (the test was done, late). One result can meet several
  requirements: after missed week-4 and week-8 weights, today's weight ends both.

Per (regimen, test) the chart shows every met fixed requirement as done and ONE pending
item, the earliest unmet: overdue if its date has passed, else due. That pending date
stays put until a result arrives, so a reminder for it is written once.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from medications.models import LabTest, StepKind, StepRule


class ItemStatus(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"


@dataclass(frozen=True)
class Step:
    """A protocol step as plain data (copied from MonitoringStep)."""

    test: str
    kind: str
    offset_days: int = 0
    interval_days: int | None = None
    until_day: int | None = None
    window_days: int = 7
    rule: str = StepRule.NONE
    label: str = ""


@dataclass(frozen=True)
class Observation:
    test: str
    taken_on: date
    value: Decimal


@dataclass(frozen=True)
class MonitoringItem:
    test: str
    due_date: date
    status: ItemStatus
    label: str
    done_on: date | None = None
    note: str = ""
    last_done_on: date | None = None


@dataclass
class _Pending:
    due: date
    label: str
    note: str = ""


# --- Out-of-range flags -----------------------------------------------------------------

# Lithium: NICE CG185 (2014) target 0.6-1.0 mmol/L unless the patient has their own range;
# toxicity from about 1.5 mmol/L, possible at "normal" levels (NHS SPS, CLINICAL.md b7).
LITHIUM_DEFAULT_RANGE = (Decimal("0.60"), Decimal("1.00"))
LITHIUM_TOXIC = Decimal("1.5")

# Clozapine ANC bands per µL: US prescribing information, PMC9243911 Table 6 (CLINICAL.md b8).
ANC_NORMAL = Decimal("1500")
ANC_MILD = Decimal("1000")
ANC_MODERATE = Decimal("500")

# Fasting plasma glucose, mg/dL: ADA Standards of Care, Classification and Diagnosis of
# Diabetes: 100-125 impaired fasting glucose, >= 126 diabetes range.
GLUCOSE_IMPAIRED = Decimal("100")
GLUCOSE_DIABETES = Decimal("126")

# eGFR < 60 mL/min/1.73m2: CKD G3a or worse (KDIGO 2012); lithium needs renal review.
EGFR_REDUCED = Decimal("60")


class AncBand(StrEnum):
    NORMAL = "normal"
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


_ANC_ORDER = [AncBand.NORMAL, AncBand.MILD, AncBand.MODERATE, AncBand.SEVERE]


def anc_band(value: Decimal) -> AncBand:
    if value >= ANC_NORMAL:
        return AncBand.NORMAL
    if value >= ANC_MILD:
        return AncBand.MILD
    if value >= ANC_MODERATE:
        return AncBand.MODERATE
    return AncBand.SEVERE


ANC_BAND_TEXT = {
    AncBand.MILD: "Mild neutropenia (1000-1499/µL): continue; ANC three times weekly until >= 1500",
    AncBand.MODERATE: "Moderate neutropenia (500-999/µL): interrupt clozapine, haematology consult; "
    "ANC daily until >= 1000",
    AncBand.SEVERE: "Severe neutropenia (< 500/µL): interrupt clozapine, haematology consult; "
    "ANC daily until >= 1000; no rechallenge unless benefit outweighs risk",
}


@dataclass(frozen=True)
class LabFlag:
    level: str  # "low", "high", "critical"
    text: str


def lab_flag(*, test: str, value: Decimal, target_range: tuple[Decimal, Decimal] | None = None) -> LabFlag | None:
    """Why a value deserves attention, or None. Only tests with a sourced range are flagged."""
    if test == LabTest.LITHIUM_LEVEL:
        low, high = target_range or LITHIUM_DEFAULT_RANGE
        if value >= LITHIUM_TOXIC:
            return LabFlag("critical", f"Toxic range (>= {LITHIUM_TOXIC} mmol/L)")
        if value > high:
            return LabFlag("high", f"Above the target range {low}-{high} mmol/L")
        if value < low:
            return LabFlag("low", f"Below the target range {low}-{high} mmol/L")
        return None
    if test == LabTest.ANC:
        band = anc_band(value)
        if band == AncBand.NORMAL:
            return None
        return LabFlag("high" if band == AncBand.MILD else "critical", ANC_BAND_TEXT[band])
    if test == LabTest.FASTING_GLUCOSE:
        if value >= GLUCOSE_DIABETES:
            return LabFlag("critical", "Diabetes range (>= 126 mg/dL)")
        if value >= GLUCOSE_IMPAIRED:
            return LabFlag("high", "Impaired fasting glucose (100-125 mg/dL)")
        return None
    if test == LabTest.EGFR and value < EGFR_REDUCED:
        return LabFlag("low", "Reduced kidney function (eGFR < 60)")
    return None


# --- Schedule ---------------------------------------------------------------------------


def _first_result(
    results: Sequence[Observation], *, not_before: date, before: date | None = None, after: date | None = None
) -> Observation | None:
    for result in results:
        if result.taken_on < not_before or (after is not None and result.taken_on <= after):
            continue
        if before is not None and result.taken_on >= before:
            return None
        return result
    return None


def _in_range(value: Decimal, target_range: tuple[Decimal, Decimal] | None) -> bool:
    if target_range is None:
        return True
    return target_range[0] <= value <= target_range[1]


@dataclass
class _TestSchedule:
    done: list[MonitoringItem] = field(default_factory=list)
    pending: list[_Pending] = field(default_factory=list)


def _once(step: Step, start: date, results: Sequence[Observation], out: _TestSchedule) -> None:
    due = start + timedelta(days=step.offset_days)
    met = _first_result(results, not_before=due - timedelta(days=step.window_days))
    if met is not None:
        out.done.append(MonitoringItem(step.test, due, ItemStatus.DONE, step.label, done_on=met.taken_on))
    else:
        out.pending.append(_Pending(due, step.label))


def _after_dose_change(
    step: Step,
    anchors: list[date],
    results: Sequence[Observation],
    target_range: tuple[Decimal, Decimal] | None,
    out: _TestSchedule,
) -> None:
    # NHS SPS lithium monitoring (CLINICAL.md b7): a level 1 week after the start and after
    # ANY dose change, then weekly until stable. "Stable" is taken as: a level within the
    # patient's target range, taken after the latest change.
    for index, anchor in enumerate(anchors):
        next_anchor = anchors[index + 1] if index + 1 < len(anchors) else None
        due = anchor + timedelta(days=step.offset_days)
        while True:
            met = _first_result(
                results, not_before=due - timedelta(days=step.window_days), before=next_anchor, after=anchor
            )
            if met is None:
                if next_anchor is None:
                    out.pending.append(_Pending(due, step.label))
                break  # else superseded by the next dose change
            out.done.append(MonitoringItem(step.test, due, ItemStatus.DONE, step.label, done_on=met.taken_on))
            if step.rule != StepRule.UNTIL_IN_RANGE or not step.interval_days or _in_range(met.value, target_range):
                break
            due = met.taken_on + timedelta(days=step.interval_days)


def _repeat_due(steps: list[Step], clock: date, results: Sequence[Observation]) -> _Pending | None:
    """The earliest next date over the repeating phases, counted from the last result."""
    last = results[-1].taken_on if results else None
    best: _Pending | None = None
    for step in steps:
        assert step.interval_days
        anchor = clock + timedelta(days=step.offset_days)
        if last is not None and last > anchor:
            anchor = last
        if step.until_day is not None and anchor >= clock + timedelta(days=step.until_day):
            continue
        due = anchor + timedelta(days=step.interval_days)
        if best is None or due < best.due:
            best = _Pending(due, step.label)
    return best


@dataclass
class _AncState:
    clock: date
    weekly_until: date | None = None
    episode: AncBand | None = None
    previous: AncBand | None = None


def _anc_walk(start: date, results: Sequence[Observation]) -> _AncState:
    # Clozapine US prescribing information (PMC9243911 Table 6, CLINICAL.md b8):
    # moderate -> after recovery to >= 1500, weekly for 4 weeks then the last normal interval;
    # severe -> a rechallenge is monitored as a new patient: the phase clock restarts.
    state = _AncState(clock=start)
    for index, result in enumerate(results):
        band = anc_band(result.value)
        if index == len(results) - 1:
            state.previous = anc_band(results[index - 1].value) if index else None
        if band == AncBand.NORMAL:
            if state.episode == AncBand.MODERATE:
                state.weekly_until = result.taken_on + timedelta(weeks=4)
            elif state.episode == AncBand.SEVERE:
                state.clock = result.taken_on
                state.weekly_until = None
            state.episode = None
        elif state.episode is None or _ANC_ORDER.index(band) > _ANC_ORDER.index(state.episode):
            state.episode = band
    return state


def _anc_override(start: date, results: Sequence[Observation], label: str) -> tuple[date, _Pending | None]:
    """(the phase clock, a band-driven due date that replaces the normal interval, if any)."""
    if not results:
        return start, None
    state = _anc_walk(start, results)
    last = results[-1]
    band = anc_band(last.value)
    if band == AncBand.NORMAL:
        if state.weekly_until is not None and last.taken_on < state.weekly_until:
            return state.clock, _Pending(
                last.taken_on + timedelta(days=7), label, "Weekly for 4 weeks after moderate neutropenia"
            )
        return state.clock, None
    if band in (AncBand.MODERATE, AncBand.SEVERE):
        return state.clock, _Pending(last.taken_on + timedelta(days=1), label, ANC_BAND_TEXT[band])
    if state.previous in (None, AncBand.NORMAL):
        # "Confirm all initial reports of ANC < 1500/µL with a repeat within 24 hours."
        return state.clock, _Pending(
            last.taken_on + timedelta(days=1), label, "Confirm the first ANC below 1500/µL within 24 hours"
        )
    if state.episode in (AncBand.MODERATE, AncBand.SEVERE):
        note = "Recovering from neutropenia: ANC three times weekly until >= 1500"
    else:
        note = ANC_BAND_TEXT[AncBand.MILD]
    # Three times weekly: every 2 days, so no gap exceeds the Monday/Wednesday/Friday rhythm.
    return state.clock, _Pending(last.taken_on + timedelta(days=2), label, note)


def _schedule_test(
    test: str,
    steps: list[Step],
    *,
    start: date,
    anchors: list[date],
    results: Sequence[Observation],
    today: date,
    target_range: tuple[Decimal, Decimal] | None,
    restart: date | None,
) -> list[MonitoringItem]:
    out = _TestSchedule()
    for step in steps:
        if step.kind == StepKind.ONCE:
            _once(step, start, results, out)
        elif step.kind == StepKind.AFTER_DOSE_CHANGE:
            _after_dose_change(step, anchors, results, target_range, out)
    repeats = [s for s in steps if s.kind == StepKind.REPEAT and s.interval_days]
    if repeats:
        clock, counted = start, results
        if any(s.rule == StepRule.CLOZAPINE_ANC_BANDS for s in repeats):
            if restart is not None and restart > start:
                # Interruption > 30 days: monitor as a new patient (clozapine PI, CLINICAL.md b8).
                clock, counted = restart, [r for r in results if r.taken_on >= restart]
            clock, override = _anc_override(clock, counted, repeats[0].label)
            if override is not None:
                out.pending.append(override)
        next_due = _repeat_due(repeats, clock, counted)
        if next_due is not None:
            out.pending.append(next_due)
    items = sorted(out.done, key=lambda item: (item.due_date, item.label))
    if out.pending:
        first = min(out.pending, key=lambda pending: pending.due)
        status = ItemStatus.OVERDUE if first.due < today else ItemStatus.DUE
        items.append(
            MonitoringItem(
                test,
                first.due,
                status,
                first.label,
                note=first.note,
                last_done_on=results[-1].taken_on if results else None,
            )
        )
    return items


def monitoring_schedule(
    *,
    steps: Iterable[Step],
    start_date: date,
    dose_change_dates: Iterable[date],
    results: Iterable[Observation],
    today: date,
    target_range: tuple[Decimal, Decimal] | None = None,
    restart_date: date | None = None,
) -> list[MonitoringItem]:
    """Every test of one active regimen: the requirements met (done) and, per test, the next
    one (due or overdue). `results` are the patient's results of any test; only those taken
    up to today count. `dose_change_dates` are the changes after the start; `restart_date`
    is when a long interruption ended (clozapine ANC then restarts as for a new patient)."""
    steps = list(steps)
    anchors = sorted({start_date, *(d for d in dose_change_dates if d > start_date)})
    earliest = start_date - timedelta(days=max((s.window_days for s in steps), default=0))
    by_test: dict[str, list[Observation]] = {}
    for result in sorted(results, key=lambda r: r.taken_on):
        if earliest <= result.taken_on <= today:
            by_test.setdefault(result.test, []).append(result)
    tests = list(dict.fromkeys(step.test for step in steps))
    items: list[MonitoringItem] = []
    for test in tests:
        items.extend(
            _schedule_test(
                test,
                [s for s in steps if s.test == test],
                start=start_date,
                anchors=anchors,
                results=by_test.get(test, []),
                today=today,
                target_range=target_range,
                restart=restart_date,
            )
        )
    return items
