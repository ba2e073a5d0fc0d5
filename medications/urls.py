from django.urls import path

from medications import views

app_name = "medications"

urlpatterns = [
    path("patients/<uuid:patient_id>/medications/", views.tab, name="tab"),
    path("patients/<uuid:patient_id>/medications/start/", views.regimen_start, name="regimen_start"),
    path("patients/<uuid:patient_id>/medications/<uuid:regimen_id>/dose/", views.dose_change, name="dose_change"),
    path(
        "patients/<uuid:patient_id>/medications/<uuid:regimen_id>/dose/<uuid:change_id>/entered-in-error/",
        views.dose_change_error,
        name="dose_change_error",
    ),
    *[
        path(
            f"patients/<uuid:patient_id>/medications/<uuid:regimen_id>/{verb}/",
            views.regimen_status,
            {"verb": verb},
            name=f"regimen_{verb}",
        )
        for verb in ("pause", "resume", "stop")
    ],
    path(
        "patients/<uuid:patient_id>/medications/side-effects/new/", views.side_effect_create, name="side_effect_create"
    ),
    path("patients/<uuid:patient_id>/medications/adherence/new/", views.adherence_create, name="adherence_create"),
    path("patients/<uuid:patient_id>/medications/labs/new/", views.lab_create, name="lab_create"),
    path("patients/<uuid:patient_id>/medications/profile/", views.profile_edit, name="profile_edit"),
    path(
        "patients/<uuid:patient_id>/medications/critical/<uuid:critical_id>/action/",
        views.critical_action,
        name="critical_action",
    ),
    path(
        "patients/<uuid:patient_id>/medications/<uuid:regimen_id>/monitoring/<slug:test>/exception/",
        views.monitoring_exception_create,
        name="monitoring_exception",
    ),
    path(
        "patients/<uuid:patient_id>/medications/<uuid:regimen_id>/injections/new/",
        views.injection_create,
        name="injection_create",
    ),
    path(
        "patients/<uuid:patient_id>/medications/safety-profile/",
        views.medication_profile_edit,
        name="medication_profile",
    ),
]
