"""The patient chart's tabs. Each app registers its own tab in AppConfig.ready(),
so `careplans` renders the shared header without importing the apps that own the tabs."""

from dataclasses import dataclass


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


def chart_context(*, user, patient_id, tab: str) -> dict:  # type: ignore[no-untyped-def]
    """What every chart tab starts from: the patient (404 unless on the care team), the
    team for the header, and an audited chart open (SECURITY.md: every chart open is logged)."""
    from careplans import selectors, services

    patient = selectors.patient_for_clinical_use(user=user, public_id=patient_id)
    services.chart_opened(patient=patient, actor=user)
    return {"patient": patient, "team": list(selectors.care_team_of(patient)), "active_tab": tab}
