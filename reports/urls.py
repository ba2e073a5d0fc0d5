"""Pages of the clinic reports (included by clinic/urls.py). The API routes are in
reports/api.py (`register_routes`)."""

from django.urls import path

from reports import views as report_views

app_name = "reports"

urlpatterns = [
    path("reports/", report_views.reports_index, name="index"),
    path("reports/runs/<uuid:run_id>/", report_views.report_run, name="run"),
    path("reports/runs/<uuid:run_id>/csv/", report_views.report_run_csv, name="run_csv"),
    path("reports/<slug:key>/", report_views.report_page, name="report"),
    path("reports/<slug:key>/print/", report_views.report_print, name="print"),
    path("reports/<slug:key>/export/", report_views.report_export, name="export"),
]
