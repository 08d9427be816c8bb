"""Realistic demo traffic, generated through the paths real traffic takes.

Rates follow what a healthy sender sees: about 95% delivered, hard and soft bounces with
the replies big receivers really send, deferrals that later succeed, opens, clicks, and
rare spam reports and unsubscribes.

The demo must not contradict itself, so it is driven in time order, every account at once:
each send first asks the blocklist (`blocklist.gate.check` with `record_stops`, at the
send's time), and a blocked recipient gets a `rejected` event with the gate's reason, as
`delivery.sending` does; the events of earlier sends are ingested (the real pipeline, each
event with its own time) before any send that their blocks could stop, so blocks, their
history and their "sends stopped" counters are what real traffic would have left.
Recipients are a mailing list: most sends go to people already on it, and a few of the
addresses that sign up are mistyped (they bounce once, then the gate stops them).
Deferred mail is retried as `delivery.sending.retry_delay` spaces attempts, and given up
after SENDING_MAX_ATTEMPTS, with the reply delivery itself writes.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

RECIPIENT_DOMAINS = {
    "gmail.com": 30,
    "qq.com": 18,
    "outlook.com": 12,
    "hotmail.com": 5,
    "yahoo.com": 8,
    "163.com": 8,
    "icloud.com": 7,
    "foxmail.com": 3,
    "proton.me": 2,
    "example-corp.com": 7,
}

LOCAL_NAMES = tuple(
    "alice bob carol dave erin frank grace heidi ivan judy mallory niaj olivia peggy rupert sybil trent victor walter xiaoming "
    "lihua wangfang zhangwei chenjing liuyang maria jose ana luis yuki haruto sakura minjun seoyeon priya arjun fatima omar".split()
)

# (SMTP code, enhanced code, text) per outcome, per receiver; "*" is everyone else.
INVALID = {
    "gmail.com": (
        550,
        "5.1.1",
        "550-5.1.1 The email account that you tried to reach does not exist. "
        "Please try double-checking the recipient's email address for typos or "
        "unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser",
    ),
    "qq.com": (
        550,
        "5.1.1",
        "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000728",
    ),
    "outlook.com": (
        550,
        "5.5.0",
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302). "
        "[DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]",
    ),
    "hotmail.com": (
        550,
        "5.5.0",
        "550 5.5.0 Requested action not taken: mailbox unavailable (S2017062302).",
    ),
    "yahoo.com": (
        554,
        "5.1.1",
        "554 delivery error: dd This user doesn't have a yahoo.com account - mta1021.mail.gq1.yahoo.com",
    ),
    "163.com": (550, "5.1.1", "550 User not found or not activated"),
    "icloud.com": (550, "5.1.1", "550 5.1.1 <{rcpt}>: user does not exist"),
    "*": (
        550,
        "5.1.1",
        "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    ),
}
FULL = {
    "gmail.com": (
        552,
        "5.2.2",
        "552-5.2.2 The email account that you tried to reach is over quota and inactive. "
        "https://support.google.com/mail/?p=OverQuotaPerm",
    ),
    "qq.com": (
        552,
        "5.2.2",
        "552 Quota exceeded or service disabled. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1000727",
    ),
    "outlook.com": (
        552,
        "5.2.2",
        "552 5.2.2 Mailbox full. The recipient's mailbox is full and can't accept messages now.",
    ),
    "*": (
        552,
        "5.2.2",
        "552 5.2.2 <{rcpt}>: Mailbox is full / Blocks limit exceeded / Inode limit exceeded",
    ),
}
BLOCKED = {
    "gmail.com": (
        550,
        "5.7.26",
        "550-5.7.26 Unauthenticated email from {sender_domain} is not accepted due to "
        "domain's DMARC policy. https://support.google.com/mail/answer/2451690",
    ),
    "qq.com": (
        550,
        "5.7.1",
        "550 DMARC check failed. http://service.mail.qq.com/cgi-bin/help?subtype=1&&id=20022&&no=1001508",
    ),
    "outlook.com": (
        550,
        "5.7.1",
        "550 5.7.1 Service unavailable, Client host [203.0.113.9] blocked using Spamhaus.",
    ),
    "*": (
        554,
        "5.7.1",
        "554 5.7.1 Service unavailable; Client host [203.0.113.9] blocked using zen.spamhaus.org",
    ),
}
SPAM = {
    "gmail.com": (
        550,
        "5.7.1",
        "550-5.7.1 [203.0.113.9] Our system has detected that this message is likely "
        "unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked.",
    ),
    "163.com": (
        554,
        "5.7.1",
        "554 DT:SPM 163 mx14,QMCowAB3Lz7, please see http://mail.163.com/help/help_spam_16.htm?ip=203.0.113.9",
    ),
    "*": (550, "5.7.1", "550 5.7.1 Message rejected as spam by Content Filtering."),
}
DEFERRED = {
    "gmail.com": (
        421,
        "4.7.28",
        "421-4.7.28 [203.0.113.9] Our system has detected an unusual rate of unsolicited "
        "mail originating from your IP address. To protect our users, mail has been temporarily rate limited.",
    ),
    "yahoo.com": (
        421,
        "4.7.0",
        "421 4.7.0 [TSS04] Messages from 203.0.113.9 temporarily deferred due to unexpected "
        "volume or user complaints - 4.16.55.1",
    ),
    "outlook.com": (
        451,
        "4.7.500",
        "451 4.7.500 Server busy. Please try again later from [203.0.113.9]. (S77719)",
    ),
    "*": (
        451,
        "4.7.1",
        "451 4.7.1 <{rcpt}>: Recipient address rejected: Greylisting in action, please come back later",
    ),
}
OK_REPLY = {
    "gmail.com": "250 2.0.0 OK  {epoch} {token} - gsmtp",
    "qq.com": "250 OK: queued as.",
    "outlook.com": "250 2.6.0 <{token}@mail.{sender_domain}> [InternalId=1234567] Queued mail for delivery",
    "*": "250 2.0.0 Ok: queued as {token}",
}

USER_AGENTS = [
    (
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        30,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
        22,
    ),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)",
        15,
    ),
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        18,
    ),
    ("Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.18129; Pro)", 10),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Mobile Safari/537.36",
        5,
    ),
]

SUBJECTS = [
    "Your order has shipped",
    "Winter sale: 30% off everything",
    "Your monthly statement",
    "Reset your password",
    "Welcome aboard!",
    "November news",
    "Your invoice #{n}",
    "We miss you — here's 10% off",
    "Security alert: new sign-in",
    "Event reminder: tomorrow 10:00",
]
PATHS = [
    "/offers/winter",
    "/account/orders",
    "/blog/november-news",
    "/help",
    "/unsubscribe-preferences",
]


def _pick(rng: random.Random, weighted: dict | list) -> str:
    items = list(weighted.items()) if isinstance(weighted, dict) else weighted
    return rng.choices([i[0] for i in items], weights=[i[1] for i in items])[0]


def _reply(table: dict, domain: str, **fmt) -> dict:
    code, enhanced, text = table.get(domain, table["*"])
    return {"code": code, "enhanced": enhanced, "text": text.format(**fmt)}


def _diurnal_offset(rng: random.Random) -> float:
    """Seconds into a day, busier in office hours (UTC+8 and UTC-5 both get a bump)."""
    while True:
        s = rng.uniform(0, 86400)
        hour = s / 3600
        weight = 0.35 + 0.65 * max(math.sin(math.pi * ((hour + 8) % 24 - 6) / 14), 0)
        if rng.random() < weight:
            return s


def sender_domains_for(account_name: str) -> list[str]:
    base = f"{account_name}.example"
    return [f"mail.{base}", f"news.{base}"]


@dataclass(frozen=True)
class Recipient:
    address: str
    domain: str
    mistyped: bool  # the mailbox does not exist: mail to it bounces as an invalid address


@dataclass
class RecipientPool:
    """An account's mailing list: it grows with sign-ups (a few mistyped), and most sends
    go to people already on it."""

    rng: random.Random
    new_share: float = 0.5
    mistyped_share: float = 0.035
    known: list[Recipient] = field(default_factory=list)

    def pick(self) -> Recipient:
        if self.known and self.rng.random() >= self.new_share:
            return self.rng.choice(self.known)
        domain = _pick(self.rng, RECIPIENT_DOMAINS)
        address = f"{self.rng.choice(LOCAL_NAMES)}{self.rng.randint(1, 99999)}@{domain}"
        recipient = Recipient(address, domain, self.rng.random() < self.mistyped_share)
        self.known.append(recipient)
        return recipient

    def pick_at(self, domain: str) -> Recipient:
        """A real person on the list at `domain` (one who signed up rightly)."""
        at_domain = [r for r in self.known if r.domain == domain and not r.mistyped]
        if at_domain:
            return self.rng.choice(at_domain)
        address = f"{self.rng.choice(LOCAL_NAMES)}{self.rng.randint(1, 99999)}@{domain}"
        recipient = Recipient(address, domain, mistyped=False)
        self.known.append(recipient)
        return recipient


@dataclass(frozen=True)
class Outage:
    """A receiver that answers "does not exist" for every mailbox for a while, as Gmail
    did on 14 and 15 December 2020, while the accounts send it a newsletter each (`burst`
    messages in its first half hour). The verdicts are the strongest a bounce carries; only
    their number shows the fault, so they open a surge that holds them for staff instead
    of blocking real people (blocklist.surges)."""

    domain: str
    start: datetime
    end: datetime
    burst: int = 15

    def covers(self, domain: str, at: datetime) -> bool:
        return domain == self.domain and self.start <= at < self.end

    def burst_times(self, rng: random.Random) -> list[datetime]:
        return sorted(self.start + timedelta(minutes=rng.uniform(0, 30)) for _ in range(self.burst))


def request_times(
    start: datetime, end: datetime, per_day: int, rng: random.Random
) -> list[datetime]:
    """When an account sends in [start, end), busier in office hours; sorted."""
    days = max((end - start).total_seconds() / 86400, 1 / 24)
    count = max(int(per_day * days), 1)
    times = []
    for _ in range(count):
        at = start + timedelta(days=int(rng.uniform(0, days)), seconds=_diurnal_offset(rng))
        if at >= end:
            at = start + (end - start) * rng.random()
        times.append(at)
    return sorted(times)


def _stamp(ts: datetime) -> str:
    return ts.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Send:
    account_name: str
    sender_domains: Sequence[str]
    recipient: Recipient
    at: datetime
    n: int
    rng: random.Random

    def __post_init__(self) -> None:
        rng = self.rng
        self.message_id = f"{self.account_name}-{rng.getrandbits(64):016x}"
        self.sender_domain = rng.choice(self.sender_domains)
        self.sender = f"{rng.choice(['news', 'no-reply', 'orders', 'hello'])}@{self.sender_domain}"
        self.subject = rng.choice(SUBJECTS).format(n=10000 + self.n)
        self.seq = 0

    def event(self, kind: str, ts: datetime, **fields) -> dict:
        self.seq += 1
        return {
            "id": f"{self.message_id}-{self.seq}",
            "type": kind,
            "timestamp": _stamp(ts),
            "message_id": self.message_id,
            "from": self.sender,
            "to": self.recipient.address,
            **fields,
        }


def rejected_event(send: _Send, reason: str) -> dict:
    """The gate stopped the send: one `rejected` event with the gate's reason."""
    return send.event("rejected", send.at, subject=send.subject, reason=reason)


