"""Where a notification may go: http(s) URLs whose every address is on the public internet.

The addresses are checked after DNS resolution, and the request then connects to the very
address that was checked (no second lookup a rebinding DNS server could answer differently).
Redirects are never followed: a 3xx answer is a failed attempt. Loopback, private,
link-local and other non-global networks are refused unless
`WEBHOOKS_ALLOW_PRIVATE_NETWORKS` is on (tests, the demo); cloud metadata addresses are
refused always.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

METADATA_ADDRESSES = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, Tencent Cloud's own is below
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "fd00:ec2::254",  # AWS over IPv6
    )
)


class UnsafeURL(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written in the URL (what TLS and the Host header name)
    port: int
    path: str  # path and query
    addresses: tuple[str, ...]

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def parse_url(url: str) -> SplitResult:
    """Check the URL's form: http(s), a host, a valid port. Raises UnsafeURL."""
    if not isinstance(url, str) or len(url) > 2000:
        raise UnsafeURL("invalid_url", "The URL must be at most 2,000 characters.")
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise UnsafeURL("invalid_scheme", "Only http:// and https:// URLs are allowed.")
    try:
        port = parts.port
    except ValueError:
        raise UnsafeURL("invalid_url", "The URL has an invalid port.") from None
    if not parts.hostname or port == 0:
        raise UnsafeURL("invalid_url", "The URL needs a host name.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("invalid_url", "Put no user name or password in the URL.")
    return parts


def check_address(ip: IPAddress) -> None:
    """Raise UnsafeURL unless `ip` may receive notifications."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip in METADATA_ADDRESSES:
        raise UnsafeURL("forbidden_address", f"{ip} is a cloud metadata address.")
    if ip.is_global and not ip.is_multicast:
        return
    if settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS and not (ip.is_multicast or ip.is_unspecified):
        return
    raise UnsafeURL(
        "forbidden_address",
        f"{ip} is not a public internet address (loopback, private, link-local or reserved).",
    )


def resolve(url: str) -> Target:
    """Parse the URL, resolve its host and check every address. Raises UnsafeURL."""
    parts = parse_url(url)
    host = parts.hostname
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise UnsafeURL("unknown_host", f"The host name {host!r} does not resolve.") from None
    addresses: list[str] = []
    for *_, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%")[0])
        check_address(ip)  # every address, so no answer can point inside
        if str(ip) not in addresses:
            addresses.append(str(ip))
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return Target(parts.scheme, host, port, path, tuple(addresses))


def validate_url(url: str) -> str:
    """For forms and the API: the URL's form, and its addresses when its host resolves now.

    A host that does not resolve yet is accepted; delivery checks again on every request.
    """
    parts = parse_url(url)
    try:
        check_address(ipaddress.ip_address(parts.hostname))
    except ValueError as exc:
        if isinstance(exc, UnsafeURL):
            raise
        try:
            resolve(url)
        except UnsafeURL as unsafe:
            if unsafe.code != "unknown_host":
                raise
    return url.strip()
