"""Rollups bounded by tracked domains: rows per bucket capped, every domain filter exact.

The reference answer for a filter is the one the rollups give when every domain is
tracked from the start and the rows are rebuilt from the events (the shape rollups had
before tracking), and, independently, the events counted here in Python.
"""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db.models import Count, Sum

from delivery.ingest import ingest_events
from delivery.models import Message
from stats.models import ALL, COUNTERS, OTHER, Rollup, SeenDomain, TrackedDomain
from stats.promotion import choose_tracked_domains
from stats.rollups import rebuild
from stats.services import DOMAIN_MENU_SIZE, domain_known, domain_menu, series
from tests.events import make_event

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel("2026-11-29T12:00:00Z", tick=False):
        yield


T0 = datetime(2026, 11, 27, tzinfo=UTC)
DAYS = (date(2026, 11, 27), date(2026, 11, 29))
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def traffic(messages: int = 150, recipients: int = 12, seed: int = 1) -> list[dict]:
    """A long-tailed mix over two days: a few busy recipient domains, many quiet ones;
    deliveries, bounces, opens and clicks (some by machines), a few events stamped up to
    two days after the request, and some events sent before their request."""
    rnd = random.Random(seed)
    events = []
    for i in range(messages):
        at = T0 + timedelta(minutes=rnd.randrange(0, 2 * 24 * 60 - 30))
        mid = f"s{seed}-m{i}"
        rcpt = f"r{min(int(rnd.expovariate(0.35)), recipients - 1)}.test"
        sender = f"s{rnd.choice([0, 0, 0, 1, 2])}.test"
        request = make_event(
            "request", mid, timestamp=_iso(at), **{"from": f"n@{sender}", "to": f"u{i}@{rcpt}"}
        )
        later = []
        if rnd.random() < 0.15:
            later.append(make_event("bounced", mid, timestamp=_iso(at + timedelta(minutes=1))))
        else:
            later.append(make_event("delivered", mid, timestamp=_iso(at + timedelta(minutes=1))))
            for _ in range(rnd.choice([0, 1, 2])):
                opened = at + timedelta(minutes=rnd.randrange(2, 3000))
                later.append(
                    make_event("opened", mid, timestamp=_iso(opened), machine=rnd.random() < 0.3)
                )
            if rnd.random() < 0.3:
                clicked = at + timedelta(minutes=rnd.randrange(2, 600))
                later.append(
                    make_event("clicked", mid, timestamp=_iso(clicked), url="https://x.test/")
                )
        events += [*later, request] if rnd.random() < 0.05 else [request, *later]
    return events


def ingest_in_batches(account, events: list[dict], size: int = 70) -> None:
    for start in range(0, len(events), size):
        ingest_events(account, events[start : start + size])


def snapshot(account) -> dict:
    keys = ("size", "bucket", "sender_domain", "recipient_domain")
    rows = (
        Rollup.objects.filter(account=account)
        .values(*keys)
        .annotate(**{c: Sum(c) for c in COUNTERS})
    )
    return {tuple(r.pop(k) for k in keys): r for r in rows if any(r[c] for c in COUNTERS)}


def answers(account, **filters) -> list[dict]:
    return [
        series(account, *DAYS, "day", **filters),
        series(account, *DAYS, "hour", **filters),
    ]


def domains_of(events: list[dict]) -> tuple[set[str], set[str]]:
    senders = {e["from"].split("@")[1] for e in events if e["type"] == "request"}
    recipients = {e["to"].split("@")[1] for e in events if e["type"] == "request"}
    return senders, recipients


def filters_of(events: list[dict]) -> list[dict]:
    senders, recipients = domains_of(events)
    out = [{"sender_domain": s} for s in sorted(senders)]
    out += [{"recipient_domain": r} for r in sorted(recipients)]
    out += [{"sender_domain": "s0.test", "recipient_domain": r} for r in sorted(recipients)[:4]]
    out += [{"recipient_domain": "nowhere.test"}, {"sender_domain": OTHER}, {"sender_domain": ALL}]
    return out