def message_events(send: _Send, end: datetime, outage: Outage | None = None) -> Iterator[dict]:
    """What happens to a message the gate let through: events at or before `end`."""
    from django.conf import settings

    from .sending import retry_delay

    rng = send.rng
    domain = send.recipient.domain
    rcpt = send.recipient.address
    fmt = {"rcpt": rcpt, "sender_domain": send.sender_domain}

    def emit(kind: str, ts: datetime, **fields) -> list[dict]:
        return [send.event(kind, ts, **fields)] if ts <= end else []

    yield from emit("request", send.at, subject=send.subject)
    t = send.at + timedelta(seconds=rng.uniform(0.5, 8))
    if send.recipient.mistyped or (outage is not None and outage.covers(domain, t)):
        yield from emit(
            "bounced", t, smtp=_reply(INVALID, domain, **fmt), bounce_class="invalid_address"
        )
        return
    roll = rng.random()
    if roll < 0.006:
        yield from emit("bounced", t, smtp=_reply(FULL, domain, **fmt), bounce_class="mailbox_full")
        return
    if roll < 0.011:
        yield from emit("bounced", t, smtp=_reply(BLOCKED, domain, **fmt), bounce_class="blocked")
        return
    if roll < 0.014:
        yield from emit(
            "bounced", t, smtp=_reply(SPAM, domain, **fmt), bounce_class="spam_rejected"
        )
        return
    if roll < 0.039:
        # Deferred and retried as delivery spaces attempts; nearly always delivered in the
        # end, otherwise given up after the last attempt with delivery's own reply.
        max_attempts = settings.SENDING_MAX_ATTEMPTS
        failures = max_attempts if rng.random() < 0.1 else rng.randint(1, min(3, max_attempts - 1))
        for attempt in range(1, failures + 1):
            reply = _reply(DEFERRED, domain, **fmt)
            if attempt == max_attempts:
                text = f"Gave up after {attempt} attempts; last reply: {reply['text']}"
                yield from emit("bounced", t, smtp={**reply, "text": text}, bounce_class="other")
                return
            yield from emit("deferred", t, smtp=reply)
            t += timedelta(seconds=retry_delay(attempt) + rng.uniform(0.5, 8))
    token = f"{rng.getrandbits(48):012x}"
    text = OK_REPLY.get(domain, OK_REPLY["*"]).format(epoch=int(t.timestamp()), token=token, **fmt)
    yield from emit("delivered", t, smtp={"code": 250, "enhanced": "2.0.0", "text": text})

    def link() -> str:
        return f"https://www.{send.sender_domain.split('.', 1)[-1]}{rng.choice(PATHS)}?utm_source=email"

    # Machine traffic, flagged as the tracking endpoints would flag it: Apple Mail Privacy
    # Protection fetches the images of every message soon after delivery, read or not, and
    # a corporate security gateway follows every link within seconds.
    if domain == "icloud.com" or rng.random() < 0.12:
        apple_ip = f"17.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
        fetched_at = t + timedelta(seconds=rng.uniform(20, 600))
        yield from emit("opened", fetched_at, user_agent="Mozilla/5.0", ip=apple_ip, machine=True)
    if domain == "example-corp.com" and rng.random() < 0.6:
        scanned_at = t + timedelta(seconds=rng.uniform(1, 8))
        scanner = "Mozilla/5.0 (compatible; link scanner)"
        yield from emit(
            "clicked", scanned_at, url=link(), user_agent=scanner, ip="192.0.2.25", machine=True
        )

    if rng.random() < 0.24:
        opened_at = t + timedelta(minutes=rng.expovariate(1 / 180))
        ua = _pick(rng, USER_AGENTS)
        ip = f"198.51.100.{rng.randint(1, 254)}"
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            yield from emit("opened", opened_at, user_agent=ua, ip=ip)
            opened_at += timedelta(minutes=rng.expovariate(1 / 600))
        if rng.random() < 0.28:
            clicked_at = opened_at + timedelta(seconds=rng.uniform(5, 300))
            yield from emit("clicked", clicked_at, url=link(), user_agent=ua, ip=ip)
        if rng.random() < 0.015:
            yield from emit("unsubscribed", opened_at + timedelta(minutes=2), user_agent=ua, ip=ip)
    if rng.random() < 0.0012:
        yield from emit("complained", t + timedelta(hours=rng.uniform(1, 48)))


