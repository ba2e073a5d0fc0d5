from django.urls import path

from careplans import break_glass_views, history_views, list_views, views

app_name = "careplans"

urlpatterns = [
    # The caseload is a tab next to Today, which now has "/" (issue 16 item 1); same URL name.
    path("caseload/", list_views.caseload, name="caseload"),
    path("patients/", list_views.patient_directory, name="patient_directory"),
    path("patients/search/", list_views.patient_search, name="patient_search"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<uuid:patient_id>/", views.chart, name="chart"),
    path("patients/<uuid:patient_id>/details/", views.patient_edit, name="patient_edit"),
    path("patients/<uuid:patient_id>/care-plan/start/", views.care_plan_start, name="care_plan_start"),
    path("patients/<uuid:patient_id>/care-plan/edit/", views.care_plan_edit, name="care_plan_edit"),
    path("patients/<uuid:patient_id>/care-plan/history/", history_views.care_plan_history, name="care_plan_history"),
    path(
        "patients/<uuid:patient_id>/care-plan/history/<int:version>/restore/",
        history_views.care_plan_restore,
        name="care_plan_restore",
    ),
    path("patients/<uuid:patient_id>/relapse-plan/edit/", views.relapse_plan_edit, name="relapse_plan_edit"),
    path("patients/<uuid:patient_id>/goals/new/", views.goal_edit, name="goal_create"),
    path("patients/<uuid:patient_id>/goals/<uuid:goal_id>/edit/", views.goal_edit, name="goal_edit"),
    path("patients/<uuid:patient_id>/agreements/new/", views.agreement_create, name="agreement_create"),
    path("patients/<uuid:patient_id>/care-team/", views.care_team, name="care_team"),
    path("patients/<uuid:patient_id>/care-team/<uuid:member_id>/end/", views.care_team_end, name="care_team_end"),
    path(
        "patients/<uuid:patient_id>/care-team/<uuid:member_id>/undo-end/",
        views.care_team_end_undo,
        name="care_team_end_undo",
    ),
    path("patients/<uuid:patient_id>/break-glass/", break_glass_views.break_glass, name="break_glass"),
    path("break-glass/", break_glass_views.break_glass_report, name="break_glass_report"),
]
