"""Which receiver URLs the shop may call (server-side request forgery).

In production (and wherever `WEBHOOK_ALLOW_PRIVATE_URLS` is false) a URL must be `https://`
and every address its host resolves to must be public: private, loopback, link-local (the
cloud metadata address 169.254.169.254 included), carrier-grade NAT, multicast, reserved and
unspecified ranges are refused, in IPv4 and IPv6 (IPv4-mapped, NAT64 and 6to4 addresses are
judged by the IPv4 address inside them). The check runs when an endpoint is registered or
changed, and again at every delivery: the worker resolves the host, checks the addresses and
connects to the checked address itself (the host name goes in `Host` and TLS SNI), so a DNS
answer that changes after registration (DNS rebinding) cannot reach inside.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

Resolver = Callable[[str, int], Awaitable[list[str]]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges `is_global` already refuses are listed again where being wrong would be costly.
_REFUSED_V4 = [
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, cloud metadata (169.254.169.254)
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]
_REFUSED_V6 = [
    ipaddress.ip_network(n)
    for n in (
        "::/128",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
        "fd00:ec2::/32",
    )
]
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class UrlRefused(Exception):
    """Why a receiver URL may not be called."""


@dataclass(frozen=True)
class Target:
    """Where a delivery connects: the URL with the checked address in place of the host, and
    the host name for `Host` and TLS SNI."""

    url: str
    host_header: str
    server_name: str


async def system_resolver(host: str, port: int) -> list[str]:
    """The host's addresses, from the system resolver (off the event loop)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public(address: IPAddress) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return is_public(address.ipv4_mapped)
        if address in _NAT64:
            return is_public(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
        if address.sixtofour is not None:
            return is_public(address.sixtofour)
        if address.teredo is not None:
            return is_public(address.teredo[1])
        if any(address in network for network in _REFUSED_V6):
            return False
    elif any(address in network for network in _REFUSED_V4):
        return False
    return address.is_global and not address.is_multicast


def _parts(url: str, *, strict: bool) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UrlRefused("The URL is not valid.") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UrlRefused("The URL must start with https://.")
    if strict and scheme != "https":
        raise UrlRefused("The URL must start with https:// (plain http is refused here).")
    if not parts.hostname:
        raise UrlRefused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise UrlRefused("The URL must not carry credentials.")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


async def _addresses(host: str, port: int, resolver: Resolver) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = await resolver(host, port)
    except (OSError, UnicodeError, ValueError):  # UnicodeError: a label IDNA cannot encode
        raise UrlRefused(f"The host {host!r} does not resolve.") from None
    addresses = []
    for text in found:
        try:
            addresses.append(ipaddress.ip_address(text.split("%", 1)[0]))
        except ValueError:
            continue
    if not addresses:
        raise UrlRefused(f"The host {host} does not resolve.")
    return addresses


async def check(url: str, *, strict: bool, resolver: Resolver = system_resolver) -> list[IPAddress]:
    """The addresses `url`'s host resolves to, all of them allowed. Raises UrlRefused."""
    _scheme, host, port = _parts(url, strict=strict)
    addresses = await _addresses(host, port, resolver)
    if strict:
        for address in addresses:
            if not is_public(address):
                raise UrlRefused(
                    f"The host {host} resolves to {address}, which is not a public address."
                )
    return addresses


async def target(url: str, *, strict: bool, resolver: Resolver = system_resolver) -> Target:
    """Resolve and check `url` now, and say how to connect to the checked address."""
    addresses = await check(url, strict=strict, resolver=resolver)
    parts = urlsplit(url)
    host = parts.hostname or ""
    address = addresses[0]
    literal = f"[{address}]" if address.version == 6 else str(address)
    netloc = literal if parts.port is None else f"{literal}:{parts.port}"
    host_header = host if parts.port is None else f"{host}:{parts.port}"
    if ":" in host and not host.startswith("["):
        host_header = f"[{host}]" if parts.port is None else f"[{host}]:{parts.port}"
    return Target(
        url=urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, "")),
        host_header=host_header,
        server_name=host,
    )
