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

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import cast

from medications.models import LabTest, StepKind, StepRule


class ItemStatus(StrEnum):
    DUE = "due"
    OVERDUE = "overdue"
    DONE = "done"
    WAIVED = "waived"


# Items nobody needs reminding of: the test was done (here or elsewhere) or a prescriber waived
# it. A waiver answers the item as a result would (monitoring_exception_record).
ANSWERED = frozenset({ItemStatus.DONE, ItemStatus.WAIVED})


class ObservationSource(StrEnum):
    RESULT = "result"
    DONE_ELSEWHERE = "done_elsewhere"  # a MonitoringException: counts like a result, has no value
    WAIVED = "waived"  # a MonitoringException: answers the item due on `taken_on`


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
    value: Decimal | None
    source: str = ObservationSource.RESULT
    note: str = ""

    @property
    def status(self) -> ItemStatus:
        return ItemStatus.WAIVED if self.source == ObservationSource.WAIVED else ItemStatus.DONE


@dataclass(frozen=True)
class ExtraCheck:
    """A one-off requirement outside the protocol: e.g. a lithium level 5-7 days after an
    interacting drug was added (NHS SPS lithium monitoring, CLINICAL.md b7)."""

    test: str
    anchor: date
    offset_days: int
    window_days: int
    label: str


@dataclass(frozen=True)
class IntervalCap:
    """At most `days` between repeats of `test` (e.g. lithium at least 3-monthly in risk groups)."""

    test: str
    days: int
    reason: str


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


# Benign ethnic neutropenia (Clozapine REMS BEN table, PMC9243911 Table 7, CLINICAL.md b8):
# normal range for BEN >= 1000/µL; BEN neutropenia 500-999 (continue, three times weekly);
# below 500 severe (interrupt).
BEN_ANC_NORMAL = Decimal("1000")


def anc_band(value: Decimal, *, benign_ethnic_neutropenia: bool = False) -> AncBand:
    if value >= (BEN_ANC_NORMAL if benign_ethnic_neutropenia else ANC_NORMAL):
        return AncBand.NORMAL
    if value >= ANC_MILD:
        return AncBand.MILD
    if value >= ANC_MODERATE:
        return AncBand.MILD if benign_ethnic_neutropenia else AncBand.MODERATE
    return AncBand.SEVERE


ANC_BAND_TEXT = {
    AncBand.MILD: "Mild neutropenia (1000-1499/µL): continue; ANC three times weekly until >= 1500",
    AncBand.MODERATE: "Moderate neutropenia (500-999/µL): interrupt clozapine, haematology consult; "
    "ANC daily until >= 1000",
    AncBand.SEVERE: "Severe neutropenia (< 500/µL): interrupt clozapine, haematology consult; "
    "ANC daily until >= 1000; no rechallenge unless benefit outweighs risk",
}


BEN_MILD_TEXT = "BEN neutropenia (500-999/µL): continue; ANC three times weekly until >= 1000"


@dataclass(frozen=True)
class LabFlag:
    level: str  # "low", "high", "critical" (critical = alerted at once, critical.py)
    text: str


# Non-critical flags per test: (level, predicate, text, source). Critical values come first
# from critical.py. Every LabTest has an entry; an empty list says "no single sourced range"
# (tests/medications/test_critical.py checks the table covers the catalog's tests).
_ONE = Decimal("1")
FLAG_TABLE: dict[str, list[tuple[str, Callable[[Decimal], bool], str, str]]] = {
    LabTest.FBC: [("low", lambda v: v < Decimal("4.0"), "Below the usual range 4.0-11.0 x10^9/L", "usual adult range")],
    LabTest.PLATELETS: [
        ("low", lambda v: v < Decimal("150"), "Thrombocytopenia (< 150 x10^9/L)", "Depakote label, warnings")
    ],
    LabTest.LFT: [
        ("high", lambda v: v > Decimal("120"), "ALT > 3 x the upper limit (40 U/L)", "FDA DILI guidance 2009")
    ],
    LabTest.INR: [],  # critical only; a therapeutic INR depends on the indication
    LabTest.EGFR: [
        ("low", lambda v: v < EGFR_REDUCED, "Reduced kidney function (eGFR < 60)", "KDIGO 2012 CKD G3a or worse")
    ],
    LabTest.CREATININE: [],  # reference ranges differ by sex and laboratory
    LabTest.WEIGHT: [],  # no range of its own: read by the weight-based dose limits (limits.py)
    LabTest.TSH: [
        ("high", lambda v: v > Decimal("4.0"), "TSH above 4.0 mIU/L", "usual adult reference interval 0.4-4.0"),
        ("low", lambda v: v < Decimal("0.4"), "TSH below 0.4 mIU/L", "usual adult reference interval 0.4-4.0"),
    ],
    LabTest.CALCIUM: [
        ("high", lambda v: v > Decimal("2.6"), "Raised calcium (> 2.6 mmol/L)", "adjusted calcium 2.2-2.6; NHS SPS"),
    ],
    LabTest.BMI: [("high", lambda v: v >= Decimal("30"), "Obesity (BMI >= 30)", "WHO BMI classification")],
    LabTest.WAIST: [],  # the thresholds are sex-specific (ATP III 102/88 cm); sex is not recorded
    LabTest.BP_SYSTOLIC: [
        ("high", lambda v: v >= Decimal("140"), "Stage 2 hypertension (>= 140 mmHg)", "ACC/AHA 2017 guideline")
    ],
    LabTest.FASTING_GLUCOSE: [
        ("high", lambda v: v >= GLUCOSE_DIABETES, "Diabetes range (>= 126 mg/dL)", "ADA Standards of Care"),
        ("high", lambda v: v >= GLUCOSE_IMPAIRED, "Impaired fasting glucose (100-125 mg/dL)", "ADA Standards of Care"),
    ],
    LabTest.FASTING_LIPIDS: [
        ("high", lambda v: v >= Decimal("190"), "LDL-C >= 190 mg/dL", "ACC/AHA 2018 cholesterol guideline")
    ],
    LabTest.SODIUM: [("low", lambda v: v < Decimal("135"), "Hyponatraemia (< 135 mmol/L)", "usual definition")],
    LabTest.QTC: [
        ("high", lambda v: v > Decimal("450"), "Prolonged QTc (> 450 ms)", "AHA/ACCF/HRS 2009 ECG standards")
    ],
    LabTest.HLA_B1502: [
        (
            "high",
            lambda v: v >= _ONE,
            "HLA-B*1502 positive: do not start carbamazepine (SJS/TEN)",
            "Tegretol boxed warning",
        )
    ],
    LabTest.PREGNANCY_TEST: [
        ("high", lambda v: v >= _ONE, "Pregnancy test positive: review valproate at once", "MHRA valproate PREVENT")
    ],
}


