"""The integrated timeline: scores, dose changes and therapy sessions on one time axis.

A pure layout function over plain lists (no database, no request): it turns score
points, dose events and session events into shapes with coordinates, and the
template outcomes/_timeline.html draws them as one server-side SVG. Anything
shaped like medications' DoseEvent (changed_on, medication_name, dose, unit,
previous_dose) and therapy's SessionEvent (session_date, modality_code,
attendance) will do.

Layout, top to bottom: one panel per instrument with its severity bands shaded (each
instrument keeps its own published bands), one row per medication with its dose as
a step line and a marker at every change, one row of therapy-session ticks
(attended tall and solid, missed short and red), and the month axis. Every dose
change also draws a faint guide through the score panels, so what changed before a
score moved is visible at a glance.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Protocol

from outcomes.instruments import INSTRUMENTS

WIDTH = 960
LEFT = 150  # room for row labels
RIGHT = 24
TOP = 14
PANEL_HEIGHT = 150
PANEL_GAP = 22
MED_ROW_HEIGHT = 46
SESSION_ROW_HEIGHT = 34
CHECK_IN_ROW_HEIGHT = 60
AXIS_HEIGHT = 30
CHAR_WIDTH = 6.2  # average glyph width at the label font size, for collision checks
MISSED = {"no_show", "late_cancel"}
INSTRUMENT_ORDER = ("PHQ-9", "GAD-7", "WSAS")


class DoseLike(Protocol):
    changed_on: date
    medication_name: str
    dose: Decimal
    unit: str
    previous_dose: Decimal | None


class SessionLike(Protocol):
    session_date: date
    modality_code: str
    attendance: str


class CheckInLike(Protocol):
    """A between-session check-in (patient_portal.CheckIn, issue 17 item 3)."""

    answered_on: date
    mood: int  # 0-10
    sleep_hours: Decimal | None
    activity_minutes: int | None
    medication_taken: str  # yes / partly / no / "" (no medication)


@dataclass(frozen=True)
class ScorePoint:
    day: date
    instrument: str
    total: int
    severity: str
    url: str = ""  # where the item-level answers are
    source: str = "clinic"  # "self_report": answered by the patient from a link (drawn hollow)


@dataclass
class Shape:
    """Anything drawn: coordinates plus a CSS class and an optional tooltip/label."""

    x: float = 0
    y: float = 0
    x2: float = 0
    y2: float = 0
    width: float = 0
    height: float = 0
    css: str = ""
    title: str = ""
    text: str = ""
    url: str = ""
    anchor: str = "start"


@dataclass
class Panel:
    instrument: str
    name: str
    top: float
    bottom: float
    bands: list[Shape] = field(default_factory=list)
    band_labels: list[Shape] = field(default_factory=list)
    gridlines: list[Shape] = field(default_factory=list)
    line: str = ""  # polyline points
    points: list[Shape] = field(default_factory=list)
    point_radius: float = 4


@dataclass
class MedicationRow:
    name: str
    top: float
    bottom: float
    label: Shape
    steps: str  # polyline points of the dose step line
    markers: list[Shape] = field(default_factory=list)
    labels: list[Shape] = field(default_factory=list)


@dataclass
class Timeline:
    width: int
    height: float
    start: date
    end: date
    panels: list[Panel]
    medications: list[MedicationRow]
    sessions: list[Shape]
    session_row: Shape | None
    guides: list[Shape]
    ticks: list[Shape]
    axis_y: float
    today: Shape | None
    counts: dict[str, int]
    # Check-ins: the mood line (0-10) with a marker where medication was missed or partly taken.
    check_in_row: Shape | None = None
    check_in_line: str = ""
    check_ins: list[Shape] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.panels or self.medications or self.sessions or self.check_ins)


class _XScale:
    def __init__(self, start: date, end: date) -> None:
        self.start, self.days = start, max((end - start).days, 1)

    def __call__(self, day: date) -> float:
        return round(LEFT + (day - self.start).days * (WIDTH - LEFT - RIGHT) / self.days, 1)


def _fmt_dose(value: Decimal) -> str:
    text = format(value.normalize(), "f") if isinstance(value, Decimal) else str(value)
    return text


def _date_range(days: Iterable[date], today: date) -> tuple[date, date]:
    days = list(days)
    start = min(days) - timedelta(days=7)
    end = max(max(days), today) + timedelta(days=7)
    return start, end


def _month_ticks(start: date, end: date, scale: _XScale, y: float) -> list[Shape]:
    months = (end.year - start.year) * 12 + end.month - start.month + 1
    step = next(s for s in (1, 2, 3, 6, 12, 24) if months / s <= 13)
    ticks = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        day = date(year, month, 1)
        if day > end:
            break
        if (month - 1) % step:
            continue
        label = day.strftime("%b %Y") if step < 12 or month == 1 else day.strftime("%Y")
        ticks.append(Shape(x=scale(day), y=y, text=label, anchor="middle"))
    return ticks


def _panel(code: str, points: Sequence[ScorePoint], top: float, scale: _XScale) -> Panel:
    instrument = INSTRUMENTS[code]
    bottom = top + PANEL_HEIGHT
    top_value = instrument.max_total

    def y(value: float) -> float:
        return round(bottom - value * PANEL_HEIGHT / top_value, 1)

    panel = Panel(instrument=code, name=code, top=top, bottom=bottom, point_radius=4 if len(points) <= 60 else 2.6)
    for band in instrument.bands:
        upper = band.high + (0 if band.high == top_value else 1)
        panel.bands.append(
            Shape(
                x=LEFT,
                y=y(upper),
                width=WIDTH - LEFT - RIGHT,
                height=y(band.low) - y(upper),
                css=f"band band-{band.severity}",
                title=f"{band.label} {band.low}–{band.high}",
            )
        )
        panel.band_labels.append(
            Shape(
                x=LEFT - 8,
                y=round((y(upper) + y(band.low)) / 2 + 4, 1),
                text=f"{band.axis_label} {band.low}–{band.high}",
                anchor="end",
                css="band-label",
            )
        )
        if band.low:
            panel.gridlines.append(Shape(x=LEFT, x2=WIDTH - RIGHT, y=y(band.low), y2=y(band.low), css="grid"))
    coordinates = [(scale(p.day), y(p.total)) for p in points]
    panel.line = " ".join(f"{x},{yy}" for x, yy in coordinates)
    panel.points = [
        Shape(
            x=x,
            y=yy,
            css=f"point point-{p.severity}" + (" point-self-report" if p.source == "self_report" else ""),
            url=p.url,
            title=f"{p.instrument} {p.total} ({instrument.band_for(p.total).label}) on {p.day.isoformat()}"
            + (", self-reported" if p.source == "self_report" else ""),
        )
        for p, (x, yy) in zip(points, coordinates, strict=True)
    ]
    return panel


def _medication_row(name: str, events: Sequence[DoseLike], top: float, scale: _XScale, end: date) -> MedicationRow:
    bottom = top + MED_ROW_HEIGHT
    highest = max((Decimal(e.dose) for e in events), default=Decimal(1)) or Decimal(1)
    line_top, line_bottom = top + 16, bottom - 6  # room above the step line for labels

    def y(dose: Decimal) -> float:
        return round(line_bottom - float(Decimal(dose) / highest) * (line_bottom - line_top), 1)

    steps: list[str] = []
    markers, labels = [], []
    last_label_end = -1e9
    for event in events:
        x = scale(event.changed_on)
        if steps:
            steps.append(f"{x},{steps[-1].split(',')[1]}")
        steps.append(f"{x},{y(event.dose)}")
        unit = f" {event.unit}" if event.unit else ""
        if event.previous_dose is None:
            kind, verb = "start", "started at"
        elif Decimal(event.dose) == 0:
            kind, verb = "stop", "stopped"
        elif Decimal(event.dose) > Decimal(event.previous_dose):
            kind, verb = "up", "increased to"
        else:
            kind, verb = "down", "decreased to"
        dose_text = "" if kind == "stop" else f" {_fmt_dose(event.dose)}{unit}"
        title = f"{event.changed_on.isoformat()}: {name} {verb}{dose_text}"
        markers.append(Shape(x=x, y=y(event.dose), css=f"dose-marker dose-{kind}", title=title))
        text = f"{name}{dose_text}" if kind != "stop" else f"{name} stopped"
        if x >= last_label_end + 6:  # skip a visible label that would overlap the previous one
            labels.append(Shape(x=x + 3, y=top + 11, text=text, css="dose-label"))
            last_label_end = x + 3 + len(text) * CHAR_WIDTH
    if steps:
        steps.append(f"{scale(end)},{steps[-1].split(',')[1]}")
    label = Shape(x=LEFT - 8, y=round(bottom - 10, 1), text=name, anchor="end", css="row-label")
    return MedicationRow(
        name=name, top=top, bottom=bottom, label=label, steps=" ".join(steps), markers=markers, labels=labels
    )


def _check_in_shapes(check_ins: Sequence[CheckInLike], top: float, scale: _XScale) -> tuple[str, list[Shape]]:
    bottom = top + CHECK_IN_ROW_HEIGHT - 6

    def y(mood: int) -> float:
        return round(bottom - mood * (CHECK_IN_ROW_HEIGHT - 14) / 10, 1)

    shapes, points = [], []
    for c in sorted(check_ins, key=lambda c: c.answered_on):
        x, yy = scale(c.answered_on), y(c.mood)
        points.append(f"{x},{yy}")
        parts = [f"{c.answered_on.isoformat()}: mood {c.mood}/10"]
        if c.sleep_hours is not None:
            parts.append(f"sleep {_fmt_dose(Decimal(c.sleep_hours))} h")
        if c.activity_minutes is not None:
            parts.append(f"activity {c.activity_minutes} min")
        if c.medication_taken:
            parts.append(f"medication taken: {c.medication_taken}")
        css = "check-in" + (f" check-in-med-{c.medication_taken}" if c.medication_taken else "")
        css += " check-in-low" if c.mood <= 2 else ""
        shapes.append(Shape(x=x, y=yy, css=css, title=", ".join(parts)))
    return " ".join(points), shapes


def _patient_counts(scores: Sequence[ScorePoint], check_ins: Sequence[CheckInLike]) -> dict[str, int]:
    """Self-reports and check-ins (issue 17), counted only when there are any."""
    counts = {"check_ins": len(check_ins), "self_reported": sum(1 for p in scores if p.source == "self_report")}
    return {key: value for key, value in counts.items() if value}


def timeline_build(
    *,
    scores: Sequence[ScorePoint],
    doses: Sequence[DoseLike] = (),
    sessions: Sequence[SessionLike] = (),
    check_ins: Sequence[CheckInLike] = (),
    today: date,
) -> Timeline:
    """Lay out the timeline. Inputs in any order; nothing here touches the database."""
    all_days = (
        [p.day for p in scores]
        + [d.changed_on for d in doses]
        + [s.session_date for s in sessions]
        + [c.answered_on for c in check_ins]
    )
    start, end = _date_range(all_days, today) if all_days else (today - timedelta(days=30), today)
    scale = _XScale(start, end)
    y = float(TOP)
    panels = []
    for code in INSTRUMENT_ORDER:
        points = sorted((p for p in scores if p.instrument == code), key=lambda p: p.day)
        if points:
            panels.append(_panel(code, points, y, scale))
            y += PANEL_HEIGHT + PANEL_GAP
    medications = []
    by_drug: dict[str, list[Any]] = {}
    for event in sorted(doses, key=lambda e: e.changed_on):
        by_drug.setdefault(event.medication_name, []).append(event)
    for name, events in by_drug.items():
        medications.append(_medication_row(name, events, y, scale, end))
        y += MED_ROW_HEIGHT
    session_shapes, session_row = [], None
    if sessions:
        session_row = Shape(
            x=LEFT - 8, y=y + SESSION_ROW_HEIGHT / 2 + 4, text="Therapy sessions", anchor="end", css="row-label"
        )
        for s in sorted(sessions, key=lambda s: s.session_date):
            attended = s.attendance == "attended"
            missed = s.attendance in MISSED
            top = y + (6 if attended else SESSION_ROW_HEIGHT / 2)
            css = "session-attended" if attended else ("session-missed" if missed else "session-cancelled")
            session_shapes.append(
                Shape(
                    x=scale(s.session_date),
                    y=top,
                    x2=scale(s.session_date),
                    y2=y + SESSION_ROW_HEIGHT - 4,
                    css=f"session {css}",
                    title=f"{s.session_date.isoformat()}: {s.modality_code} session, {s.attendance.replace('_', ' ')}",
                )
            )
        y += SESSION_ROW_HEIGHT
    check_in_row, check_in_line = None, ""
    check_in_shapes: list[Shape] = []
    if check_ins:
        check_in_row = Shape(
            x=LEFT - 8, y=y + CHECK_IN_ROW_HEIGHT / 2 + 4, text="Check-ins: mood", anchor="end", css="row-label"
        )
        check_in_line, check_in_shapes = _check_in_shapes(check_ins, y, scale)
        y += CHECK_IN_ROW_HEIGHT
    axis_y = y + 4
    guides = []
    if panels:
        guides = [
            Shape(x=scale(e.changed_on), x2=scale(e.changed_on), y=panels[0].top, y2=axis_y, css="guide") for e in doses
        ]
    today_mark = (
        Shape(x=scale(today), x2=scale(today), y=TOP, y2=axis_y, css="today", text="Today", anchor="middle")
        if start <= today <= end
        else None
    )
    return Timeline(
        width=WIDTH,
        height=axis_y + AXIS_HEIGHT,
        start=start,
        end=end,
        panels=panels,
        medications=medications,
        sessions=session_shapes,
        session_row=session_row,
        guides=guides,
        ticks=_month_ticks(start, end, scale, axis_y),
        axis_y=axis_y,
        today=today_mark,
        check_in_row=check_in_row,
        check_in_line=check_in_line,
        check_ins=check_in_shapes,
        counts={
            "scores": len(scores),
            "doses": len(doses),
            "sessions": len(sessions),
            "attended": sum(1 for s in sessions if s.attendance == "attended"),
            "missed": sum(1 for s in sessions if s.attendance in MISSED),
        }
        | _patient_counts(scores, check_ins),
    )
