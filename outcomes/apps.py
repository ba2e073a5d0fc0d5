from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_tab_register

        chart_tab_register(ChartTab(key="outcomes", label="Outcomes", url_name="outcomes:tab", order=10))