def lab_flag(
    *,
    test: str,
    value: Decimal,
    target_range: tuple[Decimal, Decimal] | None = None,
    benign_ethnic_neutropenia: bool = False,
) -> LabFlag | None:
    """Why a value deserves attention, or None. Only tests with a sourced range are flagged."""
    from medications.critical import Context, critical_finding

    finding = critical_finding(
        test=test, value=value, context=Context(benign_ethnic_neutropenia=benign_ethnic_neutropenia)
    )
    if test == LabTest.ANC:
        band = anc_band(value, benign_ethnic_neutropenia=benign_ethnic_neutropenia)
        if band == AncBand.NORMAL:
            return None
        text = BEN_MILD_TEXT if benign_ethnic_neutropenia and band == AncBand.MILD else ANC_BAND_TEXT[band]
        return LabFlag("critical" if finding else "high", text)
    if finding is not None:
        return LabFlag("critical", finding.message)
    if test == LabTest.LITHIUM_LEVEL:
        low, high = target_range or LITHIUM_DEFAULT_RANGE
        if value > high:
            return LabFlag("high", f"Above the target range {low}-{high} mmol/L")
        if value < low:
            return LabFlag("low", f"Below the target range {low}-{high} mmol/L")
        return None
    for level, applies, text, _source in FLAG_TABLE.get(test, []):
        if applies(value):
            return LabFlag(level, text)
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
        out.done.append(_met(step.test, due, step.label, met))
    else:
        out.pending.append(_Pending(due, step.label))


def _met(test: str, due: date, label: str, met: Observation) -> MonitoringItem:
    done_on = met.taken_on if met.source != ObservationSource.WAIVED else None
    return MonitoringItem(test, due, met.status, label, done_on=done_on, note=met.note)


def _extra(check: ExtraCheck, results: Sequence[Observation], out: _TestSchedule) -> None:
    due = check.anchor + timedelta(days=check.offset_days)
    met = _first_result(results, not_before=due - timedelta(days=check.window_days), after=check.anchor)
    if met is not None:
        out.done.append(_met(check.test, due, check.label, met))
    else:
        out.pending.append(_Pending(due, check.label))


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
            out.done.append(_met(step.test, due, step.label, met))
            if (
                step.rule != StepRule.UNTIL_IN_RANGE
                or not step.interval_days
                or met.value is None
                or _in_range(met.value, target_range)
            ):
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


def _anc_value(result: Observation) -> Decimal:
    # ANC observations come from lab results, which always carry a value.
    return cast(Decimal, result.value)


def _anc_walk(start: date, results: Sequence[Observation], ben: bool = False) -> _AncState:
    # Clozapine US prescribing information (PMC9243911 Table 6, CLINICAL.md b8):
    # moderate -> after recovery to >= 1500, weekly for 4 weeks then the last normal interval;
    # severe -> a rechallenge is monitored as a new patient: the phase clock restarts.
    state = _AncState(clock=start)
    for index, result in enumerate(results):
        band = anc_band(_anc_value(result), benign_ethnic_neutropenia=ben)
        if index == len(results) - 1:
            state.previous = anc_band(_anc_value(results[index - 1]), benign_ethnic_neutropenia=ben) if index else None
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