def reference(account, events: list[dict]) -> dict[str, list[dict]]:
    """Every filter's answer with all domains tracked from the start, rebuilt from events;
    leaves the account's tracking and rollups as they were."""
    saved = list(TrackedDomain.objects.filter(account=account).values())
    rows = snapshot(account)
    senders, recipients = domains_of(events)
    TrackedDomain.objects.filter(account=account).delete()
    TrackedDomain.objects.bulk_create(
        [TrackedDomain(account=account, side="sender", domain=d, since=EPOCH) for d in senders]
        + [
            TrackedDomain(account=account, side="recipient", domain=d, since=EPOCH)
            for d in recipients
        ]
    )
    rebuild(T0 - timedelta(days=1), T0 + timedelta(days=6), account)
    answer = {repr(f): answers(account, **f) for f in filters_of(events)}
    TrackedDomain.objects.filter(account=account).delete()
    TrackedDomain.objects.bulk_create([TrackedDomain(**row) for row in saved])
    rebuild(T0 - timedelta(days=1), T0 + timedelta(days=6), account)
    assert snapshot(account) == rows
    return answer


def test_tail_domain_filters_equal_a_rebuild_and_the_raw_events(account):
    account.time_zone = "Asia/Kolkata"  # local days and hours cut UTC hours at :30
    account.save()
    events = traffic()
    ingest_in_batches(account, events)
    assert not TrackedDomain.objects.exists()
    # Nothing tracked: every domain's counts sit under OTHER, totals unchanged.
    assert set(Rollup.objects.values_list("recipient_domain", flat=True)) == {ALL, OTHER}
    live = {repr(f): answers(account, **f) for f in filters_of(events)}
    assert live == reference(account, events)
    # And against the events themselves, counted here.
    requests = Counter(e["to"].split("@")[1] for e in events if e["type"] == "request")
    for domain, n in requests.items():
        assert series(account, *DAYS, "day", recipient_domain=domain)["totals"]["requests"] == n
    assert series(account, *DAYS, "day", recipient_domain="nowhere.test")[
        "totals"
    ] == dict.fromkeys(COUNTERS, 0)


