from django.apps import AppConfig


class TherapyConfig(AppConfig):
    name = "therapy"
    verbose_name = "Psychotherapy"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_tab_register

        chart_tab_register(ChartTab(key="therapy", label="Therapy", url_name="therapy:tab", order=40))
