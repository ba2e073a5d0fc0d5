"""Sign-in, health check and staff accounts (clinic admins)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from clinic.access import Action, AuthenticatedRequest, clinical_page
from clinic.credentials import password_reset_email
from clinic.forms import StaffForm
from clinic.selectors import staff_member_for, staff_visible_to
from clinic.services import user_create, user_update


@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness + database check for the container health probe. No data, no auth."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@clinical_page(action=Action.MANAGE_STAFF)
def staff_list(request: AuthenticatedRequest) -> HttpResponse:
    return render(request, "clinic/staff_list.html", {"staff": staff_visible_to(request.user)})


@clinical_page(action=Action.MANAGE_STAFF, methods=["GET", "POST"])
def staff_edit(request: AuthenticatedRequest, user_id: str | None = None) -> HttpResponse:
    member = staff_member_for(user=request.user, public_id=user_id) if user_id else None
    initial = {}
    if member is not None:
        initial = {
            "username": member.username,
            "first_name": member.first_name,
            "last_name": member.last_name,
            "email": member.email,
            "roles": member.roles,
            "is_active": member.is_active,
        }
    form = StaffForm(request.POST or None, initial=initial, editing=member is not None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            if member is None:
                created = user_create(actor=request.user, **data)
                password_reset_email(user=created, actor=request.user)
            else:
                data.pop("username", None)
                user_update(user=member, actor=request.user, **data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Staff account saved.")
            return redirect("clinic:staff_list")
    return render(request, "clinic/staff_form.html", {"form": form, "member": member})