@pytest.mark.parametrize("seed", [2, 3])
def test_promotion_and_demotion_keep_every_filter_exact(account, settings, seed):
    settings.STATS_TRACKED_RECIPIENT_DOMAINS = 3
    settings.STATS_TRACKED_SENDER_DOMAINS = 1
    events = traffic(seed=seed)
    first, second = events[: len(events) // 2], events[len(events) // 2 :]
    ingest_in_batches(account, first)
    # Promoted from 2026-11-28 00:00, inside the data: events already counted after the
    # switch move to the domain's rows in the same transaction.
    changes = choose_tracked_domains(account, now=datetime(2026, 11, 27, 23, 10, tzinfo=UTC))
    assert changes.switch == datetime(2026, 11, 28, tzinfo=UTC)
    assert len(changes.promoted) == 4
    assert changes.moved_rows > 0
    ingest_in_batches(account, second)
    live = {repr(f): answers(account, **f) for f in filters_of(events)}
    assert live == reference(account, events)

    # Other traffic makes other domains the busiest: the old ones are demoted at the next
    # switch, new ones promoted, and the charts do not move.
    shifted = [
        make_event(
            "request",
            f"x{i}",
            timestamp=f"2026-11-28T13:{i % 60:02d}:00Z",
            to=f"u@r{9 + i % 3}.test",
        )
        for i in range(300)
    ]
    ingest_in_batches(account, shifted)
    before = {repr(f): answers(account, **f) for f in filters_of(events + shifted)}
    changes = choose_tracked_domains(account, now=datetime(2026, 11, 28, 12, 30, tzinfo=UTC))
    assert changes.demoted and changes.promoted
    assert {f"r{9 + i}.test" for i in range(3)} <= {d for _, d in changes.promoted}
    after = {repr(f): answers(account, **f) for f in filters_of(events + shifted)}
    assert after == before == reference(account, events + shifted)
    # A domain tracked twice has two intervals; never two open ones.
    assert not (
        TrackedDomain.objects.filter(until__isnull=True)
        .values("side", "domain")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )


def test_live_counts_equal_a_rebuild_row_for_row_with_tracking(account, settings):
    settings.STATS_TRACKED_RECIPIENT_DOMAINS = 4
    settings.STATS_TRACKED_SENDER_DOMAINS = 2
    events = traffic(seed=4)
    random.Random(4).shuffle(events)
    ingest_in_batches(account, events[:200], size=50)
    choose_tracked_domains(account, now=datetime(2026, 11, 28, 5, 45, tzinfo=UTC))
    ingest_in_batches(account, events[200:], size=50)
    live = snapshot(account)
    assert any(key[3] not in (ALL, OTHER) for key in live)
    rebuild(T0 - timedelta(days=1), T0 + timedelta(days=6), account)
    assert snapshot(account) == live


def test_rows_per_bucket_are_bounded_with_5000_recipient_domains(account, settings):
    settings.STATS_TRACKED_RECIPIENT_DOMAINS = 50
    settings.STATS_TRACKED_SENDER_DOMAINS = 2
    rnd = random.Random(5)

    def batch(day: str, n: int, offset: int) -> list[dict]:
        return [
            make_event(
                "request",
                f"{day}-{i}",
                timestamp=f"{day}T10:{i % 60:02d}:00Z",
                **{
                    "from": f"n@s{i % 4}.test",
                    # Busy domains 0..9 take half; the rest spread over 4,990 more.
                    "to": f"u{i}@d{rnd.randrange(10) if i % 2 else 10 + (i // 2 + offset) % 4990}.test",
                },
            )
            for i in range(n)
        ]

    ingest_in_batches(account, batch("2026-11-27", 6000, 0), size=1000)
    choose_tracked_domains(account, now=datetime(2026, 11, 27, 23, 0, tzinfo=UTC))
    assert TrackedDomain.objects.filter(side="recipient").count() == 50
    ingest_in_batches(account, batch("2026-11-28", 6000, 3000), size=1000)
    limit = (50 + 1) * (2 + 1) + 1
    per_bucket = (
        Rollup.objects.filter(account=account, bucket__date="2026-11-28")
        .values("size", "bucket")
        .annotate(n=Count("id"))
    )
    assert per_bucket and max(row["n"] for row in per_bucket) <= limit
    # Every one of the 5,000 domains still answers exactly.
    got = Rollup.objects.filter(account=account, sender_domain=ALL, size=60)
    assert got.aggregate(n=Sum("requests"))["n"] == 12000
    day = date(2026, 11, 28)
    tracked = set(TrackedDomain.objects.values_list("domain", flat=True))
    quiet = next(f"d{n}.test" for n in range(10, 5000) if f"d{n}.test" not in tracked)
    expected = Message.objects.filter(
        account=account, recipient_domain=quiet, requested_at__date=day
    ).count()
    assert (
        series(account, day, day, "day", recipient_domain=quiet)["totals"]["requests"] == expected
    )
    # The filters suggest the first domains without reading the rollups, and know them all.
    assert SeenDomain.objects.filter(side="recipient").count() == 5000
    first = domain_menu(account, "recipient")
    assert len(first) == DOMAIN_MENU_SIZE and first == sorted(first)
    last = max(SeenDomain.objects.filter(side="recipient").values_list("domain", flat=True))
    assert domain_known(account, "recipient", last) and last not in first
    assert domain_menu(account, "recipient", starting=last) == [last]


def test_the_job_is_safe_to_re_run(account, settings):
    settings.STATS_TRACKED_RECIPIENT_DOMAINS = 3
    ingest_in_batches(account, traffic(seed=6))
    now = datetime(2026, 11, 29, 11, 20, tzinfo=UTC)
    first = choose_tracked_domains(account, now=now)
    rows = list(TrackedDomain.objects.order_by("pk").values())
    again = choose_tracked_domains(account, now=now)
    assert first.promoted and not again.promoted and not again.demoted
    assert list(TrackedDomain.objects.order_by("pk").values()) == rows


def test_tail_filters_never_read_another_accounts_events(account, other_account):
    ingest_in_batches(other_account, traffic(seed=7))
    ingest_events(account, [make_event("request", "mine", timestamp="2026-11-28T10:00:00Z")])
    totals = series(account, *DAYS, "day", recipient_domain="r0.test")["totals"]
    assert totals == dict.fromkeys(COUNTERS, 0)
    assert domain_menu(account, "sender") == ["mail.example.com"]
    assert domain_menu(account, "recipient") == ["gmail.com"]


def test_the_beat_job_tracks_every_accounts_busiest_domains(account, other_account, settings):
    from stats import tasks

    settings.STATS_TRACKED_RECIPIENT_DOMAINS = 2
    ingest_in_batches(account, traffic(seed=9))
    ingest_in_batches(other_account, traffic(seed=10))
    schedule = settings.CELERY_BEAT_SCHEDULE["stats-choose-tracked-domains"]
    assert schedule["task"] == "stats.tasks.choose_tracked_domains"
    assert tasks.choose_tracked_domains() > 0
    for owner in (account, other_account):
        open_rows = TrackedDomain.objects.filter(account=owner, until__isnull=True)
        assert open_rows.filter(side="recipient").count() == 2
        assert open_rows.filter(side="recipient", domain="r0.test").exists()
    assert tasks.choose_tracked_domains() == 0