def _may_block(event: dict) -> bool:
    """Events the blocklist consumer may turn into a block."""
    if event["type"] in ("unsubscribed", "complained"):
        return True
    return event["type"] == "bounced" and event.get("bounce_class") in (
        "invalid_address",
        "mailbox_full",
    )


def simulate(
    accounts: Sequence,
    start: datetime,
    end: datetime,
    per_day: int,
    rng: random.Random,
    *,
    on_send: Callable[[], None] = lambda: None,
    outage: Outage | None = None,
):
    """Generate and ingest `per_day` sends a day per account in [start, end), in time order
    (and, with an `outage`, each account's burst to its domain).

    Returns the summed IngestResult.
    """
    from django.conf import settings

    from blocklist.gate import check

    from .ingest import IngestResult, ingest_events

    total = IngestResult()
    by_name = {account.name: account for account in accounts}
    sends = heapq.merge(
        *(
            [(at, account.name, "") for at in request_times(start, end, per_day, rng)]
            for account in accounts
        ),
        *(
            [(at, account.name, outage.domain) for at in outage.burst_times(rng)]
            for account in (accounts if outage is not None else [])
        ),
    )
    pools = {name: RecipientPool(rng) for name in by_name}
    pending: list[tuple[datetime, int, str, dict]] = []  # (time, order, account, event)
    blocking: dict[str, list[datetime]] = {}  # address → pending events that may block it
    order = itertools.count()

    def flush(until: datetime) -> None:
        """Ingest every pending event up to `until`, in time order, per account."""
        batches: dict[str, list[dict]] = {}
        while pending and pending[0][0] <= until:
            _, _, name, event = heapq.heappop(pending)
            batch = batches.setdefault(name, [])
            batch.append(event)
            if len(batch) >= settings.INGEST_MAX_BATCH:
                total.add(ingest_events(by_name[name], batch))
                batches[name] = []
        for name, batch in batches.items():
            if batch:
                total.add(ingest_events(by_name[name], batch))
        for address in list(blocking):
            left = [ts for ts in blocking[address] if ts > until]
            if left:
                blocking[address] = left
            else:
                del blocking[address]

    before_outage = outage is not None
    for n, (at, name, burst_domain) in enumerate(sends):
        account = by_name[name]
        recipient = pools[name].pick_at(burst_domain) if burst_domain else pools[name].pick()
        if before_outage and at >= outage.start:
            # Live, the verdicts before the fault arrive before it: none waits in a batch
            # with the fault's own, which a surge opening would hold with them.
            flush(outage.start)
            before_outage = False
        if min(blocking.get(recipient.address, [end]), default=end) <= at or len(pending) > 20_000:
            flush(at)
        send = _Send(name, sender_domains_for(name), recipient, at, n, rng)
        verdict = check(account, [recipient.address], record_stops=True, now=at)[recipient.address]
        if verdict.blocked:
            events = [rejected_event(send, verdict.reject_reason)]
        else:
            events = list(message_events(send, end, outage))
        for event in events:
            ts = datetime.fromisoformat(event["timestamp"])
            heapq.heappush(pending, (ts, next(order), name, event))
            if _may_block(event):
                blocking.setdefault(recipient.address, []).append(ts)
        on_send()
    flush(end)
    return total
