"""Real-shaped delivery traffic for the benchmarks: wire-format events in arrival order.

What makes it real-shaped (the friendly data the first benchmarks used had none of it):
- the events of a message arrive in different batches: messages are sent over a time
  window and every event is emitted when it happens (delivery seconds later, deferrals
  minutes later, opens and clicks hours later), so a batch of 1,000 touches ~1,000
  different messages;
- recipient domains follow a Zipf-like long tail (weight 1/rank) over `domains` domains:
  a few big mailbox providers, then thousands of small ones (`domains=6` is the old
  friendly case);
- outcomes in realistic shares: rejections, deferrals, bounces of every class with their
  SMTP replies, privacy-proxy (machine) opens, link-scanner clicks, repeat opens, clicks,
  unsubscribes, complaints, and repeats of already-sent events (retries), which must count
  once.

    from traffic import Traffic
    batches = Traffic(domains=5000, seed=1).batches(100_000)   # list of lists of dicts
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

BIG_PROVIDERS = [
    "gmail.com",
    "qq.com",
    "outlook.com",
    "yahoo.com",
    "163.com",
    "icloud.com",
    "hotmail.com",
    "foxmail.com",
    "126.com",
    "proton.me",
    "gmx.de",
    "yandex.ru",
    "naver.com",
    "mail.ru",
    "aol.com",
]
SENDERS = ["mail.acme.example", "news.acme.example", "billing.acme.example", "alerts.acme.example"]

# Per message (shares of all messages).
REJECTED = 0.01  # refused before sending (blocklisted, invalid)
DEFERRED = 0.05  # at least one deferral before the final outcome
BOUNCED = 0.05  # of those sent
# Bounce classes with the reply a receiving server gives.
BOUNCES = [
    ("invalid_address", 0.50, (550, "5.1.1", "550 5.1.1 The email account does not exist")),
    ("mailbox_full", 0.15, (552, "5.2.2", "552 5.2.2 Mailbox full, quota exceeded")),
    ("blocked", 0.15, (554, "5.7.1", "554 5.7.1 Service unavailable; client host blocked")),
    ("spam_rejected", 0.10, (550, "5.7.1", "550 5.7.1 Message rejected as spam")),
    ("other", 0.10, (554, "5.0.0", "554 5.0.0 Delivery failed")),
]
OPENED = 0.30  # of delivered; a third of openers open again
MACHINE_OPEN = 0.40  # of opened messages: a privacy proxy fetched the pixel first
CLICKED = 0.25  # of opened
SCANNER_CLICK = 0.10  # of clicked messages: a link scanner clicked first
UNSUBSCRIBED = 0.02  # of opened
COMPLAINED = 0.002  # of delivered
REPEATS = 0.01  # of events, sent again in a later batch (a retry)


def domain_names(domains: int) -> list[str]:
    """`domains` recipient domains, biggest first: real providers, then a long tail."""
    names = BIG_PROVIDERS[: min(domains, len(BIG_PROVIDERS))]
    names += [f"tail{i}.example" for i in range(domains - len(names))]
    return names


@dataclass
class Traffic:
    domains: int = 5000
    seed: int = 1
    # Messages sent per second of simulated time: sets how far apart a message's events land.
    send_rate: float = 50.0
    start: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=12))
    prefix: str = ""
    # Share of events sent again a little later (a client's retry); see REPEATS.
    repeats: float = REPEATS

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self.names = domain_names(self.domains)
        weights = [1 / rank for rank in range(1, len(self.names) + 1)]
        self.cum = list(itertools.accumulate(weights))
        self._ids = itertools.count()

    def _domain(self) -> str:
        return self.names[bisect.bisect(self.cum, self.rng.random() * self.cum[-1])]

    def _event(self, type: str, mid: str, at: datetime, **fields) -> tuple[datetime, dict]:
        event = {
            "id": f"{self.prefix}e{next(self._ids)}",
            "type": type,
            "timestamp": at.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "message_id": mid,
            **fields,
        }
        return at, event

    def message(self, n: int) -> list[tuple[datetime, dict]]:
        """The events one message causes, with when each happens."""
        rng = self.rng
        mid = f"{self.prefix}m{n}"
        sent = self.start + timedelta(seconds=n / self.send_rate)
        addresses = {
            "from": f"news@{SENDERS[n % len(SENDERS)]}",
            "to": f"u{n}@{self._domain()}",
            "subject": f"Offer {n % 40}",
        }
        if rng.random() < REJECTED:
            return [self._event("rejected", mid, sent, reason="invalid_address", **addresses)]
        out = [self._event("request", mid, sent, **addresses)]
        at = sent + timedelta(seconds=rng.uniform(1, 20))
        if rng.random() < DEFERRED:
            for _ in range(rng.choice((1, 1, 2))):
                out.append(
                    self._event(
                        "deferred",
                        mid,
                        at,
                        smtp={"code": 451, "enhanced": "4.7.1", "text": "451 4.7.1 Try later"},
                    )
                )
                at += timedelta(minutes=rng.uniform(5, 30))
        if rng.random() < BOUNCED:
            classes = [(name, reply) for name, _, reply in BOUNCES]
            weights = [share for _, share, _ in BOUNCES]
            bounce_class, (code, enhanced, text) = rng.choices(classes, weights)[0]
            smtp = {"code": code, "enhanced": enhanced, "text": text}
            out.append(self._event("bounced", mid, at, bounce_class=bounce_class, smtp=smtp))
            return out
        out.append(
            self._event(
                "delivered", mid, at, smtp={"code": 250, "enhanced": "2.0.0", "text": "250 OK"}
            )
        )
        if rng.random() < COMPLAINED:
            out.append(self._event("complained", mid, at + timedelta(hours=rng.uniform(1, 6))))
        if rng.random() >= OPENED:
            return out
        seen = at + timedelta(minutes=rng.expovariate(1 / 90))
        ua = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X)"
        if rng.random() < MACHINE_OPEN:
            out.append(
                self._event("opened", mid, at + timedelta(seconds=30), machine=True, ip="17.58.0.1")
            )
        out.append(self._event("opened", mid, seen, user_agent=ua, ip="203.0.113.9"))
        if rng.random() < 1 / 3:
            again = seen + timedelta(hours=rng.uniform(1, 8))
            out.append(self._event("opened", mid, again, user_agent=ua, ip="203.0.113.9"))
        if rng.random() < CLICKED:
            url = f"https://shop.example/offer/{n % 97}"
            if rng.random() < SCANNER_CLICK:
                out.append(
                    self._event("clicked", mid, at + timedelta(seconds=40), url=url, machine=True)
                )
            out.append(self._event("clicked", mid, seen + timedelta(seconds=20), url=url))
        if rng.random() < UNSUBSCRIBED:
            out.append(self._event("unsubscribed", mid, seen + timedelta(minutes=1)))
        return out

    def events(self, n_events: int) -> list[dict]:
        """About `n_events` events (repeats included) in arrival order."""
        timed: list[tuple[datetime, dict]] = []
        n = 0
        while len(timed) < n_events * (1 - self.repeats):
            timed.extend(self.message(n))
            n += 1
        timed.sort(key=lambda pair: pair[0])
        ordered = [event for _, event in timed]
        # Retries: a copy of an event arrives again a little later.
        for _ in range(int(len(ordered) * self.repeats)):
            i = self.rng.randrange(len(ordered))
            later = min(len(ordered), i + self.rng.randint(1, 5000))
            ordered.insert(later, dict(ordered[i]))
        return ordered

    def batches(self, n_events: int, size: int = 1000) -> list[list[dict]]:
        events = self.events(n_events)
        return [events[i : i + size] for i in range(0, len(events), size)]


def describe(events: list[dict]) -> str:
    """One line: the shape of a stream (for the benchmark's output)."""
    types = Counter(e["type"] for e in events)
    unique = len({e["id"] for e in events})
    domains = Counter(e["to"].rsplit("@", 1)[1] for e in events if "to" in e)
    top = sum(c for _, c in domains.most_common(10)) / max(1, sum(domains.values()))
    machine = sum(1 for e in events if e.get("machine"))
    return (
        f"{len(events):,} events ({unique:,} unique), {len(domains):,} recipient domains "
        f"(top 10: {top:.0%} of messages), "
        + ", ".join(f"{t} {c:,}" for t, c in types.most_common())
        + f"; machine opens/clicks {machine:,}"
    )


def batch_spread(batches: list[list[dict]]) -> float:
    """Distinct messages per batch over events per batch (1.0: every event another message)."""
    ratios = [len({e["message_id"] for e in b}) / len(b) for b in batches if b]
    return sum(ratios) / len(ratios)


if __name__ == "__main__":
    # The shape of 100,000 events with the old friendly domain count and with a long tail.
    for n in (6, 5000):
        stream = Traffic(domains=n).batches(100_000)
        print(f"{n:>5} domains: {describe([e for b in stream for e in b])}")
        print(f"       distinct messages per event in a batch: {batch_spread(stream):.2f}")