def _anc_override(
    start: date, results: Sequence[Observation], label: str, ben: bool = False
) -> tuple[date, _Pending | None]:
    """(the phase clock, a band-driven due date that replaces the normal interval, if any)."""
    results = [r for r in results if r.value is not None]  # a test done elsewhere has no value
    if not results:
        return start, None
    state = _anc_walk(start, results, ben)
    last = results[-1]
    band = anc_band(_anc_value(last), benign_ethnic_neutropenia=ben)
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
            last.taken_on + timedelta(days=1),
            label,
            f"Confirm the first ANC below {BEN_ANC_NORMAL if ben else ANC_NORMAL}/µL within 24 hours",
        )
    if state.episode in (AncBand.MODERATE, AncBand.SEVERE):
        note = f"Recovering from neutropenia: ANC three times weekly until >= {BEN_ANC_NORMAL if ben else ANC_NORMAL}"
    else:
        note = BEN_MILD_TEXT if ben else ANC_BAND_TEXT[AncBand.MILD]
    # Three times weekly: every 2 days, so no gap exceeds the Monday/Wednesday/Friday rhythm.
    return state.clock, _Pending(last.taken_on + timedelta(days=2), label, note)


@dataclass(frozen=True)
class _Options:
    start: date
    anchors: list[date]
    today: date
    target_range: tuple[Decimal, Decimal] | None
    restart: date | None
    ben: bool
    caps: dict[str, IntervalCap]
    extra: list[ExtraCheck]


def _capped(steps: list[Step], cap: IntervalCap | None) -> list[Step]:
    if cap is None:
        return steps
    return [
        replace(s, interval_days=cap.days, label=cap.reason) if s.interval_days and s.interval_days > cap.days else s
        for s in steps
    ]


def _schedule_test(
    test: str, steps: list[Step], results: Sequence[Observation], options: _Options
) -> list[MonitoringItem]:
    out = _TestSchedule()
    start = options.start
    for step in steps:
        if step.kind == StepKind.ONCE:
            _once(step, start, results, out)
        elif step.kind == StepKind.AFTER_DOSE_CHANGE:
            _after_dose_change(step, options.anchors, results, options.target_range, out)
    for check in options.extra:
        if check.test == test:
            _extra(check, results, out)
    repeats = _capped([s for s in steps if s.kind == StepKind.REPEAT and s.interval_days], options.caps.get(test))
    if repeats:
        clock, counted = start, results
        if any(s.rule == StepRule.CLOZAPINE_ANC_BANDS for s in repeats):
            if options.restart is not None and options.restart > start:
                # Interruption > 30 days: monitor as a new patient (clozapine PI, CLINICAL.md b8).
                clock, counted = options.restart, [r for r in results if r.taken_on >= options.restart]
            clock, override = _anc_override(clock, counted, repeats[0].label, options.ben)
            if override is not None:
                out.pending.append(override)
        next_due = _repeat_due(repeats, clock, counted)
        if next_due is not None:
            out.pending.append(next_due)
    items = sorted(out.done, key=lambda item: (item.due_date, item.label))
    if out.pending:
        first = min(out.pending, key=lambda pending: pending.due)
        status = ItemStatus.OVERDUE if first.due < options.today else ItemStatus.DUE
        done = [r.taken_on for r in results if r.source != ObservationSource.WAIVED]
        items.append(
            MonitoringItem(test, first.due, status, first.label, note=first.note, last_done_on=max(done, default=None))
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
    exceptions: Iterable[Observation] = (),
    benign_ethnic_neutropenia: bool = False,
    interval_caps: Iterable[IntervalCap] = (),
    extra_checks: Iterable[ExtraCheck] = (),
) -> list[MonitoringItem]:
    """Every test of one active regimen: the requirements met (done or waived) and, per test,
    the next one (due or overdue). `results` are the patient's results of any test; only those
    taken up to today count. `dose_change_dates` are the changes after the start; `restart_date`
    is when a long interruption ended (clozapine ANC then restarts as for a new patient).
    `exceptions` are this regimen's tests done elsewhere or waived (a waiver may answer an item
    not yet due); `interval_caps` shorten repeat intervals, `extra_checks` add one-off tests."""
    steps = list(steps)
    anchors = sorted({start_date, *(d for d in dose_change_dates if d > start_date)})
    earliest = start_date - timedelta(days=max((s.window_days for s in steps), default=0))
    by_test: dict[str, list[Observation]] = {}
    counted = [r for r in results if earliest <= r.taken_on <= today]
    counted += [e for e in exceptions if earliest <= e.taken_on]
    for result in sorted(counted, key=lambda r: r.taken_on):
        by_test.setdefault(result.test, []).append(result)
    options = _Options(
        start=start_date,
        anchors=anchors,
        today=today,
        target_range=target_range,
        restart=restart_date,
        ben=benign_ethnic_neutropenia,
        caps={cap.test: cap for cap in interval_caps},
        extra=list(extra_checks),
    )
    tests = list(dict.fromkeys(step.test for step in steps))
    items: list[MonitoringItem] = []
    for test in tests:
        items.extend(_schedule_test(test, [s for s in steps if s.test == test], by_test.get(test, []), options))
    return items
