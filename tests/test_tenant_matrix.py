"""The tenant matrix: nothing of account B reaches account A, anywhere.

Two accounts hold data of every kind (messages, events of every type with subjects and
replies, blocks of every kind, whitelists, history, custom blocks, API keys, TC3 keys, sent
emails, inbound reports). Then A visits every URL the resolver knows — console, API, CSV
exports, the admin (as a non-staff member: refused) — with B's ids in every parameter, and
calls every Tencent action signed with A's key. No answer may hold B's addresses, message
ids, event ids, replies, subjects, key ids or names, except what A itself sent in that very
request (an address A asks about is echoed back, not leaked).

New pages are covered without touching this file; a new kind of URL parameter fails the
test until it is given B's values below.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch
from django.utils import timezone
from rest_framework.test import APIClient
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

from blocklist import actions, custom
from blocklist.changes import Actor
from blocklist.models import AutoBlockSetting, Block, History, Whitelist
from delivery.contract import EventType
from delivery.ingest import ingest_events
from delivery.intake import intake
from delivery.models import DeliveryEvent, InboundReport, Message, OutboundEmail, OutboundRecipient
from delivery.sending import SendRequest, add_sender_identity, send_email
from notifications import outbox
from notifications.models import Endpoint, Notification
from sesconsole.models import Account, ApiKey
from tencent.actions import ACTIONS
from tencent.models import Tc3Key
from tests.events import make_event
from tests.factories import AccountFactory, MembershipFactory, UserFactory
from tests.tencent.conftest import DjangoClientAdapter, call, sdk_client

pytestmark = pytest.mark.django_db

SAMPLES = Path("/work/shared/cases/bounces")
# A returned report per account: (sample, its recipient, the Message-ID it is about).
REPORTS = {
    "a": (
        "rfc3464-08.eml",
        "kijitora@example.net",
        "<000000000000000000000000000000@mx.example.or.jp>",
    ),
    "b": (
        "lhost-postfix-04.eml",
        "kijitora@example.co.jp",
        "<A8F82EDD-E518-4F5C-8C70-BC4EFF24AB9F@example.ne.jp>",
    ),
}
SHARED = "shared@common-rcpt.test"  # mailed by both; B's bounce blocks it for everyone


@dataclass
class Tenant:
    tag: str
    account: Account
    user: object
    api_key: str
    tc3: tuple[str, str]
    ids: dict[str, list[str]] = field(default_factory=dict)


def _populate(account: Account, tag: str) -> None:
    """Data of every kind for `account`, every string marked with `tag`."""
    actor = Actor(None, f"{tag} setup")
    custom.set_auto_block(account, enabled=True, days=5, actor=actor)
    # An event-notification endpoint, so its pages and its notifications are in the matrix.
    outbox.create_endpoint(account, f"https://93.184.215.14/{tag}-hook-path")
    at = (timezone.now() - timedelta(hours=2)).isoformat()
    rcpt = f"{tag}-rcpt.test"

    def ev(type: str, n: int, **fields) -> dict:
        return make_event(
            type, f"{tag}-msg-{n}", id=f"{tag}-evt-{type}-{n}", timestamp=at, **fields
        )

    requests = [
        ev(
            "request",
            n,
            to=f"{tag}-rcpt{n}@{rcpt}",
            subject=f"{tag} secret subject {n}",
            **{"from": f"news@{tag}-mail.test"},
        )
        for n in range(1, 7)
    ]
    requests.append(
        ev(
            "request",
            7,
            to=SHARED,
            subject=f"{tag} shared subject",
            **{"from": f"news@{tag}-mail.test"},
        )
    )
    ingest_events(account, requests)

    def smtp(code: int, enhanced: str, words: str) -> dict:
        return {"code": code, "enhanced": enhanced, "text": f"{code} {enhanced} {tag} {words}"}

    ingest_events(
        account,
        [
            ev("delivered", 1, smtp=smtp(250, "2.0.0", "accepted reply")),
            ev("deferred", 2, smtp=smtp(451, "4.2.0", "deferred reply")),
            ev(
                "bounced",
                3,
                bounce_class="invalid_address",
                smtp=smtp(550, "5.1.1", "no such user"),
            ),
            ev("bounced", 4, bounce_class="mailbox_full", smtp=smtp(552, "5.2.2", "mailbox full")),
            ev("opened", 1, user_agent=f"{tag}-agent/1.0", ip="203.0.113.9"),
            ev("clicked", 1, url=f"https://{tag}-click.test/offer"),
            ev("complained", 5),
            ev("unsubscribed", 6),
            make_event(
                "rejected",
                f"{tag}-msg-8",
                id=f"{tag}-evt-rejected-8",
                timestamp=at,
                to=f"{tag}-rejected@{rcpt}",
                reason="blocklisted",
                **{"from": f"news@{tag}-mail.test"},
            ),
        ],
    )
    if tag == "b":
        ingest_events(
            account,
            [
                ev(
                    "bounced",
                    7,
                    bounce_class="invalid_address",
                    smtp=smtp(550, "5.1.1", "shared gone"),
                )
            ],
        )
    custom.add_custom_blocks(
        account, [f"{tag}-custom@{rcpt}"], actor=actor, note=f"{tag} custom note"
    )

    add_sender_identity(account, f"{tag}-mail.test", verified=True)
    send_email(
        account,
        SendRequest(
            from_address=f"news@{tag}-mail.test",
            to=[f"{tag}-sent@{rcpt}"],
            subject=f"{tag} sent subject",
            text=f"{tag} sent body",
        ),
    )
    sample, to, original_id = REPORTS[tag]
    req = SendRequest(
        from_address=f"news@{tag}-mail.test", to=[to], subject=f"{tag} report subject", text="x"
    )
    row = send_email(account, req).recipient_rows[0]
    row.smtp_message_id = original_id
    row.save(update_fields=["smtp_message_id"])
    report = intake((SAMPLES / sample).read_bytes())
    assert report.status == InboundReport.Status.MATCHED, report.note


def _values(account: Account) -> set[str]:
    """Every identifying string of `account`'s data."""
    values: set[str] = {account.name, account.display_name}
    for row in Message.objects.filter(account=account):
        values |= {row.message_id, row.from_address, row.recipient, row.subject, row.response_text}
        values |= {row.sender_domain, row.recipient_domain}
    for row in DeliveryEvent.objects.filter(account=account):
        values |= {row.event_id, row.response_text, row.url, row.user_agent}
    for row in OutboundEmail.objects.filter(account=account):
        values |= {row.email_id, row.from_address, row.subject, row.text, *row.to}
    for row in OutboundRecipient.objects.filter(account=account):
        values |= {row.message_id, row.address, row.smtp_message_id.strip("<>"), row.last_reply}
    for row in InboundReport.objects.filter(account=account):
        values |= {row.message_id.strip("<>")}
    for row in Block.objects.filter(account=account):
        values |= {row.address, row.response_text, row.note}
    for row in Whitelist.objects.filter(account=account):
        values |= {row.note}
    for row in History.objects.filter(account=account):
        values |= {row.detail}
    for row in ApiKey.objects.filter(account=account):
        values |= {row.name, row.prefix}
    for row in Tc3Key.objects.filter(account=account):
        values |= {row.name, row.secret_id}
    for row in Endpoint.objects.filter(account=account):
        values |= {row.url}
    return {v.strip().lower() for v in values if v and len(v.strip()) >= 6}


