"""`make bench`: one benchmark harness for issue 14 (see benchmarks/harness/README.md).

Creates its own PostgreSQL databases, seeds them by COPY, serves each with gunicorn and
times the pages and APIs beside raw SQL and the plain-Django floor. Nothing here is real:
names, scores and dates are generated.
"""
