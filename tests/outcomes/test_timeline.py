"""The integrated timeline layout: a pure function over plain lists (no database)."""

from datetime import date, timedelta
from decimal import Decimal
from typing import NamedTuple

from outcomes.timeline import LEFT, RIGHT, WIDTH, ScorePoint, timeline_build

TODAY = date(2026, 3, 2)


class Dose(NamedTuple):
    changed_on: date
    medication_name: str
    dose: Decimal
    unit: str
    previous_dose: Decimal | None


class Session(NamedTuple):
    session_date: date
    modality_code: str
    attendance: str


def phq(day: date, total: int) -> ScorePoint:
    severity = ["minimal", "mild", "moderate", "moderately_severe", "severe"][min(total // 5, 4)]
    return ScorePoint(day=day, instrument="PHQ-9", total=total, severity=severity, url=f"/a/{day}/")


def test_empty_timeline_says_so():
    assert timeline_build(scores=[], today=TODAY).is_empty


def test_scores_doses_and_sessions_share_one_time_axis():
    start = date(2025, 9, 1)
    t = timeline_build(
        scores=[phq(start, 20), phq(start + timedelta(weeks=8), 10)],
        doses=[
            Dose(start + timedelta(weeks=1), "Sertraline", Decimal("50"), "mg", None),
            Dose(start + timedelta(weeks=5), "Sertraline", Decimal("100"), "mg", Decimal("50")),
        ],
        sessions=[
            Session(start + timedelta(weeks=2), "CBT", "attended"),
            Session(start + timedelta(weeks=3), "CBT", "no_show"),
        ],
        today=TODAY,
    )
    panel = t.panels[0]
    first_point, second_point = panel.points
    (start_marker, up_marker) = t.medications[0].markers
    attended, missed = t.sessions
    # Same date -> same x, whichever lane it is drawn in; later dates further right.
    assert first_point.x < start_marker.x < attended.x < missed.x < up_marker.x < second_point.x
    assert first_point.x >= LEFT and second_point.x <= WIDTH - RIGHT
    # Higher scores are drawn higher up (smaller y).
    assert first_point.y < second_point.y
    # The increase is a step up, labelled with the drug name.
    assert up_marker.y < start_marker.y
    assert "dose-up" in up_marker.css and "dose-start" in start_marker.css
    assert [label.text for label in t.medications[0].labels] == ["Sertraline 50 mg", "Sertraline 100 mg"]
    assert up_marker.title == "2025-10-06: Sertraline increased to 100 mg"
    # Attended sessions are tall solid ticks, missed ones short and marked.
    assert "session-attended" in attended.css and "session-missed" in missed.css
    assert attended.y < missed.y
    # Every dose change draws a guide through the score panels.
    assert [g.x for g in t.guides] == [start_marker.x, up_marker.x]
    assert t.counts == {"scores": 2, "doses": 2, "sessions": 2, "attended": 1, "missed": 1}


def test_points_link_to_their_answers_and_carry_a_readable_title():
    t = timeline_build(scores=[phq(date(2026, 1, 5), 12)], today=TODAY)
    point = t.panels[0].points[0]
    assert point.url == "/a/2026-01-05/"
    assert point.title == "PHQ-9 12 (Moderate) on 2026-01-05"
    assert "point-moderate" in point.css


def test_each_instrument_gets_its_own_panel_with_its_own_published_bands():
    t = timeline_build(
        scores=[phq(date(2026, 1, 5), 12), ScorePoint(date(2026, 1, 5), "GAD-7", 16, "severe")], today=TODAY
    )
    assert [p.instrument for p in t.panels] == ["PHQ-9", "GAD-7"]
    assert [b.text for b in t.panels[0].band_labels] == [
        "None–minimal 0–4",
        "Mild 5–9",
        "Moderate 10–14",
        "Moderately severe 15–19",
        "Severe 20–27",
    ]
    assert [b.text for b in t.panels[1].band_labels] == ["Minimal 0–4", "Mild 5–9", "Moderate 10–14", "Severe 15–21"]
    # Bands tile the panel from bottom to top without gaps.
    bands = t.panels[0].bands
    assert round(sum(b.height for b in bands), 1) == t.panels[0].bottom - t.panels[0].top
    assert t.panels[1].top > t.panels[0].bottom


def test_decrease_and_stop_markers():
    t = timeline_build(
        scores=[],
        doses=[
            Dose(date(2025, 6, 1), "Lithium", Decimal("800"), "mg", None),
            Dose(date(2025, 9, 1), "Lithium", Decimal("600"), "mg", Decimal("800")),
            Dose(date(2025, 12, 1), "Lithium", Decimal("0"), "mg", Decimal("600")),
        ],
        today=TODAY,
    )
    kinds = [m.css.split()[-1] for m in t.medications[0].markers]
    assert kinds == ["dose-start", "dose-down", "dose-stop"]
    assert t.medications[0].labels[-1].text == "Lithium stopped"


def test_one_row_per_medication_and_overlapping_labels_are_thinned():
    day = date(2025, 6, 1)
    doses = (
        [Dose(day, "Quetiapine", Decimal("25"), "mg", None)]
        + [
            Dose(day + timedelta(days=n), "Quetiapine", Decimal(25 + 25 * n), "mg", Decimal(25 * n))
            for n in range(1, 6)
        ]
        + [Dose(day, "Sertraline", Decimal("50"), "mg", None)]
    )
    t = timeline_build(scores=[], doses=doses, today=TODAY)
    assert [row.name for row in t.medications] == ["Quetiapine", "Sertraline"]
    quetiapine = t.medications[0]
    assert len(quetiapine.markers) == 6  # every change keeps its marker and tooltip ...
    assert len(quetiapine.labels) < 6  # ... but labels that would overlap are left out
    assert quetiapine.labels[0].text == "Quetiapine 25 mg"


def test_three_years_of_weekly_scores_keep_to_the_plot_and_a_dozen_axis_labels():
    start = TODAY - timedelta(weeks=156)
    scores = [phq(start + timedelta(weeks=n), (n * 7) % 25) for n in range(157)]
    t = timeline_build(scores=scores, today=TODAY)
    xs = [p.x for p in t.panels[0].points]
    assert xs == sorted(xs) and xs[0] >= LEFT and xs[-1] <= WIDTH - RIGHT
    assert 6 <= len(t.ticks) <= 13
    assert t.panels[0].point_radius < 4


def test_band_labels_fit_the_left_margin():
    t = timeline_build(
        scores=[ScorePoint(date(2026, 1, 5), code, 10, "moderate") for code in ("PHQ-9", "GAD-7", "WSAS")], today=TODAY
    )
    labels = [label.text for panel in t.panels for label in panel.band_labels]
    assert "Mod. severe+ 21–40" in labels
    assert max(len(text) for text in labels) * 6 <= LEFT - 8
