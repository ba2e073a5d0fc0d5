from django.urls import path

from therapy import views

app_name = "therapy"

urlpatterns = [
    path("patients/<uuid:patient_id>/therapy/", views.tab, name="tab"),
    path("patients/<uuid:patient_id>/therapy/courses/new/", views.course_open, name="course_open"),
    path("patients/<uuid:patient_id>/therapy/courses/<uuid:course_id>/edit/", views.course_edit, name="course_edit"),
    path(
        "patients/<uuid:patient_id>/therapy/courses/<uuid:course_id>/sessions/new/",
        views.session_log,
        name="session_log",
    ),
    path(
        "patients/<uuid:patient_id>/therapy/sessions/<uuid:session_id>/edit/", views.session_edit, name="session_edit"
    ),
    path(
        "patients/<uuid:patient_id>/therapy/sessions/<uuid:session_id>/entered-in-error/",
        views.session_enter_in_error,
        name="session_enter_in_error",
    ),
    # The first spelling, kept so bookmarks and old forms still work (issue 10).
    path(
        "patients/<uuid:patient_id>/therapy/sessions/<uuid:session_id>/enter-in-error/",
        views.session_enter_in_error,
        name="session_enter_in_error_legacy",
    ),
]
