"""`/fhir/R4/...` (included by clinic/urls.py, the one place that knows every app)."""

from django.urls import path, re_path

from fhir_r4 import views

urlpatterns = [
    path("fhir/R4/", views.TransactionView.as_view(), name="fhir-transaction"),
    path("fhir/R4/metadata", views.MetadataView.as_view(), name="fhir-metadata"),
    path("fhir/R4/Patient", views.PatientSearchView.as_view(), name="fhir-patient-search"),
    path("fhir/R4/Patient/<str:patient_id>", views.PatientReadView.as_view(), name="fhir-patient-read"),
    path(
        "fhir/R4/Patient/<str:patient_id>/$everything",
        views.PatientEverythingView.as_view(),
        name="fhir-patient-everything",
    ),
    path("fhir/R4/Observation", views.ObservationSearchView.as_view(), name="fhir-observation-search"),
    path(
        "fhir/R4/MedicationRequest", views.MedicationRequestSearchView.as_view(), name="fhir-medicationrequest-search"
    ),
    path("fhir/R4/$export", views.ExportKickoffView.as_view(), name="fhir-export"),
    path("fhir/R4/$export-status/<str:export_id>", views.ExportStatusView.as_view(), name="fhir-export-status"),
    re_path(
        r"^fhir/R4/\$export-file/(?P<export_id>[^/]+)/(?P<name>[A-Za-z]+\.ndjson)$",
        views.ExportFileView.as_view(),
        name="fhir-export-file",
    ),
]
