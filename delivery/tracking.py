"""Open, click and unsubscribe tracking: signed tokens, HTML rewriting, machine detection.

Every tracking URL carries a token signed with SENDING_TRACKING_SECRET (HMAC-SHA256). The
token names the account, the message and, for clicks, the original URL, so a link can be
neither forged nor turned into an open redirect: only URLs we signed ever redirect.
"""

from __future__ import annotations

import html as html_lib
import ipaddress
import re
import uuid
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from .ingest import NewEvent, record_events
from .models import EventType, Message

_SALT = "delivery.tracking"
OPEN, CLICK, UNSUBSCRIBE = "o", "c", "u"
# Longer links stay untracked: the clicked event keeps URLs up to 4,096 characters.
MAX_TRACKED_URL = 2000


@dataclass(frozen=True)
class Token:
    kind: str
    account_id: int
    message_id: str
    url: str = ""


def _signer() -> signing.Signer:
    return signing.Signer(
        key=settings.SENDING_TRACKING_SECRET,
        fallback_keys=settings.SENDING_TRACKING_SECRET_FALLBACKS,
        salt=_SALT,
        algorithm="sha256",
    )


def make_token(kind: str, account_id: int, message_id: str, url: str = "") -> str:
    payload = [kind, account_id, message_id] + ([url] if url else [])
    return _signer().sign_object(payload, compress=True)


def read_token(token: str, kind: str) -> Token | None:
    """The token's contents if its signature is valid and it is of `kind`; None otherwise."""
    try:
        payload = _signer().unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError):
        return None
    if not isinstance(payload, list) or len(payload) not in (3, 4) or payload[0] != kind:
        return None
    _, account_id, message_id, *rest = payload
    if not isinstance(account_id, int) or not isinstance(message_id, str):
        return None
    url = rest[0] if rest else ""
    if kind == CLICK and urlsplit(url).scheme not in ("http", "https"):
        return None
    return Token(kind, account_id, message_id, url)


def _absolute(route: str, token: str) -> str:
    return settings.SENDING_TRACKING_BASE_URL.rstrip("/") + reverse(route, args=[token])


def open_url(account_id: int, message_id: str) -> str:
    return _absolute("tracking:open", make_token(OPEN, account_id, message_id))


def click_url(account_id: int, message_id: str, url: str) -> str:
    return _absolute("tracking:click", make_token(CLICK, account_id, message_id, url))


def unsubscribe_url(account_id: int, message_id: str) -> str:
    return _absolute("tracking:unsubscribe", make_token(UNSUBSCRIBE, account_id, message_id))


# ---------------------------------------------------------------------------------------
# Rewriting the HTML body.

