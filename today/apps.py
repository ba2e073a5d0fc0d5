from django.apps import AppConfig


class TodayConfig(AppConfig):
    name = "today"
    verbose_name = "Today"

    def ready(self) -> None:
        from today import sources

        sources.register_shipped_sources()
