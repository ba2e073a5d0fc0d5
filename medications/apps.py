from django.apps import AppConfig


class MedicationsConfig(AppConfig):
    name = "medications"
    verbose_name = "Medications"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_banner_register, chart_tab_register
        from careplans.seeding import demo_seeder_register
        from medications import reminders, seeding, views
        from reminders.outbox import reminder_rule_register

        chart_tab_register(ChartTab(key="medications", label="Medications", url_name="medications:tab", order=30))
        reminder_rule_register("medications.monitoring_due", reminders.monitoring_due, incremental=True)
        reminder_rule_register("medications.injections", reminders.injection_reminders_query, incremental=True)
        chart_banner_register(views.critical_result_banner)
        demo_seeder_register(seeding.seed_medications, order=30)
