"""The patient chart's tabs. Each app registers its own tab in AppConfig.ready(),
so `careplans` renders the shared header without importing the apps that own the tabs."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ChartTab:
    key: str
    label: str
    url_name: str  # a view taking `patient_id`
    order: int


_TABS: dict[str, ChartTab] = {}


def chart_tab_register(tab: ChartTab) -> None:
    _TABS[tab.key] = tab


def chart_tabs() -> list[ChartTab]:
    return sorted(_TABS.values(), key=lambda tab: tab.order)


def chart_home_url(patient_id: Any) -> str:
    """Where "open the chart" lands: the first tab, Overview (issue 16 item 9), not the care plan."""
    from django.urls import reverse

    return reverse(chart_tabs()[0].url_name, kwargs={"patient_id": patient_id})


def chart_context(*, user: Any, patient: Any, tab: str) -> dict[str, Any]:
    """What every chart tab starts from: the patient (resolved by `clinical_page`: 404 unless on
    the care team), the team for the header, and an audited chart open (SECURITY.md: every
    chart open is logged)."""
    from careplans import selectors, services

    services.chart_opened(patient=patient, actor=user)
    team = list(selectors.care_team_of(patient))
    banners = chart_banners(patient=patient, user=user)
    if all(member.user_id != user.pk for member in team):
        # Off the team yet here: an emergency access is running (issue 12 item 6). Looked up only
        # then, so a team member's chart costs no query for it.
        from careplans.break_glass import break_glass_banner

        if (banner := break_glass_banner(patient=patient, user=user)) is not None:
            banners.insert(0, banner)
    return {"patient": patient, "team": team, "active_tab": tab, "chart_banners": banners}


# A banner another app shows above every chart tab (e.g. outcomes' open safety alert):
# fn(patient=, user=) -> {"template": ..., "context": {...}} or None when there is nothing to show.
ChartBanner = Callable[..., dict[str, Any] | None]
_BANNERS: list[ChartBanner] = []


def chart_banner_register(fn: ChartBanner) -> None:
    if fn not in _BANNERS:
        _BANNERS.append(fn)


def chart_banners(*, patient: Any, user: Any) -> list[dict[str, Any]]:
    return [banner for fn in _BANNERS if (banner := fn(patient=patient, user=user))]


@dataclass(frozen=True)
class CarePlanPanel:
    """A section another app adds to the care-plan tab (e.g. therapy's goal progress).

    `context(user=, patient=, plan=)` returns the template's context; it must use the
    app's own selectors (visibility already checked: the caller is on the care team).
    """

    key: str
    template: str
    context: Callable[..., dict[str, Any]]
    order: int = 50


_PANELS: dict[str, CarePlanPanel] = {}


def care_plan_panel_register(panel: CarePlanPanel) -> None:
    _PANELS[panel.key] = panel


def care_plan_panels(*, user: Any, patient: Any, plan: Any) -> list[dict[str, Any]]:
    """Rendered-ready panels: [{"template": ..., "context": {...}}] in order."""
    return [
        {"template": panel.template, "context": panel.context(user=user, patient=patient, plan=plan)}
        for panel in sorted(_PANELS.values(), key=lambda p: p.order)
    ]
