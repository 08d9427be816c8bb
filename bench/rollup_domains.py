"""Rollups with a long tail of recipient domains: ingest rate and rollup rows per day.

    .venv/bin/python bench/rollup_domains.py                  # 40,000 events a case
    .venv/bin/python bench/rollup_domains.py --events 100000

Two cases on a dedicated database (default `ses_bench_rollup_domains`, dropped and
re-created): 6 recipient domains, and 5,000 (Zipf-distributed: a few busy, most quiet),
both with 4 sender domains. Each case ingests a warm-up day, runs the job that chooses the
tracked domains (defaults: 50 recipient, 20 sender), then times `ingest_events` on the next
day (four events a message, batches of 1,000, spread over the 24 hours). It prints events/s,
the rollup rows the day holds by size, the rows one row per domain pair would have needed,
the largest bucket, and the time of a tail-domain chart and of the page's domain menu.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ingest import SENDERS, _setup  # noqa: E402

DAY = datetime(2026, 11, 2, tzinfo=UTC)


def domains(n: int) -> tuple[list[str], list[float]]:
    names = ["gmail.com", "qq.com", "outlook.com", "yahoo.com", "163.com", "icloud.com"]
    names += [f"mx{i}.example" for i in range(n - len(names))]
    return names[:n], [1 / (k + 1) for k in range(n)]


def day_events(start: datetime, n_events: int, n_domains: int, prefix: str) -> list[dict]:
    rnd = random.Random(prefix)
    names, weights = domains(n_domains)
    picks = rnd.choices(names, weights, k=n_events // 4)
    step = 86_400 / (n_events // 4)
    raw = []
    for i, rcpt in enumerate(picks):
        iso = (start + timedelta(seconds=i * step)).isoformat().replace("+00:00", "Z")
        mid = f"{prefix}m{i}"
        raw += [
            {
                "id": f"{prefix}r{i}",
                "type": "request",
                "timestamp": iso,
                "message_id": mid,
                "from": f"news@{SENDERS[i % len(SENDERS)]}",
                "to": f"u{i}@{rcpt}",
                "subject": "Hello",
            },
            {"id": f"{prefix}d{i}", "type": "delivered", "timestamp": iso, "message_id": mid},
            {
                "id": f"{prefix}o{i}",
                "type": "opened",
                "timestamp": iso,
                "message_id": mid,
                "user_agent": "Mozilla/5.0",
            },
            {
                "id": f"{prefix}c{i}",
                "type": "clicked",
                "timestamp": iso,
                "message_id": mid,
                "url": "https://shop.example/offer",
            },
        ]
    return raw


def run_case(n_domains: int, n_events: int) -> dict:
    from django.db import connection

    from delivery.ingest import ingest_events
    from sesconsole.models import Account
    from stats.models import Rollup
    from stats.promotion import choose_tracked_domains
    from stats.services import domain_menu, series

    account = Account.objects.create(name=f"bench-{n_domains}", time_zone="UTC")
    warm = day_events(DAY - timedelta(days=1), n_events, n_domains, f"w{n_domains}-")
    for start in range(0, len(warm), 1000):
        ingest_events(account, warm[start : start + 1000])
    changes = choose_tracked_domains(account, now=DAY - timedelta(minutes=30))

    raw = day_events(DAY, n_events, n_domains, f"d{n_domains}-")
    t0 = time.perf_counter()
    for start in range(0, len(raw), 1000):
        ingest_events(account, raw[start : start + 1000])
    ingest_s = time.perf_counter() - t0

    day = Rollup.objects.filter(
        account=account, bucket__gte=DAY, bucket__lt=DAY + timedelta(days=1)
    )
    rows = {size: day.filter(size=size).count() for size in (1, 15, 60)}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT max(n) FROM (SELECT count(*) AS n FROM stats_rollup WHERE account_id = %s"
            " GROUP BY size, bucket) x",
            [account.pk],
        )
        largest = cur.fetchone()[0]
        # What one row per domain pair (the shape before tracked domains) needs that day.
        pairs = {}
        for size in (1, 15, 60):
            cur.execute(
                "SELECT count(DISTINCT (date_bin(%s, e.timestamp, TIMESTAMPTZ '2000-01-01'),"
                " m.sender_domain, m.recipient_domain))"
                " + count(DISTINCT date_bin(%s, e.timestamp, TIMESTAMPTZ '2000-01-01'))"
                " FROM delivery_deliveryevent e JOIN delivery_message m ON m.id = e.message_id"
                " WHERE e.account_id = %s AND e.timestamp >= %s AND e.timestamp < %s",
                [
                    timedelta(minutes=size),
                    timedelta(minutes=size),
                    account.pk,
                    DAY,
                    DAY + timedelta(days=1),
                ],
            )
            pairs[size] = cur.fetchone()[0]
    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # as autovacuum would have, on a database in use
    names, _ = domains(n_domains)
    # A quiet domain with a few messages a day (the 6-domain case has none: its last one).
    tail = names[min(200, n_domains - 1)]
    tracked = Rollup.objects.filter(account=account, recipient_domain=tail).exists()
    t0 = time.perf_counter()
    for _ in range(5):
        chart = series(
            account, DAY.date() - timedelta(days=6), DAY.date(), "day", recipient_domain=tail
        )
    tail_ms = (time.perf_counter() - t0) / 5 * 1000
    t0 = time.perf_counter()
    for _ in range(5):
        menu = domain_menu(account, "recipient")
    menu_ms = (time.perf_counter() - t0) / 5 * 1000
    return {
        "domains": n_domains,
        "events": len(raw),
        "rate": len(raw) / ingest_s,
        "rows": rows,
        "pairs": pairs,
        "largest": largest,
        "tracked": len(changes.promoted),
        "tail": (tail, tracked, chart["totals"]["requests"], tail_ms),
        "menu": (len(menu), menu_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=40_000, help="per case and day")
    parser.add_argument("--db", default="ses_bench_rollup_domains")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    _setup(args.db)
    results = [run_case(n, args.events) for n in (6, 5000)]
    base = results[0]["rate"]
    for r in results:
        print(f"== {r['domains']:,} recipient domains, {r['events']:,} events in a day")
        print(
            f"ingest_events:        {r['rate']:8,.0f} events/s ({r['rate'] / base:.0%} of 6 domains)"
        )
        print(f"domains tracked:      {r['tracked']}")
        for size in (1, 15, 60):
            print(
                f"rollup rows, {size:2d} min:  {r['rows'][size]:8,}   "
                f"(one row per pair: {r['pairs'][size]:,})"
            )
        total, old = sum(r["rows"].values()), sum(r["pairs"].values())
        print(f"rollup rows per day:  {total:8,}   (one row per pair: {old:,})")
        print(f"largest bucket:       {r['largest']:8,} rows")
        tail, tracked, n, ms = r["tail"]
        kind = "tracked" if tracked else "tail"
        print(f"7-day chart of {kind} domain {tail} ({n} requests): {ms:.1f} ms")
        print(
            f"domain suggestions ({r['menu'][0]:,} of the recipient domains): {r['menu'][1]:.1f} ms"
        )


if __name__ == "__main__":
    main()
