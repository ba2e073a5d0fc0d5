from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "careplans"
    verbose_name = "Care plans"

    def ready(self) -> None:
        from careplans.selectors import patients_on_care_team_of, patients_visible_to
        from clinic.access import patient_scope_register

        # What `?patient=` and the API base viewset may name (clinic/viewsets.py).
        patient_scope_register(clinical=patients_on_care_team_of, demographics=patients_visible_to)

        from careplans.chart import ChartTab, chart_tab_register

        chart_tab_register(ChartTab(key="care_plan", label="Care plan", url_name="careplans:chart", order=20))
        chart_tab_register(ChartTab(key="care_team", label="Care team", url_name="careplans:care_team", order=90))
        # Care-team messages: their own chart tab, the team thread (issue 3).
        chart_tab_register(ChartTab(key="team", label="Team messages", url_name="careplans:team_thread", order=80))

        from careplans.outbox import reminder_rule_register, urgent_dispatcher_register
        from careplans.reminders import care_plan_review_due, seed_demo_reminders
        from careplans.seeding import demo_seeder_register
        from careplans.tasks import dispatch_urgent

        reminder_rule_register("care_plan_review", care_plan_review_due)
        urgent_dispatcher_register(dispatch_urgent)
        demo_seeder_register(seed_demo_reminders, order=90)  # after the apps' clinical demo data
