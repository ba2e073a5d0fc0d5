"""The Celery app. With no REDIS_URL, settings make every task run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

app = Celery("tandem")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Clinic reports keep their task in outcomes/report_tasks.py (issue 7).
app.autodiscover_tasks(["outcomes"], related_name="report_tasks")
