from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "careplans"
    verbose_name = "Care plans"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_tab_register

        chart_tab_register(ChartTab(key="care_plan", label="Care plan", url_name="careplans:chart", order=20))
        chart_tab_register(ChartTab(key="care_team", label="Care team", url_name="careplans:care_team", order=90))