_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(.*?)\2""", re.I | re.S)
_BODY_END = re.compile(r"</body\s*>", re.I)


def rewrite_html(
    body: str,
    account_id: int,
    message_id: str,
    *,
    track_opens: bool,
    track_clicks: bool,
    unsubscribe: str,
) -> str:
    """Point http(s) links at the click endpoint, add the open pixel and an unsubscribe link."""
    if track_clicks:

        def swap(match: re.Match) -> str:
            url = html_lib.unescape(match.group(3)).strip()
            if urlsplit(url).scheme not in ("http", "https") or len(url) > MAX_TRACKED_URL:
                return match.group(0)  # mailto:, tel:, anchors stay as they are
            tracked = html_lib.escape(click_url(account_id, message_id, url))
            return f"{match.group(1)}{match.group(2)}{tracked}{match.group(2)}"

        body = _HREF.sub(swap, body)
    footer = (
        '<p style="font-size:12px;color:#666">Don\'t want these emails? '
        f'<a href="{html_lib.escape(unsubscribe)}">Unsubscribe</a>.</p>'
    )
    if track_opens:
        pixel = html_lib.escape(open_url(account_id, message_id))
        footer += f'<img src="{pixel}" width="1" height="1" alt="" style="display:block;border:0">'
    ends = [m.start() for m in _BODY_END.finditer(body)]
    if not ends:
        return body + footer
    return body[: ends[-1]] + footer + body[ends[-1] :]


def text_footer(unsubscribe: str) -> str:
    return f"\n\n--\nUnsubscribe: {unsubscribe}\n"


# ---------------------------------------------------------------------------------------
# Machine opens and clicks.

# Prefetchers and scanners that name themselves. Gmail's image proxy is left out on
# purpose: it fetches when the reader opens the mail, so its opens are human.
_MACHINE_AGENTS = re.compile(
    r"bot\b|crawl|spider|scan|python|curl|wget|go-http|okhttp|java/|libwww|headless"
    r"|yahoomailproxy|barracuda|mimecast|proofpoint|symantec|messagelabs|forcepoint"
    r"|trendmicro|sophos|safelinks|ironport|fireeye|zscaler",
    re.I,
)


@cache
def _machine_networks() -> tuple:
    return tuple(ipaddress.ip_network(n, strict=False) for n in settings.SENDING_MACHINE_NETWORKS)


def _machine_source(user_agent: str, ip: str | None) -> bool:
    agent = (user_agent or "").strip()
    # Apple Mail Privacy Protection fetches with a bare "Mozilla/5.0"; nobody reads with that.
    if not agent or agent == "Mozilla/5.0" or _MACHINE_AGENTS.search(agent):
        return True
    if ip:
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(address in network for network in _machine_networks())
    return False


def is_machine_open(
    user_agent: str, ip: str | None, seconds_since_delivery: float | None, method: str = "GET"
) -> bool:
    if method == "HEAD" or _machine_source(user_agent, ip):
        return True
    return (
        seconds_since_delivery is not None
        and seconds_since_delivery < settings.SENDING_MACHINE_OPEN_SECONDS
    )


def is_machine_click(
    user_agent: str, ip: str | None, seconds_since_delivery: float | None, method: str = "GET"
) -> bool:
    if method == "HEAD" or _machine_source(user_agent, ip):
        return True
    return (
        seconds_since_delivery is not None
        and seconds_since_delivery < settings.SENDING_MACHINE_CLICK_SECONDS
    )


# ---------------------------------------------------------------------------------------
# Recording hits through the pipeline.


def message_for(token: Token) -> Message | None:
    """The message a valid token names, within the token's account. Queries once."""
    return (
        Message.objects.select_related("account")
        .filter(account_id=token.account_id, message_id=token.message_id)
        .first()
    )


def record_hit(
    message: Message,
    kind: str,
    *,
    user_agent: str = "",
    ip: str | None = None,
    url: str = "",
    method: str = "GET",
) -> None:
    """Ingest the opened/clicked/unsubscribed event for one hit on a tracking URL."""
    now = timezone.now()
    if kind == UNSUBSCRIBE:
        # Unsubscribing twice is one unsubscription.
        event = NewEvent(
            f"{message.message_id}:unsubscribed", EventType.UNSUBSCRIBED, now, message.message_id
        )
    else:
        delivered_at = message.status_at if message.status == Message.Status.DELIVERED else None
        since = (now - delivered_at).total_seconds() if delivered_at else None
        if kind == OPEN:
            event_type, machine = EventType.OPENED, is_machine_open(user_agent, ip, since, method)
        else:
            event_type, machine = EventType.CLICKED, is_machine_click(user_agent, ip, since, method)
        event = NewEvent(
            f"{message.message_id}:{event_type}:{uuid.uuid4().hex}",
            event_type,
            now,
            message.message_id,
            url=url if event_type == EventType.CLICKED else "",
            user_agent=(user_agent or "")[:512],
            ip=_valid_ip(ip),
            machine=machine,
        )
    record_events(message.account, [event])


def _valid_ip(ip: str | None) -> str | None:
    """The client's address as PostgreSQL's inet takes it, or None (e.g. a zone id)."""
    try:
        return str(ipaddress.ip_address(ip)) if ip else None
    except ValueError:
        return None
