from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_tab_register
        from careplans.outbox import reminder_rule_register
        from outcomes import reminders

        chart_tab_register(ChartTab(key="outcomes", label="Overview", url_name="outcomes:tab", order=10))
        reminder_rule_register("outcomes.measurement_due", reminders.measurement_due)
        reminder_rule_register("outcomes.not_improving", reminders.not_improving)
