"""Sign-in, health check and staff accounts (clinic admins)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET

from clinic.access import Action, AuthenticatedRequest, clinical_page, user_can
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


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The 404 page (handler404). On a page naming a patient, a clinician whose role may break
    glass is offered emergency access (issue 12 item 6). Offered for any id, known or not, so the
    page says nothing about what exists; the request itself checks the patient."""
    offer = None
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if (
        match is not None
        and "patient_id" in match.kwargs
        and match.url_name != "break_glass"
        and user is not None
        and user_can(user, Action.BREAK_GLASS)
    ):
        offer = match.kwargs["patient_id"]
    context = {"break_glass_patient_id": offer, "hours": settings.BREAK_GLASS_HOURS, "reason_max": 500}
    return render(request, "404.html", context, status=404)


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
    form = StaffForm(
        request.POST or None,
        initial=initial,
        editing=member is not None,
        own_account=member is not None and member.pk == request.user.pk,
    )
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
