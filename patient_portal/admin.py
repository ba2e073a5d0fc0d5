from django.contrib import admin

from patient_portal.models import PortalSettings


@admin.register(PortalSettings)
class PortalSettingsAdmin(admin.ModelAdmin):
    """The clinic's crisis text, the automatic measurement links switch, and link lifetime."""

    list_display = ("__str__", "measurement_links", "link_days")

    def has_add_permission(self, request) -> bool:  # type: ignore[no-untyped-def,override]
        return not PortalSettings.objects.exists()