@pytest.fixture
def tenants(db) -> tuple[Tenant, Tenant]:
    made = []
    for tag, name in (("a", "acme"), ("b", "globex")):
        account = AccountFactory(name=name, display_name=f"{name.title()} Display")
        user = UserFactory(username=f"{tag}-user")
        MembershipFactory(account=account, user=user)
        _, api_key = ApiKey.issue(account, name=f"{tag} api key name")
        key, secret = Tc3Key.issue(account, name=f"{tag} tc3 key name")
        made.append(Tenant(tag, account, user, api_key, (key.secret_id, secret)))
    a, b = made
    _populate(a.account, "a")
    _populate(b.account, "b")
    # B whitelists the address A's sending blocked; A whitelists nothing of B's.
    actions.whitelist_addresses(
        b.account, ["a-rcpt3@a-rcpt.test"], actor=Actor(None, "b"), note="b whitelist note"
    )
    for tenant in (a, b):  # data of every kind, so a leak of any kind can show
        kinds = set(
            DeliveryEvent.objects.filter(account=tenant.account).values_list("type", flat=True)
        )
        assert kinds == set(EventType.values)
        blocks = set(Block.objects.filter(account=tenant.account).values_list("kind", flat=True))
        assert blocks == set(Block.Kind.values)
    b.ids = {
        "pk": sorted(
            {
                *(
                    str(pk)
                    for pk in Block.objects.filter(account=b.account).values_list("pk", flat=True)
                ),
                *(
                    str(pk)
                    for pk in Whitelist.objects.filter(account=b.account).values_list(
                        "pk", flat=True
                    )
                ),
                *(
                    str(pk)
                    for pk in History.objects.filter(account=b.account).values_list("pk", flat=True)
                ),
                *(
                    str(pk)
                    for pk in ApiKey.objects.filter(account=b.account).values_list("pk", flat=True)
                ),
                *(
                    str(pk)
                    for pk in Tc3Key.objects.filter(account=b.account).values_list("pk", flat=True)
                ),
                *OutboundEmail.objects.filter(account=b.account).values_list("email_id", flat=True),
                *(
                    str(pk)
                    for pk in InboundReport.objects.filter(account=b.account).values_list(
                        "pk", flat=True
                    )
                ),
                *(
                    str(pk)
                    for pk in Endpoint.objects.filter(account=b.account).values_list(
                        "pk", flat=True
                    )
                ),
                *(
                    str(pk)
                    for pk in Notification.objects.filter(endpoint__account=b.account).values_list(
                        "pk", flat=True
                    )
                ),
            }
        ),
        "email_id": list(
            OutboundEmail.objects.filter(account=b.account).values_list("email_id", flat=True)
        ),
        "message_id": list(
            Message.objects.filter(account=b.account).values_list("message_id", flat=True)
        ),
        "addresses": sorted(
            {
                *Message.objects.filter(account=b.account).values_list("recipient", flat=True),
                "b-custom@b-rcpt.test",
            }
        ),
    }
    return a, b


