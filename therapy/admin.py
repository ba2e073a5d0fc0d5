"""Django admin: the modality catalog only.

Courses, sessions and homework are clinical records: they change only through
services (access checks, audit). ProcessNote is never registered here (SECURITY.md PN-2).
"""

from django.contrib import admin

from therapy.models import Modality


@admin.register(Modality)
class ModalityAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "default_duration_minutes", "involves_others", "is_active")
    list_filter = ("is_active", "involves_others")
    search_fields = ("code", "name")
    ordering = ("name",)
    fields = ("code", "name", "description", "default_duration_minutes", "involves_others", "is_active")
