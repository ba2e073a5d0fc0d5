"""The one place that knows every app (DESIGN.md)."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from careplans import api as careplans_api
from clinic import api as clinic_api
from clinic import views
from clinic.api_docs import ApiDocsView
from medications import api as medications_api
from outcomes import api as outcomes_api
from reminders import api as reminders_api
from reports import api as report_api
from therapy import api as therapy_api

router = SimpleRouter()
router.register("users", clinic_api.UserViewSet, basename="user")
router.register("audit-events", clinic_api.AuditEventViewSet, basename="auditevent")
router.register("patients", careplans_api.PatientViewSet, basename="patient")
router.register(
    r"patients/(?P<patient_public_id>[0-9a-f-]{36})/care-team", careplans_api.CareTeamViewSet, basename="careteam"
)
router.register("care-plans", careplans_api.CarePlanViewSet, basename="careplan")
router.register(r"care-plans/(?P<care_plan_public_id>[0-9a-f-]{36})/goals", careplans_api.GoalViewSet, basename="goal")
router.register("reminders", reminders_api.ReminderViewSet, basename="reminder")
router.register(
    r"patients/(?P<patient_public_id>[0-9a-f-]{36})/messages", reminders_api.TeamMessageViewSet, basename="teammessage"
)
medications_api.register_routes(router)
therapy_api.register_routes(router)
outcomes_api.register_routes(router)
report_api.register_routes(router)  # clinic reports (issue 7): /api/v1/reports/...

clinic_patterns = (
    [
        path("staff/", views.staff_list, name="staff_list"),
        path("staff/new/", views.staff_edit, name="staff_create"),
        path("staff/<uuid:user_id>/", views.staff_edit, name="staff_edit"),
    ],
    "clinic",
)

urlpatterns = [
    path("", include("careplans.urls")),
    path("", include("reminders.urls")),
    path("", include("medications.urls")),
    path("", include("therapy.urls")),
    path("", include("outcomes.urls")),
    path("", include("reports.urls")),
    path("", include(clinic_patterns)),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("health/", views.health, name="health"),
    path("api/v1/auth/token/", clinic_api.TokenLoginView.as_view(), name="api-token"),
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("django-admin/", admin.site.urls),
]
