"""The attendance strip: one marker per session, oldest left, drawn as server-side SVG.

Shapes differ as well as colours (filled dot, ring, triangle, cross), so the pattern
reads without colour vision; every marker carries a <title> and the SVG an aria-label.
"""

from collections import Counter
from datetime import date
from typing import Any

from therapy.models import Attendance

STEP = 16  # px between markers
HEIGHT = 20
MAX_MARKERS = 60  # the latest 60 sessions; older ones are counted in the label only


def attendance_strip(events: list[tuple[date, str]]) -> dict[str, Any]:
    shown = events[-MAX_MARKERS:]
    markers = [
        {"x": 8 + index * STEP, "kind": attendance, "title": f"{day:%Y-%m-%d}: {Attendance(attendance).label}"}
        for index, (day, attendance) in enumerate(shown)
    ]
    counts = Counter(attendance for _, attendance in events)
    parts = [f"{counts[value]} {label.lower()}" for value, label in Attendance.choices if counts[value]]
    return {
        "markers": markers,
        "width": max(STEP, len(shown) * STEP),
        "height": HEIGHT,
        "label": f"Attendance over {len(events)} sessions: " + (", ".join(parts) if parts else "none yet"),
        "counts": counts,
    }
