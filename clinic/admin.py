"""Django admin: staff accounts only here. Catalogs register in their own apps.

The audit trail is shown read-only; patients and clinical records are not in the
admin at all, so every change to them goes through services, access checks and audit.
"""

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.http import HttpRequest

from clinic.access import SELF_ROLE_CHANGE_MESSAGE, require_not_self
from clinic.audit import audit_record, diff, snapshot
from clinic.credentials import credentials_revoke
from clinic.models import AuditAction, AuditEvent, User
from clinic.services import USER_FIELDS, roles_changed_announce

# What grants access: a user may never change these on their own account, here as anywhere
# (issue 12 item 1: a superuser is bound by the same rule in the Django admin).
ACCESS_FIELDS = (
    "is_prescriber",
    "is_therapist",
    "is_care_manager",
    "is_clinic_admin",
    "is_superuser",
    "is_staff",
    "groups",
    "user_permissions",
)
ADMIN_AUDITED_FIELDS = (*USER_FIELDS, "is_superuser", "is_staff")


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

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        readonly = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and obj.pk == request.user.pk:
            return (*readonly, *ACCESS_FIELDS)
        return readonly

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        """The same rule and the same trail as the staff page: audited, the other admins told."""
        actor = request.user
        assert isinstance(actor, User)
        before_row = User.objects.filter(pk=obj.pk).first() if change else None
        before = snapshot(before_row, ADMIN_AUDITED_FIELDS) if before_row is not None else {}
        roles_before = list(before_row.roles) if before_row is not None else []
        if (
            before_row is not None
            and sorted(obj.roles) != sorted(roles_before)
            or (before_row is not None and before_row.is_staff != obj.is_staff)
        ):
            require_not_self(
                actor, obj, SELF_ROLE_CHANGE_MESSAGE, object_type="clinic.user", object_id=str(obj.public_id)
            )
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            event = audit_record(
                actor=actor,
                action=AuditAction.UPDATE if change else AuditAction.CREATE,
                obj=obj,
                changes=diff(before, snapshot(obj, ADMIN_AUDITED_FIELDS)),
            )
            roles_changed_announce(user=obj, actor=actor, before=roles_before, event=event)
            if change and sorted(obj.roles) != sorted(roles_before):
                credentials_revoke(user=obj, actor=actor, reason="role change")


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
