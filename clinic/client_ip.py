"""The client's address, as the audit trail, the sign-in throttles and django-axes see it (issue 12 item 9).

Behind a reverse proxy REMOTE_ADDR is the proxy's address. `X-Forwarded-For` is believed only
when the request came from a proxy we run (`TRUSTED_PROXIES`, CIDR blocks): anyone else can
write that header. Each trusted proxy appends the address it saw, so the client is the
right-most address that is not itself one of our proxies; anything left of it was written by
the client and is ignored.
"""

import ipaddress
from functools import lru_cache

from django.conf import settings
from django.http import HttpRequest

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(blocks: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(block, strict=False) for block in blocks)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, unless it is a trusted proxy: then the right-most untrusted X-Forwarded-For hop."""
    remote = _parse(request.META.get("REMOTE_ADDR") or "")
    if remote is None:
        return None
    networks = _networks(tuple(settings.TRUSTED_PROXIES))
    if not networks or not _trusted(remote, networks):
        return str(remote)
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    for hop in reversed(hops):
        address = _parse(hop)
        if address is None:
            return str(remote)  # a garbled chain: trust nothing left of the break
        if not _trusted(address, networks):
            return str(address)
    # Every hop was one of ours (or there was no header): the proxy's own address is all we know.
    return str(remote)
