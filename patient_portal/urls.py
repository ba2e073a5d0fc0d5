from django.urls import path

from patient_portal import public_views, views

app_name = "patient_portal"

urlpatterns = [
    path("patients/<uuid:patient_id>/links/", views.tab, name="tab"),
    path("patients/<uuid:patient_id>/links/new/", views.link_create, name="link_create"),
    path("patients/<uuid:patient_id>/links/<uuid:link_id>/revoke/", views.link_revoke, name="link_revoke"),
    path("patients/<uuid:patient_id>/check-in-schedule/", views.schedule_set, name="schedule_set"),
    path("patients/<uuid:patient_id>/safety-plan/", views.safety_plan_edit, name="safety_plan_edit"),
    path("patients/<uuid:patient_id>/goals/<uuid:goal_id>/target/", views.goal_target_edit, name="goal_target_edit"),
    path("patients/<uuid:patient_id>/plan/print/", views.plan_print, name="plan_print"),
]

# The patient's side: no login, the token is the only credential (its own namespace, so the
# access-path test can tell these apart from the care team's pages).
public_patterns = (
    [path("p/<str:token>/", public_views.open_link, name="open")],
    "patient_portal_public",
)
