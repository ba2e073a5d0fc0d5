from django.apps import AppConfig


class PatientPortalConfig(AppConfig):
    """Patients take part (issue 17): self-report links, check-ins, the safety plan, measured goal
    targets and the take-home plan. Sits above outcomes, medications and careplans: it may read
    them; they learn about it only through the registries below."""

    name = "patient_portal"
    verbose_name = "Patient links and plans"

    def ready(self) -> None:
        from careplans.chart import ChartTab, chart_tab_register
        from outcomes.selectors import check_in_source_register
        from patient_portal import scheduling, selectors
        from reminders.outbox import reminder_rule_register

        chart_tab_register(
            ChartTab(key="patient_portal", label="Patient links", url_name="patient_portal:tab", order=60)
        )
        check_in_source_register(selectors.timeline_check_ins)
        reminder_rule_register("patient_portal.check_in_links", scheduling.check_in_links_due)
        reminder_rule_register("patient_portal.measurement_links", scheduling.measurement_links_due)
