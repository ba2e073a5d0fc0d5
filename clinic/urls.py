"""The one place that knows every app (DESIGN.md)."""

from django.contrib import admin
from django.contrib.auth import views as django_auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from careplans import api as careplans_api
from careplans import break_glass_api
from clinic import api as clinic_api
from clinic import audit_views, auth_views, views
from clinic.api_docs import ApiDocsView
from cocm import api as cocm_api
from medications import api as medications_api
from outcomes import api as outcomes_api
from outcomes import cssrs_api
from patient_portal import api as patient_portal_api
from patient_portal.urls import public_patterns as patient_link_patterns
from reminders import api as reminders_api
from reports import api as report_api
from therapy import api as therapy_api
from today import api as today_api

router = SimpleRouter()
router.register("users", clinic_api.UserViewSet, basename="user")
router.register("audit-events", clinic_api.AuditEventViewSet, basename="auditevent")
router.register("patients", careplans_api.PatientViewSet, basename="patient")
router.register(
    r"patients/(?P<patient_public_id>[0-9a-f-]{36})/care-team", careplans_api.CareTeamViewSet, basename="careteam"
)
router.register(
    r"patients/(?P<patient_public_id>[0-9a-f-]{36})/break-glass",
    break_glass_api.BreakGlassViewSet,
    basename="breakglass",
)
router.register("break-glass", break_glass_api.BreakGlassReviewViewSet, basename="breakglassgrant")
router.register("care-plans", careplans_api.CarePlanViewSet, basename="careplan")
router.register(r"care-plans/(?P<care_plan_public_id>[0-9a-f-]{36})/goals", careplans_api.GoalViewSet, basename="goal")
router.register("reminders", reminders_api.ReminderViewSet, basename="reminder")
router.register(
    r"patients/(?P<patient_public_id>[0-9a-f-]{36})/messages", reminders_api.TeamMessageViewSet, basename="teammessage"
)
medications_api.register_routes(router)
therapy_api.register_routes(router)
outcomes_api.register_routes(router)
cssrs_api.register_routes(router)  # C-SSRS screeners (issue 16 item 3): /api/v1/cssrs-screens/
today_api.register_routes(router)  # the caller's worklist (issue 16 item 1): /api/v1/worklist/
report_api.register_routes(router)  # clinic reports (issue 7): /api/v1/reports/...
patient_portal_api.register_routes(router)  # patient links (issue 17)
cocm_api.register_routes(router)  # collaborative-care minutes (issue 16 item 10)

clinic_patterns = (
    [
        path("staff/", views.staff_list, name="staff_list"),
        path("staff/new/", views.staff_edit, name="staff_create"),
        path("staff/<uuid:user_id>/", views.staff_edit, name="staff_edit"),
        path("staff/<uuid:user_id>/reset-mfa/", auth_views.staff_reset_mfa, name="staff_reset_mfa"),
        path("staff/<uuid:user_id>/send-reset-link/", auth_views.staff_send_reset_link, name="staff_send_reset_link"),
        path("audit/", audit_views.audit_log, name="audit_log"),
    ],
    "clinic",
)

# A page that is not there: for a chart off a clinician's team, the page offers break-glass.
handler404 = "clinic.views.not_found"

urlpatterns = [
    path("", include("today.urls")),  # "/" is Today for clinicians (issue 16 item 1)
    path("", include("careplans.urls")),
    path("", include("reminders.urls")),
    path("", include("medications.urls")),
    path("", include("therapy.urls")),
    path("", include("outcomes.urls")),
    path("", include("reports.urls")),
    path("", include("cocm.urls")),
    path("", include(clinic_patterns)),
    path("", include("fhir_r4.urls")),  # FHIR R4 exchange (issue 18): /fhir/R4/...
    path("", include("patient_portal.urls")),  # patient links, safety plan, take-home plan (issue 17)
    path("", include(patient_link_patterns)),  # the patient's side: no login, the token only
    path("login/", auth_views.SignInView.as_view(), name="login"),
    path("login/code/", auth_views.login_code, name="login_code"),
    path("logout/", django_auth_views.LogoutView.as_view(), name="logout"),
    # Password reset by e-mail (Django's views): the same answer whether or not the account exists.
    path("password-reset/", auth_views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        django_auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "password-reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "password-reset/done/",
        django_auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("account/", auth_views.account, name="account"),
    path("account/password/", auth_views.account_password, name="account_password"),
    path("account/two-step/", auth_views.account_mfa, name="account_mfa"),
    path("account/two-step/qr.svg", auth_views.account_mfa_qr, name="account_mfa_qr"),
    path("account/two-step/recovery-codes/", auth_views.account_recovery_codes, name="account_recovery_codes"),
    path("account/sign-out-everywhere/", auth_views.account_sign_out_everywhere, name="account_sign_out_everywhere"),
    path("session/keepalive/", auth_views.session_keepalive, name="session_keepalive"),
    path("session/held-form/", auth_views.held_form, name="held_form"),
    path("health/", views.health, name="health"),
    path("api/v1/auth/token/", clinic_api.TokenLoginView.as_view(), name="api-token"),
    path("api/v1/auth/logout/", clinic_api.TokenLogoutView.as_view(), name="api-logout"),
    path("api/v1/auth/logout-all/", clinic_api.TokenLogoutAllView.as_view(), name="api-logout-all"),
    *patient_portal_api.api_urlpatterns(),  # safety plan GET/PATCH; the no-login self-report endpoint
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    # The Django admin signs in through Tandem's own sign-in, so its second step cannot be skipped.
    path("django-admin/login/", RedirectView.as_view(pattern_name="login", query_string=True)),
    path("django-admin/", admin.site.urls),
]
