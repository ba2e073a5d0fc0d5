from django.urls import path

from medications import views

app_name = "medications"

urlpatterns = [
    path("patients/<uuid:patient_id>/medications/", views.tab, name="tab"),
]
