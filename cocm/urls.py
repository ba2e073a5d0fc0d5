"""The chart tab of collaborative-care minutes (included by clinic/urls.py)."""

from django.urls import path

from cocm import views

app_name = "cocm"

urlpatterns = [
    path("patients/<uuid:patient_id>/care-minutes/", views.care_minutes_page, name="minutes"),
]
