"""Django admin: the catalogs only (medications, monitoring protocols with their steps,
interaction rules), edited by the clinic admin (Action.CONFIGURE_CATALOGS).

Regimens, doses, side effects, adherence checks and lab results are clinical records:
they change only through services (access checks, audit), never here.
"""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from clinic.access import Action, user_can
from medications.models import (
    DoseLimit,
    DrugProperty,
    InteractionRule,
    Medication,
    MonitoringProtocol,
    MonitoringStep,
)


class _CatalogAdmin(admin.ModelAdmin):
    """Clinic admins may edit the catalogs; deleting is refused (rows are referenced by history)."""

    def _allowed(self, request: HttpRequest) -> bool:
        return user_can(request.user, Action.CONFIGURE_CATALOGS)  # type: ignore[arg-type]

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class _CatalogInline(admin.TabularInline):
    """Rows of a catalog drug (its properties, its dose limits): data, not history, so a clinic
    admin may add, change and remove them."""

    extra = 1

    def _allowed(self, request: HttpRequest) -> bool:
        return user_can(request.user, Action.CONFIGURE_CATALOGS)  # type: ignore[arg-type]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)


class DrugPropertyInline(_CatalogInline):
    model = DrugProperty
    fields = ("kind", "source")


class DoseLimitInline(_CatalogInline):
    model = DoseLimit
    extra = 0
    fields = (
        "condition",
        "threshold",
        "hepatic_level",
        "keyword",
        "max_daily_dose",
        "max_per_kg",
        "reason",
        "source",
        "is_active",
    )


class MonitoringStepInline(admin.TabularInline):
    model = MonitoringStep
    extra = 1
    fields = ("position", "test", "kind", "offset_days", "interval_days", "until_day", "window_days", "rule", "label")
    ordering = ("position", "id")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_can(request.user, Action.CONFIGURE_CATALOGS)  # type: ignore[arg-type]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_can(request.user, Action.CONFIGURE_CATALOGS)  # type: ignore[arg-type]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return user_can(request.user, Action.CONFIGURE_CATALOGS)  # type: ignore[arg-type]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A step is schedule data, not history: removing one from a protocol is allowed.
        return user_can(request.user, Action.CONFIGURE_CATALOGS)  # type: ignore[arg-type]


@admin.register(MonitoringProtocol)
class MonitoringProtocolAdmin(_CatalogAdmin):
    list_display = ("name", "code")
    search_fields = ("name", "code")
    fields = ("code", "name", "description", "source")
    inlines = [MonitoringStepInline]


@admin.register(Medication)
class MedicationAdmin(_CatalogAdmin):
    list_display = ("name", "drug_class", "unit", "max_daily_dose", "monitoring_protocol", "is_active")
    list_filter = ("drug_class", "is_active", "monitoring_protocol")
    search_fields = ("name",)
    list_select_related = ("monitoring_protocol",)
    fields = (
        "name",
        "drug_class",
        "unit",
        "max_daily_dose",
        "max_dose_source",
        "monitoring_protocol",
        "level_test",
        "target_level_low",
        "target_level_high",
        "target_level_source",
        "washout_days",
        "washout_source",
        "is_active",
    )
    inlines = [DrugPropertyInline, DoseLimitInline]


@admin.register(InteractionRule)
class InteractionRuleAdmin(_CatalogAdmin):
    list_display = ("code", "severity", "hazard", "risk", "washout", "is_active")
    list_filter = ("severity", "hazard", "washout", "is_active")
    search_fields = ("code", "risk", "mechanism")
    list_select_related = ("medication_a", "medication_b")
    autocomplete_fields = ("medication_a", "medication_b")
    fields = (
        "code",
        ("medication_a", "drug_class_a", "property_a"),
        ("medication_b", "drug_class_b", "property_b"),
        "severity",
        "hazard",
        "risk",
        "mechanism",
        "action",
        "advice",
        "source",
        "washout",
        "is_active",
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # Acknowledgements record the code: once a rule exists its code stays.
        return ("code",) if obj is not None else ()
