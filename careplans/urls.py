from django.urls import path

from careplans import views

app_name = "careplans"

urlpatterns = [
    path("", views.caseload, name="caseload"),
    path("patients/", views.patient_directory, name="patient_directory"),
    path("patients/new/", views.patient_create, name="patient_create"),
    path("patients/<uuid:patient_id>/", views.chart, name="chart"),
    path("patients/<uuid:patient_id>/details/", views.patient_edit, name="patient_edit"),
    path("patients/<uuid:patient_id>/care-plan/start/", views.care_plan_start, name="care_plan_start"),
    path("patients/<uuid:patient_id>/care-plan/edit/", views.care_plan_edit, name="care_plan_edit"),
    path("patients/<uuid:patient_id>/relapse-plan/edit/", views.relapse_plan_edit, name="relapse_plan_edit"),
    path("patients/<uuid:patient_id>/goals/new/", views.goal_edit, name="goal_create"),
    path("patients/<uuid:patient_id>/goals/<uuid:goal_id>/edit/", views.goal_edit, name="goal_edit"),
    path("patients/<uuid:patient_id>/agreements/new/", views.agreement_create, name="agreement_create"),
    path("patients/<uuid:patient_id>/care-team/", views.care_team, name="care_team"),
    path("patients/<uuid:patient_id>/care-team/<uuid:member_id>/end/", views.care_team_end, name="care_team_end"),
]

# Inbox, reminder delivery and the care team's thread (issue 3: reminders).
from careplans import inbox_views, team_views  # noqa: E402

urlpatterns += [
    path("inbox/", inbox_views.inbox_page, name="inbox"),
    path("inbox/delivery/", inbox_views.reminder_delivery, name="reminder_delivery"),
    path("inbox/<uuid:reminder_id>/acknowledge/", inbox_views.reminder_acknowledge, name="reminder_acknowledge"),
    path("inbox/<uuid:reminder_id>/snooze/", inbox_views.reminder_snooze, name="reminder_snooze"),
    path("inbox/<uuid:reminder_id>/done/", inbox_views.reminder_complete, name="reminder_complete"),
    path("patients/<uuid:patient_id>/team/", team_views.team_thread, name="team_thread"),
    path("patients/<uuid:patient_id>/team/<uuid:message_id>/reply/", team_views.team_reply, name="team_reply"),
]
