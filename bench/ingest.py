"""Ingestion benchmark on PostgreSQL: `ingest_events` against COPY of the same rows.

    .venv/bin/python bench/ingest.py                   # 100,000 events (about a minute)
    .venv/bin/python bench/ingest.py --events 20000    # a quick run
    .venv/bin/python bench/ingest.py --profile         # also print where the time goes

Uses a dedicated database (default `ses_bench_ingest`, dropped and re-created). The events
are four per message (request, delivered, opened, clicked) in batches of 1,000, through the
whole pipeline: validation, messages, events, rollups and blocklist consumers, one
transaction per batch. The floor is COPY of the same event rows into a copy of the table
with the same indexes.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SENDERS = ["mail.acme.example", "news.acme.example", "billing.acme.example", "alerts.acme.example"]
RECIPIENTS = ["gmail.com", "qq.com", "outlook.com", "yahoo.com", "163.com", "icloud.com"]


def _setup(db: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "insecure-benchmark-key")  # a throwaway database
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def sample_events(n_events: int, prefix: str = "") -> list[dict]:
    base = datetime(2026, 11, 1, tzinfo=UTC)
    raw = []
    for i in range(n_events // 4):
        iso = (base + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        mid = f"{prefix}m{i}"
        raw += [
            {
                "id": f"{prefix}r{i}",
                "type": "request",
                "timestamp": iso,
                "message_id": mid,
                "from": f"news@{SENDERS[i % len(SENDERS)]}",
                "to": f"u{i}@{RECIPIENTS[i % len(RECIPIENTS)]}",
                "subject": "Hello",
            },
            {
                "id": f"{prefix}d{i}",
                "type": "delivered",
                "timestamp": iso,
                "message_id": mid,
                "smtp": {"code": 250, "enhanced": "2.0.0", "text": "250 2.0.0 OK"},
            },
            {
                "id": f"{prefix}o{i}",
                "type": "opened",
                "timestamp": iso,
                "message_id": mid,
                "user_agent": "Mozilla/5.0",
                "ip": "203.0.113.9",
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


def bench_ingest(n_events: int) -> dict:
    """ingest_events in batches of 1,000 vs COPY of the same rows into a copy of the table."""
    from django.db import connection

    from delivery.ingest import ingest_events
    from sesconsole.models import Account

    account = Account.objects.create(name="ingest-bench", time_zone="UTC")
    raw = sample_events(n_events)
    t0 = time.perf_counter()
    for start in range(0, len(raw), 1000):
        ingest_events(account, raw[start : start + 1000])
    ingest_s = time.perf_counter() - t0

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_copy (LIKE delivery_deliveryevent INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
        )
        cur.execute(
            "SELECT id, message_id FROM delivery_message WHERE account_id = %s", [account.pk]
        )
        ids = dict((m, pk) for pk, m in cur.fetchall())
        t0 = time.perf_counter()
        with cur.cursor.copy(
            "COPY bench_copy (account_id, event_id, message_id, type, timestamp, received_at,"
            " bounce_class, smtp_code, smtp_enhanced, response_text, reason, url, user_agent, ip,"
            " is_machine)"
            " FROM STDIN"
        ) as copy:
            now = datetime.now(UTC)
            for e in raw:
                copy.write_row(
                    (
                        account.pk,
                        e["id"],
                        ids[e["message_id"]],
                        e["type"],
                        e["timestamp"],
                        now,
                        "",
                        e.get("smtp", {}).get("code"),
                        e.get("smtp", {}).get("enhanced", ""),
                        e.get("smtp", {}).get("text", ""),
                        "",
                        e.get("url", ""),
                        e.get("user_agent", ""),
                        e.get("ip"),
                        False,
                    )
                )
        copy_s = time.perf_counter() - t0
        cur.execute("DROP TABLE bench_copy")
    return {"events": len(raw), "ingest_s": ingest_s, "copy_s": copy_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--db", default="ses_bench_ingest")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    _setup(args.db)

    print(f"== ingest_events of {args.events:,} events (batches of 1,000) into {args.db}")
    result = bench_ingest(args.events)
    rate = result["events"] / result["ingest_s"]
    floor = result["events"] / result["copy_s"]
    print(f"ingest_events:              {rate:10,.0f} events/s")
    print(
        f"COPY of the same rows:      {floor:10,.0f} rows/s   (ingest is {floor / rate:.1f}x slower)"
    )

    if args.profile:
        import cProfile
        import pstats

        from delivery.ingest import ingest_events
        from sesconsole.models import Account

        account = Account.objects.get(name="ingest-bench")
        raw = sample_events(min(args.events, 20_000), prefix="p")
        profile = cProfile.Profile()
        profile.enable()
        for start in range(0, len(raw), 1000):
            ingest_events(account, raw[start : start + 1000])
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
