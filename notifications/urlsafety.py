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
import re
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


# The form of a notification URL, stated once for the service and the API schema: http or
# https, a host (DNS labels, possibly internationalised, or an IP literal), no user or
# password, an optional port 1..65535, then any path, query and fragment without spaces or NUL.
# Leading and trailing blanks are ignored.
# Letters beyond ASCII for internationalised names: \u00a1-\uffff bar spaces and surrogates.
_WIDE = (
    r"\u00a1-\u167f\u1681-\u1fff\u200b-\u2027\u202a-\u202e\u2030-\u205e\u2060-\u2fff"
    r"\u3001-\ud7ff\ue000-\ufefe\uff00-\uffff"
)
_LABEL = rf"[A-Za-z0-9{_WIDE}]([A-Za-z0-9{_WIDE}-]{{0,61}}[A-Za-z0-9{_WIDE}])?"
_PORT = r"([1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])"
URL_PATTERN = (
    rf"^\s*[Hh][Tt][Tt][Pp][Ss]?://({_LABEL}(\.{_LABEL})*\.?|\[[0-9A-Fa-f:.]{{2,45}}\])"
    rf"(:{_PORT})?([/?#][^\s\x00]*)?\s*$"
)
_URL = re.compile(URL_PATTERN)
# The one rule the pattern leaves to the service.
BAD_IPV6 = "The URL's IPv6 address is not valid."


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
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # a bracketed host that is no IPv6 address
        raise UnsafeURL("invalid_url", BAD_IPV6) from None
    try:
        port = parts.port
    except ValueError:
        raise UnsafeURL("invalid_url", "The URL's port must be 1 to 65535.") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise UnsafeURL("invalid_scheme", "Only http:// and https:// URLs are allowed.")
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("invalid_url", "Put no user name or password in the URL.")
    if not parts.hostname:
        raise UnsafeURL("invalid_url", "The URL needs a host name.")
    if not _URL.match(url) or port == 0:
        raise UnsafeURL(
            "invalid_url",
            "The URL needs a valid host name or address and, if any, a port from 1 to 65535.",
        )
    if parts.hostname.startswith("[") or ":" in parts.hostname:
        try:
            ipaddress.IPv6Address(parts.hostname)
        except ValueError:
            raise UnsafeURL("invalid_url", BAD_IPV6) from None
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
