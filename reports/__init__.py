"""Clinic reports for admins (issue 7): one module per report, listed in `catalog`.

reports is an app of its own (moved from outcomes, issue 10): it may read every clinical
app (DESIGN.md), and nothing but clinic/urls.py imports it. Every report aggregates in the
database with a fixed number of queries, whatever the number of patients.
"""
