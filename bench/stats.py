"""Statistics benchmark on PostgreSQL: charts, tables, CSV export, ingestion.

    .venv/bin/python bench/stats.py                  # 10M events (about 10 minutes)
    .venv/bin/python bench/stats.py --events 1000000 # a quick run
    .venv/bin/python bench/stats.py --db ses_bench_stats --reuse  # measure again, minutes

Seeds a dedicated database (default `ses_bench_stats`, dropped and re-created) with
generate_series (events in their day partitions, recipient domains on a long tail over
`--domains` domains), builds the rollups with `rebuild_stats`'s code, runs VACUUM ANALYZE
(the machine's PostgreSQL runs with autovacuum off), then reports each figure beside the
database's own floor measured in the same run:
- chart queries (stats.services.series) vs GROUP BY over the raw events, both without an
  index for it and with a covering (account, timestamp, type) index (index-only scan);
- rollup rows and size, read after VACUUM FULL (a rebuild leaves dead rows behind);
- table queries (Email status, event lists) as the pages run them, a recipient search that
  finds its message;
- whole requests as a user gets them (Django's test client: middleware, session, template
  or JSON rendering): the pages and the API lists;
- CSV export of up to 1M open events (the count it really exports is printed): rows/s and
  peak memory (in a child process) vs COPY TO.
`--reuse` keeps a database an earlier run seeded (same `--domains`): it applies new
migrations, rebuilds any event index left invalid, and measures with the clock set back to
the end of the seeded data (time-machine), so pages see the same traffic as right after
seeding.
Ingestion has its own benchmark: bench/ingest.py.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

sys.path.insert(0, str(ROOT / "bench"))

from traffic import SENDERS, domain_names  # noqa: E402

RECIPIENTS = domain_names(10)  # replaced by --domains
DAYS = 30
EVENTS_PER_MESSAGE = 4


def _setup_django(db: str) -> None:
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "insecure-benchmark-key")  # a throwaway database
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _recreate_database(db: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db}"')


def _exists(db: str) -> bool:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        return (
            c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [db]).fetchone() is not None
        )


def repair_event_indexes() -> list[str]:
    """Rebuild the event table's invalid indexes (an earlier seeding recreated them
    `ON ONLY` the partitioned table, which builds none on its partitions)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i
               JOIN pg_class c ON c.oid = i.indexrelid
               WHERE i.indrelid = 'delivery_deliveryevent'::regclass AND NOT i.indisvalid"""
        )
        broken = cur.fetchall()
        for name, definition in broken:
            cur.execute(f'DROP INDEX "{name}"')
            cur.execute(definition.replace(" ON ONLY ", " ON "))
        if broken:
            cur.execute("ANALYZE delivery_deliveryevent")
    return [name for name, _ in broken]


def reuse(account) -> datetime:
    """The end instant of the seeded data (its last request time, to the second above)."""
    from django.db.models import Max

    from delivery.models import Message

    last = Message.objects.filter(account=account).aggregate(last=Max("requested_at"))["last"]
    return last.replace(microsecond=0) + timedelta(seconds=1)


def _timed(fn, repeat: int = 7) -> float:
    """Median wall time in ms of `repeat` runs after one warm-up."""
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def seed(account_id: int, events: int, end: datetime) -> dict:
    """Messages and events straight from generate_series (indexes rebuilt afterwards)."""
    from django.db import connection

    from delivery import partitions

    messages = events // EVENTS_PER_MESSAGE
    start = end - timedelta(days=DAYS)
    span = f"{DAYS} days"
    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO delivery_message (account_id, message_id, from_address, sender_domain,
              recipient, recipient_domain, subject, requested_at, status, status_at, bounce_class,
              response_text, first_opened_at, first_clicked_at, open_count, click_count, created_at,
              first_human_opened_at, first_human_clicked_at)
            SELECT %(a)s, 'm' || g, 'news@' || sd, sd, 'u' || g || '@' || rd, rd, 'Subject ' || g %% 50,
              ts, CASE WHEN g %% 100 < 95 THEN 'delivered' WHEN g %% 100 < 98 THEN 'bounced'
                       ELSE 'deferred' END,
              ts + interval '1 minute', '', '', ts + interval '2 minutes',
              CASE WHEN g %% 20 BETWEEN 2 AND 9 THEN ts + interval '3 minutes' END,
              CASE WHEN g %% 20 >= 10 THEN 2 ELSE 1 END, CASE WHEN g %% 20 BETWEEN 2 AND 9 THEN 1 ELSE 0 END,
              ts,
              CASE WHEN g %% 3 <> 0 THEN ts + interval '2 minutes'
                   WHEN g %% 20 >= 10 THEN ts + interval '3 minutes' END,
              CASE WHEN g %% 20 BETWEEN 3 AND 9 THEN ts + interval '3 minutes' END
            FROM (SELECT g, (%(senders)s::text[])[1 + g %% 4] AS sd,
                         -- Long tail: rank ~ n^u for u uniform in [0, 1) is weight ~ 1/rank.
                         (%(recipients)s::text[])[LEAST(%(nd)s, floor(power(%(nd)s + 1,
                             ((g::bigint * 2654435761) %% 1000003) / 1000003.0))::int)] AS rd,
                         %(start)s::timestamptz + (g::float8 / %(m)s) * %(span)s::interval AS ts
                  FROM generate_series(0, %(m)s - 1) g) s
            """,
            {
                "a": account_id,
                "senders": SENDERS,
                "recipients": RECIPIENTS,
                "nd": len(RECIPIENTS),
                "start": start,
                "m": messages,
                "span": span,
            },
        )
        cur.execute("SELECT min(id) FROM delivery_message WHERE account_id = %s", [account_id])
        base = cur.fetchone()[0]
        # Drop the event table's indexes while loading; build them once afterwards.
        cur.execute(
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE conrelid = 'delivery_deliveryevent'::regclass AND contype IN ('u', 'f')"""
        )
        constraints = cur.fetchall()
        cur.execute(
            """SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'delivery_deliveryevent'
               AND indexname NOT IN (SELECT conname FROM pg_constraint) """
        )
        indexes = cur.fetchall()
        for name, _ in constraints:
            cur.execute(f'ALTER TABLE delivery_deliveryevent DROP CONSTRAINT "{name}"')
        for name, _ in indexes:
            cur.execute(f'DROP INDEX "{name}"')
        partitioned = partitions.is_partitioned()
        if partitioned:
            # One partition per day, as the beat job would have made them; the keys are
            # written in one statement below instead of by the trigger row by row.
            day = (start - timedelta(days=1)).date()
            while day <= end.date() + timedelta(days=1):
                if day not in partitions.partition_days():
                    partitions.create_partition(day)
                day += timedelta(days=1)
            cur.execute(
                "ALTER TABLE delivery_deliveryevent DISABLE TRIGGER delivery_event_claim_key"
            )
        cur.execute(
            """
            INSERT INTO delivery_deliveryevent (account_id, event_id, message_id, type, timestamp,
              received_at, bounce_class, smtp_code, smtp_enhanced, response_text, reason, url,
              user_agent, ip, is_machine)
            SELECT %(a)s, 'e' || i, %(base)s + g, t, ts, ts,
              CASE WHEN t = 'bounced' THEN (ARRAY['invalid_address','mailbox_full','blocked',
                   'spam_rejected','other'])[1 + g %% 5] ELSE '' END,
              CASE WHEN t IN ('delivered', 'bounced', 'deferred') THEN
                   CASE t WHEN 'delivered' THEN 250 WHEN 'bounced' THEN 550 ELSE 451 END END,
              '', CASE WHEN t = 'delivered' THEN '250 2.0.0 OK' ELSE '' END, '',
              CASE WHEN t = 'clicked' THEN 'https://shop.example/offer/' || g %% 97 ELSE '' END,
              CASE WHEN t = 'opened' THEN 'Mozilla/5.0 (Macintosh) Mail/' || g %% 13 ELSE '' END,
              NULL,
              -- A privacy proxy fetches a third of the first opens; a scanner some clicks.
              (k = 2 AND g %% 3 = 0) OR (k = 3 AND g %% 20 = 2)
            FROM (SELECT i, g, k, ts + k * interval '1 minute' AS ts,
                    CASE k WHEN 0 THEN 'request'
                           WHEN 1 THEN CASE WHEN g %% 100 < 95 THEN 'delivered'
                                            WHEN g %% 100 < 98 THEN 'bounced' ELSE 'deferred' END
                           WHEN 2 THEN 'opened'
                           ELSE CASE WHEN g %% 20 = 0 THEN 'complained'
                                     WHEN g %% 20 = 1 THEN 'unsubscribed'
                                     WHEN g %% 20 < 10 THEN 'clicked' ELSE 'opened' END END AS t
                  FROM (SELECT i, i / 4 AS g, i %% 4 AS k FROM generate_series(0, %(n)s - 1) i) x
                  JOIN (SELECT g2, %(start)s::timestamptz + (g2::float8 / %(m)s) * %(span)s::interval AS ts
                        FROM generate_series(0, %(m)s - 1) g2) y ON y.g2 = x.g) z
            """,
            {
                "a": account_id,
                "base": base,
                "start": start,
                "m": messages,
                "span": span,
                "n": events,
            },
        )
        if partitioned:
            cur.execute(
                "ALTER TABLE delivery_deliveryevent ENABLE TRIGGER delivery_event_claim_key"
            )
            cur.execute(
                "INSERT INTO delivery_deliveryeventkey (account_id, event_id, timestamp)"
                " SELECT account_id, event_id, timestamp FROM delivery_deliveryevent"
            )
        for _, definition in indexes:
            # pg_indexes says "ON ONLY" for a partitioned table's index: that form builds
            # nothing on the partitions and stays invalid. Without ONLY it builds them all.
            cur.execute(definition.replace(" ON ONLY ", " ON "))
        for name, definition in constraints:
            cur.execute(f'ALTER TABLE delivery_deliveryevent ADD CONSTRAINT "{name}" {definition}')
        cur.execute("ANALYZE delivery_message")
        cur.execute("ANALYZE delivery_deliveryevent")
    seeded = time.perf_counter() - t0
    from stats.models import Side, TrackedDomain
    from stats.rollups import rebuild

    # Few domains: all of them tracked from the start, so filtered charts read rollups.
    TrackedDomain.objects.bulk_create(
        [
            TrackedDomain(account_id=account_id, side=side, domain=domain, since=start)
            for side, domains in ((Side.SENDER, SENDERS), (Side.RECIPIENT, RECIPIENTS))
            for domain in domains
        ]
    )
    t0 = time.perf_counter()
    rebuild(start - timedelta(hours=1), end + timedelta(hours=1))
    rebuild_s = time.perf_counter() - t0
    with connection.cursor() as cur:
        # The rebuild deleted and re-inserted rows: read sizes from a compacted table.
        cur.execute("VACUUM FULL stats_rollup")
        for table in ("stats_rollup", "delivery_message", "delivery_deliveryevent"):
            cur.execute(f"VACUUM ANALYZE {table}")
        cur.execute(
            "SELECT size, count(*) FROM stats_rollup WHERE account_id = %s GROUP BY size",
            [account_id],
        )
        by_size = dict(cur.fetchall())
        cur.execute("SELECT pg_total_relation_size('stats_rollup')")
        rollup_bytes = cur.fetchone()[0]
    return {
        "seed_s": seeded,
        "rebuild_s": rebuild_s,
        "rollup_rows": sum(by_size.values()),
        "rollup_by_size": by_size,
        "rollup_bytes": rollup_bytes,
        "messages": messages,
        "start": start,
    }


def _floor(account_id: int, start: datetime, end: datetime, trunc: str) -> float:
    """The database's own floor: GROUP BY over the raw events of the same range.

    Run once without an index for it (the event table's indexes lead with type or
    message), once with the covering index `bench_event_account_time` (see bench_charts).
    """
    from django.db import connection

    sql = f"""
        SELECT date_trunc('{trunc}', timestamp) AS b,
               count(*) FILTER (WHERE type = 'request'), count(*) FILTER (WHERE type = 'delivered'),
               count(*) FILTER (WHERE type = 'bounced'), count(*) FILTER (WHERE type = 'rejected')
        FROM delivery_deliveryevent WHERE account_id = %s AND timestamp >= %s AND timestamp < %s
        GROUP BY 1"""

    def run():
        with connection.cursor() as cur:
            cur.execute(sql, [account_id, start, end])
            cur.fetchall()

    return _timed(run, repeat=1)


def bench_charts(account, end: datetime) -> list[tuple[str, float, float]]:
    from sesconsole.models import Account
    from stats.services import series_between
    from stats.views import queue_window

    last_hour = queue_window("1h", account, end)
    last_day = queue_window("24h", account, end)
    last_week = queue_window("7d", account, end)
    last_month = queue_window("30d", account, end)
    kolkata = Account.objects.get(pk=account.pk)
    kolkata.time_zone = "Asia/Kolkata"
    month_kolkata = queue_window("30d", kolkata, end)
    # The windows the queue-status page asks for (local hours and days).
    cases = [
        ("last hour by minute", account, last_hour, {}, "minute"),
        ("last 24 h by hour", account, last_day, {}, "hour"),
        ("last 7 d by hour", account, last_week, {}, "hour"),
        ("last 30 d by day", account, last_month, {}, "day"),
        (
            "last 30 d by day, both domains filtered",
            account,
            last_month,
            {"sender_domain": SENDERS[0], "recipient_domain": RECIPIENTS[0]},
            "day",
        ),
        ("last 30 d by day, Asia/Kolkata (+5:30)", kolkata, month_kolkata, {}, "day"),
    ]
    from django.db import connection

    out = []
    for label, acct, w, filters, trunc in cases:
        ms = _timed(partial(series_between, acct, w.start, w.end, w.granularity, **filters))
        out.append([label, ms, _floor(account.pk, w.start, w.end, trunc)])
    with connection.cursor() as cur:
        cur.execute(
            "CREATE INDEX bench_event_account_time"
            " ON delivery_deliveryevent (account_id, timestamp, type)"
        )
        cur.execute("VACUUM ANALYZE delivery_deliveryevent")  # index-only scans need it
    for row, (_, _, w, _, trunc) in zip(out, cases, strict=True):
        row.append(_floor(account.pk, w.start, w.end, trunc))
    with connection.cursor() as cur:
        cur.execute("DROP INDEX bench_event_account_time")
    return out


def bench_tables(account, end: datetime) -> list[tuple[str, float]]:
    from delivery.models import DeliveryEvent, Message
    from sesconsole.lib.pagination import CappedPaginator
    from stats.services import domain_menu
    from stats.views import MergedByTime

    day = end - timedelta(days=1)
    week = end - timedelta(days=7)

    def email_status():
        qs = Message.objects.for_account(account).filter(
            requested_at__gte=day, requested_at__lt=end
        )
        # As the page: the count stops at 10,000 ("more than"), not a count of the range.
        page = CappedPaginator(qs.order_by("-requested_at", "-pk"), 50).get_page(1)
        list(page)

    def email_status_7d():
        qs = Message.objects.for_account(account).filter(
            requested_at__gte=week, requested_at__lt=end
        )
        # As the page: the count stops at 10,000 ("more than"), not a count of the range.
        page = CappedPaginator(qs.order_by("-requested_at", "-pk"), 50).get_page(1)
        list(page)

    # A recipient that has a message in the week searched (the page's common case).
    recipient = (
        Message.objects.for_account(account)
        .filter(requested_at__gte=end - timedelta(days=3), requested_at__lt=end)
        .values_list("recipient", flat=True)
        .first()
    )

    def email_status_by_recipient():
        qs = Message.objects.for_account(account).filter(
            requested_at__gte=week, requested_at__lt=end, recipient=recipient
        )
        found = list(qs.order_by("-requested_at")[:50])
        assert found, recipient

    def first_page(types: tuple[str, ...], since: datetime) -> None:
        # As the report pages run it: the row count comes from the rollups (the chart's
        # totals), so only the first 50 rows are read, one type at a time.
        qs = DeliveryEvent.objects.for_account(account).of_type(*types)
        qs = qs.filter(timestamp__gte=since, timestamp__lt=end).select_related("message")
        rows = qs.order_by("-timestamp", "-pk")
        if len(types) > 1:
            rows = MergedByTime(rows, types, descending=True)
        list(rows[0:50])

    def opens_page():
        first_page(("opened", "clicked"), day)

    def bounces_page():
        first_page(("bounced",), week)

    return [
        ("Email status, 1 day, page 1 + capped count", _timed(email_status, 3)),
        ("Email status, 7 days (default), page 1 + capped count", _timed(email_status_7d, 3)),
        ("Email status, 7 days, one recipient (found)", _timed(email_status_by_recipient, 3)),
        ("Open/Click events, 1 day, first page", _timed(opens_page, 3)),
        ("Bounced events, 7 days, first page", _timed(bounces_page, 3)),
        (
            "filter suggestions (first 100 recipient domains)",
            _timed(lambda: domain_menu(account, "recipient"), 3),
        ),
    ]


def bench_requests(account, end: datetime, repeat: int = 5) -> list[tuple[str, float]]:
    """Whole requests as a signed-in user or an API client gets them (median ms).

    Django's test client runs the full stack (middleware, session, authentication,
    template or JSON rendering) in this process; only the socket and gunicorn are left out.
    """
    from django.contrib.auth import get_user_model
    from django.test import Client

    from sesconsole.models import ApiKey, Membership

    user = get_user_model().objects.filter(username="bench-user").first()
    if user is None:  # a reused database has it from an earlier run
        user = get_user_model().objects.create_user("bench-user", password="x")
    Membership.objects.get_or_create(account=account, user=user)
    page = Client()
    page.force_login(user)
    key = ApiKey.issue(account, name="bench")[1]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    today = end.date()
    month = f"start={today - timedelta(days=29)}&end={today}"
    week = f"start={today - timedelta(days=6)}&end={today}"

    def get(client, url: str):
        def run():
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)
            return b"".join(response) if response.streaming else response.content

        return run

    cases = [
        ("page: Email status (default 7 days)", page, "/messages/"),
        ("page: queue status, last 24 h", page, "/queue/?range=24h"),
        ("page: queue status, last 30 d", page, "/queue/?range=30d"),
        ("page: queue status, 30 d, JSON (chart data)", page, "/queue/?range=30d&format=json"),
        ("page: Open/Click events (default range)", page, "/open-click/"),
        ("page: Bounced events (default range)", page, "/bounced/"),
        ("API: statistics, 30 days by day", api, f"/api/v1/stats/?{month}"),
        ("API: messages, 7 days, first page", api, f"/api/v1/messages/?{week}"),
        (
            "API: open events, 1 day, first page",
            api,
            f"/api/v1/event-lists/?type=opened&start={today}&end={today}",
        ),
    ]
    # Each with what it weighs as sent (uncompressed).
    results = [
        (f"{label} [{len(get(client, url)()) // 1000:,} KB]", _timed(get(client, url), repeat))
        for label, client, url in cases
    ]
    with _dismissed_surge_at_every_domain(end):
        # Every invalid-address row of the page then carries its "block lifted" badge
        # (blocklist.surges.surges_that_held_each), against a surge at each domain.
        badges = page.get("/bounced/").content.count(b'class="badge held"')
        label = f"page: Bounced events, a dismissed surge at every domain ({badges} badges)"
        results.append((label, _timed(get(page, "/bounced/"), repeat)))
    return results


@contextmanager
def _dismissed_surge_at_every_domain(end: datetime):
    from blocklist.models import InvalidSurge

    week = end - timedelta(days=8)
    InvalidSurge.objects.bulk_create(
        InvalidSurge(
            domain=domain,
            window_start=week,
            opened_at=end,
            hold_until=end + timedelta(hours=1),
            verdicts_at_opening=50,
            usual_per_window=1.0,
            decision=InvalidSurge.Decision.DISMISSED,
            decided_at=end,
        )
        for domain in RECIPIENTS
    )
    try:
        yield
    finally:
        InvalidSurge.objects.filter(domain__in=RECIPIENTS, opened_at=end).delete()


EXPORT_LIMIT = 1_000_000


def export_child(account_id: int) -> None:
    """Run in a child process: stream the events CSV, print rows/s and peak RSS."""
    import resource

    from delivery.exports import EVENT_COLUMNS
    from delivery.models import DeliveryEvent
    from sesconsole.lib.csv_export import queryset_csv

    qs = (
        DeliveryEvent.objects.filter(account_id=account_id, type="opened")
        .with_message()  # as the event lists read them: EVENT_COLUMNS needs it
        .order_by("timestamp")
    )
    t0 = time.perf_counter()
    n = size = 0
    for chunk in queryset_csv(qs[:EXPORT_LIMIT], EVENT_COLUMNS):
        size += len(chunk)
        n += chunk.count(b"\n")
    seconds = time.perf_counter() - t0
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"rows": n - 1, "seconds": seconds, "bytes": size, "peak_mb": peak_mb}))


def copy_floor(account_id: int) -> dict:
    from django.db import connection

    sql = f"""COPY (SELECT e.event_id, e.type, (extract(epoch FROM e.timestamp) * 1000)::bigint,
                 e.timestamp, m.message_id, m.from_address, m.recipient, m.subject,
                 (extract(epoch FROM m.requested_at) * 1000)::bigint, m.requested_at,
                 e.bounce_class, e.smtp_code, e.smtp_enhanced, e.response_text, e.reason, e.url,
                 e.user_agent, e.ip
               FROM delivery_deliveryevent e JOIN delivery_message m ON m.id = e.message_id
               WHERE e.account_id = {int(account_id)} AND e.type = 'opened'
               ORDER BY e.timestamp LIMIT {EXPORT_LIMIT}) TO STDOUT WITH (FORMAT csv, HEADER)"""
    t0 = time.perf_counter()
    n = 0
    with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
        for data in copy:
            n += bytes(data).count(b"\n")
    return {"rows": n - 1, "seconds": time.perf_counter() - t0}


def main() -> None:
    global RECIPIENTS
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--domains", type=int, default=5000, help="recipient domains")
    parser.add_argument("--db", default="ses_bench_stats")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database an earlier run seeded (same --domains); seed only if missing",
    )
    parser.add_argument("--repeat", type=int, default=5, help="requests timed per page")
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="with --reuse: only the whole requests (alternate trees to compare a change)",
    )
    parser.add_argument("--export-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.export_child:
        _setup_django(args.db)
        export_child(args.export_child)
        return

    RECIPIENTS = domain_names(args.domains)
    reusing = args.reuse and _exists(args.db)
    if not reusing:
        _recreate_database(args.db)
    _setup_django(args.db)
    from django.core.management import call_command

    from sesconsole.models import Account

    call_command("migrate", verbosity=0)
    if reusing:
        import time_machine

        from delivery.models import Message

        account = Account.objects.get(name="bench")
        end = reuse(account)
        messages = Message.objects.filter(account=account).count()
        print(f"== Reusing {args.db}: {messages:,} messages, data ending {end:%Y-%m-%d %H:%M:%S}Z")
        repaired = repair_event_indexes()
        if repaired:
            print(f"rebuilt invalid event indexes: {', '.join(repaired)}")
        # Pages read the clock: set it back to the data's end, as right after seeding.
        time_machine.travel(end, tick=True).start()
    else:
        account = Account.objects.create(name="bench", time_zone="UTC")
        end = datetime.now(UTC).replace(microsecond=0)
        print(f"== Seeding {args.events:,} events into {args.db}")
        info = seed(account.pk, args.events, end)
        print(
            f"seeded in {info['seed_s']:.1f} s; rollups rebuilt in {info['rebuild_s']:.1f} s "
            f"for {info['messages']:,} messages, {args.domains:,} recipient domains"
        )
        sizes = ", ".join(
            f"{size}-minute {rows:,} ({rows / DAYS:,.0f}/day)"
            for size, rows in sorted(info["rollup_by_size"].items())
        )
        print(
            f"rollup rows after VACUUM FULL: {info['rollup_rows']:,} "
            f"({info['rollup_bytes'] / 2**20:,.0f} MB with indexes): {sizes}"
        )

    if not args.pages_only:
        print(
            "\n== Chart queries (median ms)             rollups   GROUP BY floor:"
            " no index / covering index"
        )
        for label, ms, floor, indexed in bench_charts(account, end):
            print(
                f"{label:<44} {ms:8.1f}   {floor:10.1f} ({floor / ms:5.0f}x)"
                f"   {indexed:8.1f} ({indexed / ms:4.0f}x)"
            )

        print("\n== Table queries (median ms)")
        for label, ms in bench_tables(account, end):
            print(f"{label:<56} {ms:8.1f}")

    print(f"\n== Whole requests (median ms of {args.repeat}, Django test client)")
    for label, ms in bench_requests(account, end, args.repeat):
        print(f"{label:<64} {ms:8.1f}")
    if args.pages_only:
        return

    from delivery.models import DeliveryEvent

    opens = DeliveryEvent.objects.filter(account=account, type="opened").count()
    print(
        f"\n== CSV export of the open events, at most {EXPORT_LIMIT:,}: "
        f"{min(opens, EXPORT_LIMIT):,} rows (the account has {opens:,})"
    )
    child = subprocess.run(
        [sys.executable, __file__, "--db", args.db, "--export-child", str(account.pk)],
        capture_output=True,
        text=True,
        check=True,
    )
    export = json.loads(child.stdout.strip().splitlines()[-1])
    floor = copy_floor(account.pk)
    print(
        f"console export: {export['rows']:,} rows in {export['seconds']:.1f} s = "
        f"{export['rows'] / export['seconds']:,.0f} rows/s, peak RSS {export['peak_mb']:.0f} MB"
    )
    print(
        f"COPY TO STDOUT: {floor['rows']:,} rows in {floor['seconds']:.1f} s = "
        f"{floor['rows'] / floor['seconds']:,.0f} rows/s"
    )


if __name__ == "__main__":
    main()
