from django.apps import AppConfig


class RemindersConfig(AppConfig):
    """The reminder outbox, its delivery, the inbox and the care team's messages (issue 10).

    Imports point one way: medications, therapy, outcomes -> reminders -> careplans -> clinic.
    careplans never imports this app, so careplans' own rules (care-plan review due, the
    case-review flag) live in reminders/care_plans.py and are registered here.
    """

    name = "reminders"
    verbose_name = "Reminders"

    def ready(self) -> None:
        from careplans.case_reviews import case_review_flagged_register
        from careplans.chart import ChartTab, chart_tab_register
        from careplans.seeding import demo_seeder_register
        from clinic.access_notices import access_notice_listener_register
        from reminders.access_notices import access_notices_write
        from reminders.care_plans import (
            care_plan_review_due,
            case_review_reminders_write,
            seed_demo_deliver,
            seed_demo_reminders,
        )
        from reminders.outbox import reminder_rule_register, urgent_dispatcher_register
        from reminders.tasks import dispatch_urgent

        # Care-team messages: their own chart tab, the team thread (issue 3).
        chart_tab_register(ChartTab(key="team", label="Team messages", url_name="reminders:team_thread", order=80))
        reminder_rule_register("care_plan_review", care_plan_review_due, incremental=True)
        case_review_flagged_register(case_review_reminders_write)
        urgent_dispatcher_register(dispatch_urgent)
        from clinic.audit import bulk_read_alarm
        from reminders.bulk_reads import bulk_read_alarm_write

        bulk_read_alarm.connect(bulk_read_alarm_write, dispatch_uid="reminders.bulk_read_alarm")
        access_notice_listener_register(access_notices_write)  # role grants, care-team changes, break-glass
        demo_seeder_register(seed_demo_reminders, order=90)  # after the apps' clinical demo data
        demo_seeder_register(seed_demo_deliver, order=1000)  # last: every seeder's reminders go out
