"""Where a request may go: redirect targets and the hosts a token is for.

A server we ask may answer with a redirect anywhere, including the cloud
metadata service (``169.254.169.254``, ``metadata.google.internal``) or
services on the build machine's own network.  :func:`redirect_refusal`
decides before any connection: a redirect to a link-local address or a
metadata host is always refused; one from a public address to a loopback,
private or otherwise non-public one is refused too (a redirect between two
servers on the same private network, or on loopback, stays allowed), and
:func:`redirect_headers` keeps a token from following a redirect to
another origin.

Names are resolved to decide (a DNS answer may change between this check
and the connection; the check stops the common case, not a rebinding DNS
server).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Mapping
from urllib.parse import urlsplit

__all__ = ["host_of", "redirect_refusal", "token_host_matches"]

IP = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud metadata services by name: refused without even a DNS lookup.
METADATA_NAMES = frozenset(
    {
        "metadata",
        "metadata.google.internal",
        "metadata.goog",
        "instance-data",
        "instance-data.ec2.internal",
        "metadata.tencentyun.com",
        "metadata.azure.internal",
    }
)
#: Metadata addresses outside 169.254.0.0/16 (AWS over IPv6, Alibaba Cloud).
METADATA_ADDRESSES = frozenset(
    {ipaddress.ip_address("fd00:ec2::254"), ipaddress.ip_address("100.100.100.200")}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_of(url: str) -> str:
    """The lower-case host name or address of ``url``, without brackets or port."""
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def _literal(host: str) -> IP | None:
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _addresses(host: str) -> list[IP]:
    """The host's addresses: itself when it is one, else what DNS says
    (nothing when the lookup fails: the request then fails on its own)."""
    literal = _literal(host)
    if literal is not None:
        return [literal]
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    found = [_literal(str(info[4][0])) for info in infos]
    return [a for a in found if a is not None]


def _always_refused(address: IP) -> bool:
    return address.is_link_local or address in METADATA_ADDRESSES


def _public(address: IP) -> bool:
    return address.is_global and not address.is_multicast


def _public_host(host: str) -> bool:
    """Whether ``host`` has a public address (a name counts as public when
    any of its addresses is: the connection may have used that one)."""
    addresses = _addresses(host)
    return not addresses or any(_public(a) for a in addresses)


def redirect_refusal(source_url: str, target_url: str) -> str:
    """Why a redirect from ``source_url`` to ``target_url`` is refused ("" if not).

    No connection is made; names other than metadata names are resolved.
    """
    scheme = urlsplit(target_url).scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return f"not an http(s) URL ({scheme or 'no scheme'})"
    host = host_of(target_url)
    if not host:
        return "no host"
    if host in METADATA_NAMES:
        return "a cloud metadata host"
    targets = _addresses(host)
    for address in targets:
        if _always_refused(address):
            return f"{address} is a link-local or cloud metadata address"
    private = [a for a in targets if not _public(a)]
    if private and _public_host(host_of(source_url)):
        return f"{private[0]} is not a public address, and the redirect came from one"
    return ""


def redirect_headers(
    source_url: str, target_url: str, headers: Mapping[str, str]
) -> dict[str, str]:
    """The ``headers`` that may follow a redirect from ``source_url`` to
    ``target_url``: a token is for the server it was made for, so
    ``Authorization`` is dropped when the origin (scheme, host, port) changes."""
    if _origin(target_url) == _origin(source_url):
        return dict(headers)
    return {k: v for k, v in headers.items() if k.lower() != "authorization"}


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def _split(host: str) -> tuple[str, int | None]:
    """``"example.org:8443"`` -> ``("example.org", 8443)``; IPv6 in brackets."""
    parts = urlsplit(f"//{host}")
    return (parts.hostname or "").rstrip(".").lower(), parts.port


def token_host_matches(url: str, hosts: Iterable[str]) -> bool:
    """Whether ``url`` is on one of ``hosts`` (``"name"`` or ``"name:port"``).

    A host given without a port matches only the scheme's default port, so
    ``mastodon.social`` never matches ``mastodon.social:8080``.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        return False
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError:
        return False
    name = (parts.hostname or "").rstrip(".").lower()
    for host in hosts:
        want, want_port = _split(host)
        if want and want == name and (want_port or _DEFAULT_PORTS[scheme]) == port:
            return True
    return False
