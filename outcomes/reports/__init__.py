"""Clinic reports for admins (issue 7): one module per report, listed in `catalog`.

outcomes is the one app allowed to read medications and therapy (DESIGN.md), so the
reports live here. Every report aggregates in the database with a fixed number of
queries, whatever the number of patients.
"""
