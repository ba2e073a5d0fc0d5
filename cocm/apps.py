from django.apps import AppConfig


class CocmConfig(AppConfig):
    """Collaborative-care minutes (issue 16 item 10): the behavioural health care manager logs
    time per patient; reports/cocm_minutes.py turns each month's minutes into the CMS
    collaborative-care codes (cocm/billing.py).

    Imports careplans and clinic only (DESIGN.md app direction); reports reads it."""

    name = "cocm"
    verbose_name = "Collaborative-care minutes"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_tab_register

        chart_tab_register(ChartTab(key="care_minutes", label="CoCM minutes", url_name="cocm:minutes", order=75))
