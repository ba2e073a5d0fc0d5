"""Server-side SVG geometry for the dose-history step chart (no JS chart library).

Returns numbers only; the template draws them, so nothing user-typed reaches the SVG
markup unescaped.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

WIDTH, HEIGHT = 320, 120
LEFT, RIGHT, TOP, BOTTOM = 44, 8, 10, 22  # room for the axis labels


@dataclass(frozen=True)
class ChartPoint:
    x: float
    y: float
    label: str  # "2026-02-01: 100 mg"


@dataclass(frozen=True)
class StepChart:
    width: int
    height: int
    path: str
    points: list[ChartPoint]
    x_start: str
    x_end: str
    y_max: str
    y_max_y: float
    axis_y: float  # the baseline's y
    plot_left: int
    plot_right: int
    target_y: float | None
    description: str
    injections: list[ChartPoint]


def _fmt(value: Decimal) -> str:
    return format(value.normalize(), "f")


def dose_step_chart(
    *,
    steps: Sequence[tuple[date, Decimal]],
    end: date,
    unit: str,
    target: Decimal | None = None,
    injections: Sequence[tuple[date, Decimal]] = (),
) -> StepChart | None:
    """Steps are (effective date, dose), oldest first; the line holds each dose until the next.
    A long-acting injectable's injections (date, dose given) are marked on the same axes."""
    if not steps:
        return None
    first = min([steps[0][0], *(day for day, _ in injections)])
    end = max([end, steps[-1][0], *(day for day, _ in injections)])
    span = max((end - first).days, 1)
    top = max([dose for _, dose in steps] + [dose for _, dose in injections] + ([target] if target else []))
    top = top * Decimal("1.15") if top > 0 else Decimal(1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return round(LEFT + plot_w * (day - first).days / span, 1)

    def y(dose: Decimal) -> float:
        return round(TOP + plot_h * float(1 - dose / top), 1)

    commands = [f"M{x(first)},{y(steps[0][1])}"]
    for day, dose in steps[1:]:
        commands.append(f"H{x(day)}")
        commands.append(f"V{y(dose)}")
    commands.append(f"H{x(end)}")
    points = [ChartPoint(x(day), y(dose), f"{day:%Y-%m-%d}: {_fmt(dose)} {unit}") for day, dose in steps]
    description = "; ".join(f"{_fmt(dose)} {unit} from {day:%Y-%m-%d}" for day, dose in steps)
    marks = [ChartPoint(x(day), y(dose), f"Injection {day:%Y-%m-%d}: {_fmt(dose)} {unit}") for day, dose in injections]
    if marks:
        description += "; injections given: " + ", ".join(
            f"{day:%Y-%m-%d} {_fmt(dose)} {unit}" for day, dose in injections
        )
    return StepChart(
        width=WIDTH,
        height=HEIGHT,
        path=" ".join(commands),
        points=points,
        x_start=f"{first:%Y-%m-%d}",
        x_end=f"{end:%Y-%m-%d}",
        y_max=f"{_fmt(top / Decimal('1.15'))} {unit}",
        y_max_y=y(top / Decimal("1.15")),
        axis_y=HEIGHT - BOTTOM,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        target_y=y(target) if target else None,
        description=description,
        injections=marks,
    )
