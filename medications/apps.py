from django.apps import AppConfig


class MedicationsConfig(AppConfig):
    name = "medications"
    verbose_name = "Medications"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_tab_register

        chart_tab_register(ChartTab(key="medications", label="Medications", url_name="medications:tab", order=30))
