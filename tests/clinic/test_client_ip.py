"""Source IP behind a proxy (issue 12 item 9): X-Forwarded-For only from a trusted proxy."""

import pytest
from django.test import RequestFactory, override_settings

from clinic.client_ip import client_ip
from clinic.models import AuditEvent

PROXIES = ["10.0.0.0/8", "fd00::/8"]


def _request(remote: str, forwarded: str | None = None):  # type: ignore[no-untyped-def]
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@override_settings(TRUSTED_PROXIES=[])
def test_without_trusted_proxies_the_header_is_ignored():
    assert client_ip(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=PROXIES)
@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        # A client talking to us directly cannot pick its address by sending the header.
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        # Through our proxy: the address the proxy saw.
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        # A forged left part is ignored: the right-most untrusted hop is the client.
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1"),
        # Two of our proxies in a row: skip both.
        ("10.0.0.2", "198.51.100.1, 10.1.2.3", "198.51.100.1"),
        # Spaces and IPv6.
        ("fd00::1", " 2001:db8::7 ", "2001:db8::7"),
        # No header, or only our own hops: the proxy's address is all we know.
        ("10.0.0.2", None, "10.0.0.2"),
        ("10.0.0.2", "10.9.9.9", "10.0.0.2"),
        # A garbled hop: nothing left of it is believed.
        ("10.0.0.2", "198.51.100.1, not-an-ip", "10.0.0.2"),
    ],
)
def test_trusted_proxy_chain(remote, forwarded, expected):
    assert client_ip(_request(remote, forwarded)) == expected


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["127.0.0.0/8"])
def test_audit_row_records_the_client_behind_the_proxy(client, prescriber):
    """The test client connects from 127.0.0.1: our proxy here. The audit row keeps the client."""
    client.force_login(prescriber)
    before = AuditEvent.objects.count()
    client.get("/patients/00000000-0000-4000-8000-000000000000/", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.23")
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert rows and {row.source_ip for row in rows} == {"198.51.100.23"}


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[])
def test_audit_row_ignores_the_header_from_an_untrusted_peer(client, prescriber):
    client.force_login(prescriber)
    before = AuditEvent.objects.count()
    client.get("/patients/00000000-0000-4000-8000-000000000000/", HTTP_X_FORWARDED_FOR="198.51.100.23")
    rows = list(AuditEvent.objects.order_by("id")[before:])
    assert rows and {row.source_ip for row in rows} == {"127.0.0.1"}
