from django.urls import path

from outcomes import views

app_name = "outcomes"

urlpatterns = [
    path("patients/<uuid:patient_id>/outcomes/", views.tab, name="tab"),
]
