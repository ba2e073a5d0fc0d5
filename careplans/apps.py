from django.apps import AppConfig


class CareplansConfig(AppConfig):
    name = "careplans"
    verbose_name = "Care plans"

    def ready(self) -> None:
        from careplans.selectors import patients_on_care_team_of, patients_open_to_break_glass, patients_visible_to
        from clinic.access import patient_scope_register

        # What `?patient=` and the API base viewset may name (clinic/viewsets.py); `break_glass`:
        # what the emergency-access request alone may name (issue 12 item 6).
        patient_scope_register(
            clinical=patients_on_care_team_of,
            demographics=patients_visible_to,
            break_glass=patients_open_to_break_glass,
        )

        from careplans.chart import ChartTab, chart_tab_register

        chart_tab_register(ChartTab(key="care_plan", label="Care plan", url_name="careplans:chart", order=20))
        chart_tab_register(ChartTab(key="care_team", label="Care team", url_name="careplans:care_team", order=90))
        # careplans' own reminder rules are registered by the reminders app (reminders/apps.py):
        # careplans never imports reminders.
