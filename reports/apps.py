from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """Clinic reports for admins (issue 7), their pages, API, background runs and ReportRun.

    reports may read every clinical app (like outcomes' timeline); no app imports reports
    except clinic/urls.py, the one place that knows every app.
    """

    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        # Changes to a patient's record mark its report facts stale (reports/facts.py).
        from django.db.backends.signals import connection_created

        from reports.facts import connect_signals
        from reports.sql import register_sqlite_median

        connect_signals()
        # The reports' medians on SQLite (reports/sql.py median_sql).
        connection_created.connect(register_sqlite_median, dispatch_uid="reports-sqlite-median")
