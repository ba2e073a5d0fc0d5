"""SE-1 idle limit without a session write per page view (issue 14): the session is saved
(and its 15 minutes renewed) at most once a minute; idle for 15 minutes still signs out."""

from datetime import timedelta

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.factories import PASSWORD


def session_writes(client, path: str = "/") -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return sum(
        1
        for q in queries.captured_queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and "django_session" in q["sql"]
    )


def test_page_views_within_a_minute_do_not_write_the_session(client, prescriber, patient):
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        assert session_writes(client) == 1  # first request after a minute: renewed
    with time_machine.travel(start + timedelta(seconds=90), tick=False):
        assert session_writes(client) == 0
    with time_machine.travel(start + timedelta(seconds=120), tick=False):
        assert session_writes(client) == 0
    with time_machine.travel(start + timedelta(seconds=122), tick=False):
        assert session_writes(client) == 1


def test_a_user_active_every_50_seconds_is_never_signed_out(client, prescriber, patient):
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    start = timezone.now()
    for step in range(1, 40):  # 32 minutes, a request every 50 s: some renew, most do not
        with time_machine.travel(start + timedelta(seconds=50 * step), tick=False):
            assert client.get("/").status_code == 200


def test_idle_15_minutes_after_the_last_renewal_signs_out_even_if_a_later_request_did_not_renew(
    client, prescriber, patient
):
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=70), tick=False):
        assert session_writes(client) == 1  # renewed at 70 s: ends at 15:70
    with time_machine.travel(start + timedelta(seconds=100), tick=False):
        assert session_writes(client) == 0  # not renewed
    with time_machine.travel(start + timedelta(seconds=70, minutes=15, milliseconds=500), tick=False):
        response = client.get("/")
    # Never longer than 15 minutes after a renewal; at most a minute shorter than 15 after the last request.
    assert response.status_code == 302 and response["Location"].startswith("/login/")


def test_stay_signed_in_renews_at_once(client, prescriber, patient):
    client.post("/login/", {"username": "prescriber", "password": PASSWORD})
    start = timezone.now()
    with time_machine.travel(start + timedelta(seconds=10), tick=False):
        with CaptureQueriesContext(connection) as queries:
            client.post("/session/keepalive/", headers={"X-Requested-With": "fetch"})
        assert any("django_session" in q["sql"] and q["sql"].startswith("UPDATE") for q in queries.captured_queries)
    with time_machine.travel(start + timedelta(minutes=15, seconds=5), tick=False):  # 14:55 after the keepalive
        assert client.get("/").status_code == 200
