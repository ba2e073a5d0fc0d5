"""Sign-in throttles per address and per account (issue 13, SECURITY.md AU-3)."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN_URL = "/api/v1/auth/token/"
WRONG = "wrong password!"


def web(address: str) -> Client:
    return Client(REMOTE_ADDR=address)


def api(address: str) -> APIClient:
    return APIClient(REMOTE_ADDR=address)


def test_a_strangers_failures_do_not_lock_the_clinician_out_of_their_own_machine(prescriber):
    stranger = web("203.0.113.9")
    statuses = [stranger.post("/login/", {"username": "prescriber", "password": WRONG}).status_code for _ in range(12)]
    assert statuses[:9] == [200] * 9 and set(statuses[9:]) <= {403, 429}  # the stranger is locked out
    assert stranger.post("/login/", {"username": "prescriber", "password": PASSWORD}).status_code in (403, 429)
    own = web("10.0.0.5")
    assert own.post("/login/", {"username": "prescriber", "password": PASSWORD}).status_code == 302


def test_the_token_endpoint_locks_per_username_and_address_too(prescriber):
    stranger = api("203.0.113.9")
    for _ in range(10):
        stranger.post(TOKEN_URL, {"username": "prescriber", "password": WRONG}, format="json")
    assert stranger.post(TOKEN_URL, {"username": "prescriber", "password": PASSWORD}, format="json").status_code in (
        403,
        429,
    )
    assert (
        api("10.0.0.5").post(TOKEN_URL, {"username": "prescriber", "password": PASSWORD}, format="json").status_code
        == 200
    )


@pytest.mark.parametrize("endpoint", ["page", "token"])
def test_one_address_is_limited_to_30_attempts_a_minute_whatever_the_username(db, endpoint, settings):
    address = "198.51.100.7"
    statuses = []
    for n in range(35):
        body = {"username": f"someone{n}", "password": WRONG}
        if endpoint == "page":
            statuses.append(web(address).post("/login/", body).status_code)
        else:
            statuses.append(api(address).post(TOKEN_URL, body, format="json").status_code)
    assert statuses[:30] == [200 if endpoint == "page" else 400] * 30
    assert set(statuses[30:]) == {429}
    # Another address is not affected.
    other = {"username": "someone", "password": WRONG}
    assert web("198.51.100.8").post("/login/", other).status_code == 200


def test_429_carries_retry_after(db):
    for n in range(31):
        response = api("198.51.100.7").post(TOKEN_URL, {"username": f"u{n}", "password": WRONG}, format="json")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0


def test_an_account_takes_at_most_50_failures_an_hour_from_everywhere(prescriber):
    """Distributed guessing (many addresses, each under its own lock) still stops at the ceiling."""
    processed = 0
    for n in range(80):
        response = web(f"192.0.2.{n}").post("/login/", {"username": "prescriber", "password": WRONG})
        processed += response.status_code == 200
    assert processed == 50
    client = web("10.9.9.9")
    assert client.post("/login/", {"username": "prescriber", "password": PASSWORD}).status_code == 429
    assert "_auth_user_id" not in client.session


def test_locked_attempts_do_not_count_toward_the_account_ceiling(prescriber):
    stranger = web("203.0.113.9")
    for _ in range(200):  # 10 are checked, the other 190 are refused by the lock
        stranger.post("/login/", {"username": "prescriber", "password": WRONG})
    assert web("10.0.0.5").post("/login/", {"username": "prescriber", "password": PASSWORD}).status_code == 302
