from django.apps import AppConfig


class TherapyConfig(AppConfig):
    name = "therapy"
    verbose_name = "Psychotherapy"

    def ready(self) -> None:
        from careplans.chart import CarePlanPanel, ChartTab, care_plan_panel_register, chart_tab_register
        from careplans.seeding import demo_seeder_register
        from reminders.outbox import reminder_rule_register
        from therapy import reminders, seeding, selectors

        chart_tab_register(ChartTab(key="therapy", label="Therapy", url_name="therapy:tab", order=40))
        reminder_rule_register("therapy.course_overdue", reminders.overdue_courses_query, incremental=True)
        care_plan_panel_register(
            CarePlanPanel(
                key="therapy_goal_progress",
                template="therapy/_goal_progress_panel.html",
                context=selectors.goal_progress_panel,
            )
        )
        demo_seeder_register(seeding.demo_therapy_seed, order=40)