@pytest.fixture
def secrets(tenants) -> set[str]:
    a, b = tenants
    found = _values(b.account) - _values(a.account)
    assert {"b-msg-1", "b-evt-bounced-3", "b secret subject 1", "b-rcpt1@b-rcpt.test"} <= found
    assert "550 5.1.1 b shared gone" in found and SHARED not in found
    assert "https://93.184.215.14/b-hook-path" in found
    return found


def _body(response) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return (content.decode("utf-8", "replace") + "\n" + response.get("Location", "")).lower()


def assert_clean(
    response_text: str, secrets: set[str], *, where: str, sent: Iterable[str] = ()
) -> None:
    echoed = " ".join(str(s) for s in sent).lower()
    leaked = sorted(s for s in secrets if s in response_text and s not in echoed)
    assert not leaked, f"{where} shows B's {leaked}"


# ---------------------------------------------------------------------------------------
# The URLs the resolver knows.


def _patterns(
    resolver: URLResolver, namespace: str = "", prefix: str = ""
) -> Iterator[tuple[str, str, list[str]]]:
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            ns = namespace
            if entry.namespace:
                ns = f"{namespace}{entry.namespace}:"
            yield from _patterns(entry, ns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            pattern = entry.pattern
            names = list(getattr(pattern, "converters", {}) or pattern.regex.groupindex)
            yield f"{namespace}{entry.name}" if entry.name else "", prefix + str(pattern), names


def _fill(route: str, kwargs: dict[str, str]) -> str:
    """An unnamed path() route (the admin's redirects) with its parameters filled."""
    url = "/" + route.replace("(?P<url>.*)$", "<url>")
    for name, value in kwargs.items():
        url = re.sub(rf"<(?:\w+:)?{name}>", value, url)
    if "<" in url:
        raise NoReverseMatch(url)
    return url


def _fillers(b: Tenant) -> dict[str, list[str]]:
    block_type = ContentType.objects.get_for_model(Block)
    return {
        "pk": b.ids["pk"],
        "message_id": b.ids["message_id"],
        "email_id": b.ids["email_id"],
        "token": b.ids["message_id"][:2],
        "format": ["json", "csv"],
        "object_id": b.ids["pk"] + b.ids["message_id"][:2],
        "app_label": ["blocklist", "delivery", "sesconsole", "tencent"],
        "content_type_id": [str(block_type.pk)],
        "url": ["x"],
        "id": [str(b.user.pk), *b.ids["pk"]],
    }


def urls(b: Tenant, prefix: str) -> list[tuple[str, list[str]]]:
    """Every URL under `prefix`: (url, the values of B filled into it)."""
    fillers = _fillers(b)
    found: list[tuple[str, list[str]]] = []
    for name, route, params in _patterns(get_resolver()):
        if not route.lstrip("^").startswith(prefix.lstrip("/")) and prefix != "/":
            continue
        if prefix == "/" and route.lstrip("^").startswith(("admin/", "api/")):
            continue
        assert name or route == "admin/(?P<url>.*)$" or "(?P<" not in route, (
            f"unnamed URL pattern {route}: name it"
        )
        unknown = [p for p in params if p not in fillers]
        assert not unknown, f"{route}: give the matrix B's values for {unknown}"
        combos: list[dict[str, str]] = [{}]
        for p in params:
            combos = [{**c, p: v} for c in combos for v in fillers[p]]
        for kwargs in combos:
            try:
                url = reverse(name, kwargs=kwargs) if name else _fill(route, kwargs)
                found.append((url, list(kwargs.values())))
            except NoReverseMatch:
                continue  # a value the converter does not take (e.g. a message id for an int)
    assert found, f"no URL under {prefix}"
    return found


def _queries(b: Tenant) -> list[dict[str, str]]:
    day = timezone.now().date()
    dates = {
        "start": (day - timedelta(days=2)).isoformat(),
        "end": day.isoformat(),
        "range": "custom",
    }
    address = b.ids["addresses"][0]
    return [
        {},
        {**dates, "export": "csv"},
        {**dates, "export": "rows"},
        {**dates, "export": "counts"},
        {**dates, "format": "json"},
        {
            **dates,
            "address": address,
            "recipient": address,
            "q": f"{address}\n{SHARED}",
            "message_id": b.ids["message_id"][0],
            "sender_domain": "b-mail.test",
            "recipient_domain": "b-rcpt.test",
            "triggered": "others",
        },
    ]


# ---------------------------------------------------------------------------------------
# The matrix.


def test_the_console_shows_nothing_of_another_account(client, tenants, secrets):
    a, b = tenants
    client.force_login(a.user)
    queries = _queries(b)
    seen = []
    for url, sent in urls(b, "/"):
        for query in queries if not sent else [{}]:
            response = client.get(url, query)
            assert response.status_code < 500, (url, query)
            seen.append(_body(response))
            assert_clean(
                _body(response),
                secrets,
                where=f"GET {url}?{urlencode(query)}",
                sent=[*sent, *query.values()],
            )


def test_console_forms_refuse_another_accounts_ids(client, tenants, secrets):
    a, b = tenants
    client.force_login(a.user)
    before = _state(b.account)
    data = {
        "ids": b.ids["pk"],
        "id": b.ids["pk"][0],
        "account": str(b.account.pk),
        "expires_on": "",
    }
    for url, sent in urls(b, "/"):
        if url in (reverse("logout"), reverse("login")):
            continue
        response = client.post(url, data, follow=True)
        assert response.status_code < 500, url
        assert_clean(_body(response), secrets, where=f"POST {url}", sent=[*sent, str(b.account.pk)])
    assert _state(b.account) == before
    # Switching to B's account was refused: A's pages still show only A.
    for url, sent in urls(b, "/"):
        if not sent:
            assert_clean(_body(client.get(url)), secrets, where=f"GET {url} after switching")


def test_the_api_shows_nothing_of_another_account(tenants, secrets):
    a, b = tenants
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {a.api_key}")
    queries = _queries(b)
    seen = []
    for url, sent in urls(b, "/api/"):
        for query in queries if not sent else [{}]:
            response = api.get(url, query)
            assert response.status_code < 500, (url, query)
            seen.append(_body(response))
            assert_clean(
                _body(response),
                secrets,
                where=f"GET {url}?{urlencode(query)}",
                sent=[*sent, *query.values()],
            )
    _assert_sees_its_own(seen)
    addresses = [*b.ids["addresses"], SHARED]
    response = api.post("/api/v1/blocklist/check/", {"addresses": addresses}, format="json")
    assert response.status_code == 200
    assert_clean(_body(response), secrets, where="POST /api/v1/blocklist/check/", sent=addresses)


def test_the_api_cannot_change_another_accounts_data(tenants, secrets):
    a, b = tenants
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {a.api_key}")
    before = _state(b.account)
    for url, sent in urls(b, "/api/"):
        if not sent:
            continue
        for method in ("patch", "put", "delete", "post"):
            response = getattr(api, method)(url, {"address": "x@a-rcpt.test"}, format="json")
            assert response.status_code < 500, (method, url)
            assert_clean(_body(response), secrets, where=f"{method.upper()} {url}", sent=sent)
    assert _state(b.account) == before


def test_the_admin_refuses_a_member_who_is_not_staff(client, tenants, secrets):
    a, b = tenants
    client.force_login(a.user)
    for url, sent in urls(b, "/admin/"):
        response = client.get(url)
        assert_clean(_body(response), secrets, where=f"GET {url}", sent=sent)
        if url in (reverse("admin:login"), reverse("admin:logout")):
            continue
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_the_tencent_endpoint_shows_nothing_of_another_account(client, tenants, secrets):
    a, b = tenants
    ses = sdk_client("testserver", *a.tc3)  # the official SDK, served in-process
    ses.request.conn._session.mount("http://", DjangoClientAdapter(client))
    today = timezone.now().date().isoformat()
    start = (timezone.now().date() - timedelta(days=2)).isoformat()
    # The day A's mail was requested on, in A's time zone (`_populate` sends it two hours
    # ago): between midnight and two o'clock that is yesterday.
    sent_day = timezone.localtime(timezone.now() - timedelta(hours=2), a.account.time_zone)
    sent_day = sent_day.date().isoformat()
    private = "b-rcpt3@b-rcpt.test"  # blocked by B's sending, never mailed by A
    custom_block = Block.objects.custom().get(account=b.account, reason=Block.Reason.MANUAL)
    reads = {
        "GetSendEmailStatus": [
            {"RequestDate": sent_day, "Offset": 0, "Limit": 100},
            {
                "RequestDate": sent_day,
                "Offset": 0,
                "Limit": 100,
                "MessageId": b.ids["message_id"][0],
            },
            {"RequestDate": sent_day, "Offset": 0, "Limit": 100, "ToEmailAddress": private},
        ],
        "GetAbuseReport": [{"StartDate": start, "EndDate": today, "Offset": 0, "Limit": 100}],
        "GetStatisticsReport": [
            {"StartDate": start, "EndDate": today},
            {"StartDate": start, "EndDate": today, "Domain": "b-mail.test"},
        ],
        "ListBlackEmailAddress": [
            {"StartDate": start, "EndDate": today, "Offset": 0, "Limit": 100},
            {
                "StartDate": start,
                "EndDate": today,
                "Offset": 0,
                "Limit": 100,
                "EmailAddress": SHARED,
            },
            {
                "StartDate": start,
                "EndDate": today,
                "Offset": 0,
                "Limit": 100,
                "EmailAddress": private,
            },
        ],
        "ListCustomBlacklist": [
            {"Offset": 0, "Limit": 100, "Status": 2},
            {"Offset": 0, "Limit": 100, "Status": 2, "Email": custom_block.address},
        ],
    }
    writes = {
        "UpdateCustomBlackList": [{"Id": custom_block.pk, "Email": "moved@a-rcpt.test"}],
        "DeleteCustomBlackList": [{"Emails": [custom_block.address]}],
        "CreateCustomBlacklist": [{"Emails": [custom_block.address]}],
        "DeleteBlackList": [{"EmailAddressList": [private, SHARED]}],
        "SendEmail": [
            {
                "FromEmailAddress": "news@b-mail.test",
                "Destination": [private],
                "Subject": "a subject",
                "Simple": {"Text": "eA=="},
            },
        ],
    }
    assert set(reads) | set(writes) == set(ACTIONS), "give the matrix every Tencent action"
    before = _state(b.account)
    seen = []
    for action, calls in [*reads.items(), *writes.items()]:
        for params in calls:
            try:
                body = json.dumps(call(ses, action, **params))
            except TencentCloudSDKException as exc:
                body = f"{exc.code} {exc.message}"
            seen.append(body.lower())
            assert_clean(body.lower(), secrets, where=f"{action} {params}", sent=_strings(params))
    assert "a-rcpt1@a-rcpt.test" in seen[0]  # A's own mail, in GetSendEmailStatus
    assert SHARED in "\n".join(seen)  # B's global block, without B's reply
    assert _state(b.account) == before


def _assert_sees_its_own(bodies: list[str]) -> None:
    """The pages worked: A's own data and B's global block (by design) are there."""
    seen = "\n".join(bodies)
    for own in (
        "a-rcpt1@a-rcpt.test",
        "a secret subject 1",
        "a-evt-bounced-3",
        "550 5.1.1 a no such user",
    ):
        assert own in seen, f"A never saw its own {own!r}: the matrix is not looking"
    assert SHARED in seen  # B's invalid-address block on an address A mailed


def _strings(value) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return [str(value)]


def _state(account: Account) -> dict:
    """What another account's requests must never change of `account`."""
    return {
        "blocks": sorted(
            Block.objects.filter(account=account).values_list(
                "pk", "address", "expires_at", "released_at"
            )
        ),
        "whitelists": sorted(
            Whitelist.objects.filter(account=account).values_list("pk", "removed_at")
        ),
        "api_keys": sorted(ApiKey.objects.filter(account=account).values_list("pk", "revoked_at")),
        "tc3_keys": sorted(Tc3Key.objects.filter(account=account).values_list("pk", "revoked_at")),
        "messages": Message.objects.filter(account=account).count(),
        "events": DeliveryEvent.objects.filter(account=account).count(),
        "auto_block": list(
            AutoBlockSetting.objects.filter(account=account).values_list("enabled", "days")
        ),
    }
