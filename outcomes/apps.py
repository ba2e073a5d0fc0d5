from django.apps import AppConfig


class OutcomesConfig(AppConfig):
    name = "outcomes"
    verbose_name = "Outcomes"

    def ready(self) -> None:
        from careplans.chart import (
            CarePlanPanel,
            ChartTab,
            care_plan_panel_register,
            chart_banner_register,
            chart_tab_register,
        )
        from careplans.seeding import demo_seeder_register
        from outcomes import reminders, seeding, services, views
        from reminders.outbox import reminder_rule_register
        from reminders.safety_signals import safety_signal_handler_register

        chart_tab_register(ChartTab(key="outcomes", label="Overview", url_name="outcomes:tab", order=10))
        chart_banner_register(views.safety_banner)
        # Every safety signal (PHQ-9 item 9, C-SSRS, a therapy session's risk) opens the same alert.
        safety_signal_handler_register(services.safety_alert_open)
        care_plan_panel_register(
            CarePlanPanel(
                key="case_review",
                template="outcomes/_care_plan_tasks.html",
                context=views.care_plan_panel_context,
                order=40,
            )
        )
        reminder_rule_register("outcomes.measurement_due", reminders.measurement_due_query, incremental=True)
        reminder_rule_register("outcomes.not_improving", reminders.not_improving_query, incremental=True)
        demo_seeder_register(seeding.seed_outcomes, order=90)
