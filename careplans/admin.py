"""Patients and care plans are edited in the app, where access and audit apply; not in Django admin."""
