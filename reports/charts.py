"""Small horizontal bar charts drawn as server-side SVG (no JavaScript chart library).

`bar_chart` returns plain geometry the template `reports/_bar_chart.html` draws.
Each bar is labelled with its value in text, and series differ by pattern class as well as
colour, so the chart reads without colour vision; the SVG carries an aria-label and each
bar a <title>.
"""

from dataclasses import dataclass
from typing import Any

LABEL_WIDTH = 230
BAR_AREA = 360
VALUE_WIDTH = 70
BAR_HEIGHT = 16
BAR_GAP = 4
GROUP_GAP = 12
TOP = 8


@dataclass(frozen=True)
class Series:
    key: str  # a CSS class suffix: series-<key>
    label: str


def _value_text(value: float | None, unit: str) -> str:
    if value is None:
        return "no data"
    number = f"{value:.1f}" if isinstance(value, float) and not value.is_integer() else f"{value:.0f}"
    return f"{number}{unit}"


def bar_chart(
    *,
    title: str,
    categories: list[tuple[str, list[float | None]]],
    series: list[Series],
    unit: str = "",
    max_value: float | None = None,
) -> dict[str, Any] | None:
    """categories: [(label, [value per series]), ...]. None when there is nothing to draw."""
    if not categories:
        return None
    values = [v for _, vals in categories for v in vals if v is not None]
    top = max_value if max_value is not None else max(values, default=0)
    top = top or 1
    groups = []
    y = TOP
    for label, vals in categories:
        bars = []
        for index, value in enumerate(vals):
            width = 0.0 if value is None else max(0.0, min(1.0, value / top)) * BAR_AREA
            text = _value_text(value, unit)
            bars.append(
                {
                    "x": LABEL_WIDTH,
                    "y": y,
                    "width": round(width, 1),
                    "height": BAR_HEIGHT,
                    "series": series[index].key,
                    "text": text,
                    "text_x": LABEL_WIDTH + round(width, 1) + 6,
                    "text_y": y + BAR_HEIGHT - 4,
                    "title": f"{label}, {series[index].label}: {text}",
                }
            )
            y += BAR_HEIGHT + BAR_GAP
        group_height = len(vals) * (BAR_HEIGHT + BAR_GAP)
        groups.append({"label": label, "label_y": y - group_height / 2 + 2, "bars": bars})
        y += GROUP_GAP
    described = "; ".join(
        f"{label}: " + ", ".join(f"{s.label} {_value_text(v, unit)}" for s, v in zip(series, vals, strict=True))
        for label, vals in categories
    )
    return {
        "title": title,
        "groups": groups,
        "series": series if len(series) > 1 else [],
        "width": LABEL_WIDTH + BAR_AREA + VALUE_WIDTH,
        "height": y,
        "axis_x": LABEL_WIDTH,
        "label_x": LABEL_WIDTH - 8,
        "aria_label": f"{title}. {described}",
    }
