from django.urls import path

from outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("outcomes/caseload/", views.caseload, name="mbc_caseload"),
    path("patients/<uuid:patient_id>/outcomes/", views.tab, name="tab"),
    path("patients/<uuid:patient_id>/assessments/", views.assessment_list, name="assessment_list"),
    path(
        "patients/<uuid:patient_id>/assessments/new/<slug:instrument>/",
        views.assessment_create,
        name="assessment_create",
    ),
    path(
        "patients/<uuid:patient_id>/assessments/<uuid:assessment_id>/",
        views.assessment_detail,
        name="assessment_detail",
    ),
    path(
        "patients/<uuid:patient_id>/assessments/<uuid:assessment_id>/entered-in-error/",
        views.assessment_enter_in_error,
        name="assessment_enter_in_error",
    ),
    # The first spelling, kept so bookmarks and old forms still work (issue 10).
    path(
        "patients/<uuid:patient_id>/assessments/<uuid:assessment_id>/enter-in-error/",
        views.assessment_enter_in_error,
        name="assessment_enter_in_error_legacy",
    ),
    path("patients/<uuid:patient_id>/cssrs/new/", views.cssrs_create, name="cssrs_create"),
    path("clinic/safety-alert-recipients/", views.safety_alert_recipients, name="safety_alert_recipients"),
    path("patients/<uuid:patient_id>/safety-follow-up/", views.safety_follow_up, name="safety_follow_up"),
    path("patients/<uuid:patient_id>/case-review/flag/", views.case_review_flag, name="case_review_flag"),
    path("patients/<uuid:patient_id>/case-review/record/", views.case_review_record, name="case_review_record"),
    path("patients/<uuid:patient_id>/tasks/<uuid:task_id>/done/", views.task_complete, name="task_complete"),
]
