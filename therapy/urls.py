from django.urls import path

from therapy import views

app_name = "therapy"

urlpatterns = [
    path("patients/<uuid:patient_id>/therapy/", views.tab, name="tab"),
]
