"""Django admin: staff accounts only here. Catalogs register in their own apps.

The audit trail is shown read-only; patients and clinical records are not in the
admin at all, so every change to them goes through services, access checks and audit.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest

from clinic.models import AuditEvent, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,  # type: ignore[misc]
        ("Tandem roles", {"fields": ("is_prescriber", "is_therapist", "is_care_manager", "is_clinic_admin")}),
    )
    list_display = (
        "username",
        "first_name",
        "last_name",
        "is_prescriber",
        "is_therapist",
        "is_care_manager",
        "is_clinic_admin",
        "is_active",
    )


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("id", "occurred_at", "actor", "action", "object_type", "object_id", "outcome")
    list_filter = ("action", "outcome")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
