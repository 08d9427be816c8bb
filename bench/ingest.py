"""Ingestion benchmark on PostgreSQL with real-shaped traffic, beside the COPY floor.

    .venv/bin/python bench/ingest.py --events 40000                   # in-process
    .venv/bin/python bench/ingest.py --http --events 100000           # gunicorn + 2 clients
    .venv/bin/python bench/ingest.py --http --domains 6,5000          # the long tail's cost
    .venv/bin/python bench/ingest.py --events 20000 --profile         # where the time goes
    .venv/bin/python bench/ingest.py --after-migrate "DROP INDEX message_account_status"
                                                                      # try a schema change

Each run drops and re-creates its own database (default `ses_bench_ingest`), migrates it,
and generates traffic with bench/traffic.py: the events of a message arrive in different
batches, recipient domains follow a long tail over `--domains` domains, bounces of every
class, deferrals, machine opens, complaints, unsubscribes and 1% repeats (`--repeats`).
Batches of 1,000.

- In-process: `ingest_events` per batch, as the API view calls it.
- `--http`: `gunicorn sesconsole.wsgi` (as in the README's production section) with
  `--workers` workers; `--clients` processes POST the batches to /api/v1/events/ with an
  API key. The clock stops when the statistics API (`GET /api/v1/stats/`) shows every
  event: a fold that falls behind does not count.

The first 10% of the batches warm up (untimed), then `VACUUM ANALYZE` (the machine's
PostgreSQL runs with autovacuum off). The floor, measured in the same run: COPY of the
same events into the real event table (partitioned, with its indexes, foreign keys and
the exactly-once key trigger), committed; the same COPY with the keys claimed set-based
beforehand (as ingestion does, trigger off); and the COPY alone with the trigger off.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from traffic import REPEATS, Traffic, batch_spread, describe  # noqa: E402

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Stats counters that count events one for one (the unique ones count messages).
TYPE_COUNTER = {
    "request": "requests",
    "rejected": "rejected",
    "delivered": "delivered",
    "deferred": "deferred",
    "bounced": "bounced",
    "opened": "opened",
    "clicked": "clicked",
    "complained": "complained",
    "unsubscribed": "unsubscribed",
}


def _setup(db: str, after_migrate: str = "") -> None:
    import psycopg

    if "django" in sys.modules and hasattr(sys.modules["django"], "_bench_setup"):
        from django.db import connections

        connections.close_all()
    with psycopg.connect(ADMIN_URL, autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "insecure-benchmark-key")  # a throwaway database
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    if not hasattr(django, "_bench_setup"):
        django.setup()
        django._bench_setup = True
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if after_migrate:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute(after_migrate)


def _partitions_for(start: datetime, end: datetime) -> None:
    """Day partitions for the traffic's days (the beat job makes only today onwards)."""
    try:
        from delivery import partitions
    except ImportError:  # a checkout from before partitions, for comparison
        return
    if not partitions.is_partitioned():
        return
    have = set(partitions.partition_days())
    day = start.date()
    while day <= end.date():
        if day not in have:
            partitions.create_partition(day)
        day += timedelta(days=1)


def _vacuum_analyze() -> None:
    from django.db import connection

    tables = (
        "delivery_message",
        "delivery_deliveryevent",
        "delivery_deliveryeventkey",
        "stats_rollup",
        "blocklist_block",
    )
    with connection.cursor() as cur:
        for table in tables:
            cur.execute("SELECT to_regclass(%s)", [table])
            if cur.fetchone()[0]:  # the key table is missing on a checkout without partitions
                cur.execute(f"VACUUM ANALYZE {table}")


def expected_counts(batches: list[list[dict]]) -> dict[str, int]:
    seen: set[str] = set()
    counts: Counter = Counter()
    for batch in batches:
        for e in batch:
            if e["id"] not in seen:
                seen.add(e["id"])
                counts[TYPE_COUNTER[e["type"]]] += 1
    return dict(counts)


def _stats_totals_db(account) -> dict[str, int]:
    from stats.services import series

    today = datetime.now(UTC).date()
    body = series(account, today - timedelta(days=2), today + timedelta(days=1), "day")
    return {c: body["totals"][c] for c in TYPE_COUNTER.values()}


# ---------------------------------------------------------------------------------------
# In-process


def bench_inprocess(account, batches: list[list[dict]], warm: int) -> float:
    from delivery.ingest import ingest_events

    for batch in batches[:warm]:
        ingest_events(account, batch)
    _vacuum_analyze()
    timed = batches[warm:]
    t0 = time.perf_counter()
    for batch in timed:
        ingest_events(account, batch)
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------
# Over HTTP


def post_api(
    port: int, key: str, path: str, body: bytes, content_type: str, timeout: float = 300
) -> tuple[int, bytes]:
    """POST `body` to the console's API with an API key: the HTTP status and the body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(
        "POST",
        path,
        body=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": content_type},
    )
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, data


def _post(port: int, key: str, body: bytes) -> dict:
    status, data = post_api(port, key, "/api/v1/events/", body, "application/json")
    if status != 200:
        raise RuntimeError(f"HTTP {status}: {data[:300]!r}")
    return json.loads(data)


def _client(port: int, key: str, bodies: list[bytes], go, out) -> None:
    go.wait()
    accepted = duplicates = 0
    for body in bodies:
        answer = _post(port, key, body)
        accepted += answer["accepted"]
        duplicates += answer["duplicates"]
        if answer["errors"]:
            raise RuntimeError(f"refused events: {answer['errors'][:3]}")
    out.put((accepted, duplicates))


def _stats_totals_http(port: int, key: str) -> dict[str, int]:
    today = datetime.now(UTC).date()
    query = f"start={today - timedelta(days=2)}&end={today + timedelta(days=1)}&granularity=day"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", f"/api/v1/stats/?{query}", headers={"Authorization": f"Bearer {key}"})
    body = json.loads(conn.getresponse().read())
    conn.close()
    return {c: body["totals"][c] for c in TYPE_COUNTER.values()}


FOLD_BROKER = "redis://127.0.0.1:6379/15"
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far; 0 if it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICK


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _machine_busy() -> float:
    """CPU seconds the whole machine has spent busy (all cores; everyone's work)."""
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]  # idle + iowait
    return (sum(cpu[:8]) - idle) / _TICK


def cpu_snapshot(db: str, servers: list[subprocess.Popen]) -> dict[str, float]:
    """CPU seconds so far of the web workers, the fold workers, this database's backends
    (persistent connections keep them alive across the timed part) and the machine."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [db],
        )
        backends = [pid for (pid,) in cur.fetchall()]
    snap = {"postgres": sum(_cpu_of(pid) for pid in backends), "machine": _machine_busy()}
    for name, proc in zip(("web", "fold"), servers, strict=False):
        snap[name] = sum(_cpu_of(pid) for pid in [proc.pid, *_children(proc.pid)])
    return snap


def _server_env(db: str, conn_max_age: int, fold: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{db}",
        "DB_CONN_MAX_AGE": str(conn_max_age),
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        "INGEST_FOLD": fold,
        "CELERY_BROKER_URL": FOLD_BROKER,
    }


def start_fold_workers(db: str, conn_max_age: int, concurrency: int) -> subprocess.Popen:
    """Celery workers that fold what the requests stored (INGEST_FOLD=deferred)."""
    env = _server_env(db, conn_max_age, "deferred")
    celery = [str(ROOT / ".venv" / "bin" / "celery"), "-A", "sesconsole"]
    subprocess.run([*celery, "purge", "-f"], env=env, cwd=ROOT, check=True, capture_output=True)
    log = open(ROOT / "var" / "bench-fold-worker.log", "ab")  # noqa: SIM115 (lives with the process)
    return subprocess.Popen(
        [*celery, "worker", "-c", str(concurrency), "-l", "warning", "--without-gossip"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )


def start_gunicorn(
    db: str, port: int, workers: int, conn_max_age: int, fold: str = "inline"
) -> subprocess.Popen:
    env = _server_env(db, conn_max_age, fold)
    log = open(ROOT / "var" / "bench-gunicorn.log", "ab")  # noqa: SIM115 (lives with the process)
    proc = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "sesconsole.wsgi",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "300",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=log,
    )
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/login/")
            conn.getresponse().read()
            return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise RuntimeError("gunicorn did not start; see var/bench-gunicorn.log")


def bench_http(account, key: str, batches, warm: int, args) -> dict:
    proc = start_gunicorn(args.db, args.port, args.workers, args.conn_max_age, args.fold)
    folders = (
        start_fold_workers(args.db, args.conn_max_age, args.fold_workers)
        if args.fold == "deferred"
        else None
    )
    try:
        for batch in batches[:warm]:
            _post(args.port, key, json.dumps(batch).encode())
        _vacuum_analyze()
        timed = batches[warm:]
        bodies = [json.dumps(b).encode() for b in timed]
        expected = expected_counts(batches)
        from django.db import connections

        connections.close_all()
        ctx = multiprocessing.get_context("fork")
        go, out = ctx.Event(), ctx.Queue()
        clients = [
            ctx.Process(target=_client, args=(args.port, key, bodies[i :: args.clients], go, out))
            for i in range(args.clients)
        ]
        for c in clients:
            c.start()
        time.sleep(0.5)
        servers = [proc] + ([folders] if folders is not None else [])
        sampler = FoldSampler(args.db) if folders is not None else None
        cpu0 = cpu_snapshot(args.db, servers)
        t0 = time.perf_counter()
        started = datetime.now(UTC)
        go.set()
        answers = [out.get() for _ in clients]
        sent_s = time.perf_counter() - t0
        for c in clients:
            c.join()
        polls = 0
        while True:
            polls += 1
            totals = _stats_totals_http(args.port, key)
            if totals == expected:
                break
            if time.perf_counter() - t0 > sent_s + 600:
                raise RuntimeError(f"statistics never caught up: {totals} != {expected}")
            time.sleep(0.05)
        done_s = time.perf_counter() - t0
        cpu1 = cpu_snapshot(args.db, servers)
        lag = sampler.lag(account.pk, started) if sampler is not None else None
    finally:
        if sampler is not None:
            sampler.stop()
        proc.terminate()
        proc.wait(30)
        if folders is not None:
            folders.terminate()
            folders.wait(30)
    return {
        "events": sum(len(b) for b in timed),
        "accepted": sum(a for a, _ in answers),
        "duplicates": sum(d for _, d in answers),
        "sent_s": sent_s,
        "done_s": done_s,
        "polls": polls,
        "cpu": {name: cpu1[name] - cpu0[name] for name in cpu1},
        "lag": lag,
    }


class FoldSampler:
    """The deferred fold's lag: from the request that stored an event to the commit of the
    fold that counted it.

    Workers claim queued events in event-id order, so every event below the smallest id
    still queued has been folded (with the queue empty, every committed event). A thread
    notes that floor every 50 ms; an event's
    fold time is the first note above its id (an upper bound, within one interval: a chunk
    a second worker folded ahead of an older one counts as late as the older one), and its
    lag is that time less its `received_at` (set by the request's transaction).
    """

    INTERVAL = 0.05

    def __init__(self, db: str) -> None:
        import threading

        import psycopg

        self.url = f"postgres://postgres@127.0.0.1:5432/{db}"
        self.conn = psycopg.connect(self.url, autocommit=True)
        self.notes: list[tuple[datetime, int | None]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            # With the queue empty, every committed event is folded: the floor is then the
            # next id after the largest committed one.
            row = self.conn.execute(
                "SELECT clock_timestamp(), coalesce((SELECT min(event_id) FROM"
                " delivery_pendingfold), (SELECT max(id) + 1 FROM delivery_deliveryevent), 0)"
            ).fetchone()
            self.notes.append(row)
            self.done.wait(self.INTERVAL)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()
        self.conn.close()  # again from `finally` after lag(): harmless

    def lag(self, account_id: int, since: datetime) -> dict[str, float]:
        import bisect

        import psycopg

        # Every event is folded by now (the statistics are complete): wait for a note that
        # saw the queue empty, so the last events get a fold time too.
        deadline = time.monotonic() + 5
        with psycopg.connect(self.url, autocommit=True) as conn:
            (last,) = conn.execute("SELECT max(id) FROM delivery_deliveryevent").fetchone()
        while (not self.notes or self.notes[-1][1] <= last) and time.monotonic() < deadline:
            time.sleep(self.INTERVAL)
        self.stop()
        with psycopg.connect(self.url, autocommit=True) as conn:
            events = conn.execute(
                "SELECT id, received_at FROM delivery_deliveryevent"
                " WHERE account_id = %s AND received_at >= %s ORDER BY id",
                [account_id, since],
            ).fetchall()
        # The floors, made monotonic.
        marks, floor = [], 0
        for at, smallest in self.notes:
            floor = max(floor, smallest)
            marks.append((floor, at))
        floors = [m for m, _ in marks]
        lags = []
        for event_id, received_at in events:
            i = bisect.bisect_right(floors, event_id)
            if i < len(marks):
                lags.append((marks[i][1] - received_at).total_seconds())
        lags.sort()
        if not lags:
            return {}
        return {
            "events": len(lags),
            "p50": lags[len(lags) // 2],
            "p99": lags[min(len(lags) - 1, int(len(lags) * 0.99))],
            "max": lags[-1],
        }


# ---------------------------------------------------------------------------------------
# The floor: COPY into the real event table


def copy_floor(account, batches: list[list[dict]]) -> dict:
    """COPY the same unique events, for a second account, into the real table; committed.

    Runs three times: as the table is (the key trigger claims each (account, event id)); with
    the keys claimed beforehand by one INSERT … ON CONFLICT DO NOTHING per 1,000 events, as
    ingestion claims them, the trigger disabled; and with the trigger disabled alone (what
    the partitioned table with its indexes and foreign keys costs).
    """
    from django.db import connection, transaction

    from sesconsole.models import Account

    try:
        from delivery.partitions import is_partitioned
    except ImportError:  # a checkout from before partitions, for comparison

        def is_partitioned() -> bool:
            return False

    seen: set[str] = set()
    events = []
    for batch in batches:
        for e in batch:
            if e["id"] not in seen:
                seen.add(e["id"])
                events.append(e)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT message_id, id FROM delivery_message WHERE account_id = %s", [account.pk]
        )
        ids = dict(cur.fetchall())
    now = datetime.now(UTC)
    rows = [
        (
            e["id"],
            ids[e["message_id"]],
            e["type"],
            e["timestamp"],
            now,
            e.get("bounce_class", "") if e["type"] == "bounced" else "",
            e.get("smtp", {}).get("code"),
            e.get("smtp", {}).get("enhanced", ""),
            e.get("smtp", {}).get("text", ""),
            e.get("reason", ""),
            e.get("url", ""),
            e.get("user_agent", ""),
            e.get("ip"),
            bool(e.get("machine", False)),
        )
        for e in events
    ]
    partitioned = is_partitioned()
    results = {}
    cases = (
        ("with key trigger", True, False),
        ("keys claimed set-based", False, True),
        ("without key trigger", False, False),
    )
    for label, trigger, claim in cases:
        if not trigger and not partitioned:
            continue
        other = Account.objects.create(name=f"copy-floor-{label.split()[0]}", time_zone="UTC")
        _vacuum_analyze()
        t0 = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            if not trigger:
                cur.execute(
                    "ALTER TABLE delivery_deliveryevent DISABLE TRIGGER delivery_event_claim_key"
                )
            if claim:
                # As ingestion claims keys: one INSERT … ON CONFLICT DO NOTHING per 1,000.
                for i in range(0, len(rows), 1000):
                    part = rows[i : i + 1000]
                    cur.execute(
                        "INSERT INTO delivery_deliveryeventkey (account_id, event_id, timestamp)"
                        " SELECT %s, e, t::timestamptz FROM unnest(%s::text[], %s::text[]) AS"
                        " x(e, t) ORDER BY e ON CONFLICT DO NOTHING",
                        [other.pk, [r[0] for r in part], [r[3] for r in part]],
                    )
            with cur.cursor.copy(
                "COPY delivery_deliveryevent (account_id, event_id, message_id, type, timestamp,"
                " received_at, bounce_class, smtp_code, smtp_enhanced, response_text, reason, url,"
                " user_agent, ip, is_machine) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row((other.pk, *row))
            if not trigger:
                cur.execute(
                    "ALTER TABLE delivery_deliveryevent ENABLE TRIGGER delivery_event_claim_key"
                )
        results[label] = len(rows) / (time.perf_counter() - t0)
    return results


def rollup_rows_per_day(account) -> dict[int, float]:
    """Rollup rows per size, per day of such traffic: rows per bucket hour x 24."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "SELECT size, count(*), count(DISTINCT date_trunc('hour', bucket)) FROM stats_rollup"
            " WHERE account_id = %s GROUP BY size ORDER BY size",
            [account.pk],
        )
        return {size: rows / max(hours, 1) * 24 for size, rows, hours in cur.fetchall()}


def run(domains: int, args) -> dict:
    _setup(args.db, args.after_migrate)
    from sesconsole.models import Account, ApiKey

    traffic = Traffic(domains=domains, seed=args.seed, repeats=args.repeats)
    batches = traffic.batches(args.events)
    flat = [e for b in batches for e in b]
    print(f"-- {describe(flat)}")
    print(f"   distinct messages per batch / events per batch: {batch_spread(batches):.2f}")
    stamps = [e["timestamp"] for e in flat]
    _partitions_for(datetime.fromisoformat(min(stamps)), datetime.fromisoformat(max(stamps)))
    account = Account.objects.create(name="ingest-bench", time_zone="UTC")
    warm = max(1, len(batches) // 10)
    result: dict = {"domains": domains}
    if args.http:
        key = ApiKey.issue(account, name="bench")[1]
        r = bench_http(account, key, batches, warm, args)
        result.update(r)
        result["rate"] = r["events"] / r["done_s"]
        print(
            f"   HTTP, {args.workers} gunicorn workers, {args.clients} clients, fold {args.fold}: "
            f"{r['events']:,} events sent in {r['sent_s']:.1f} s, statistics complete after "
            f"{r['done_s']:.1f} s ({r['polls']} polls) = {result['rate']:,.0f} events/s"
        )
        per_event = {k: v / r["events"] * 1e6 for k, v in r["cpu"].items()}
        print(
            "   CPU per event (µs): "
            + ", ".join(f"{k} {v:,.0f}" for k, v in per_event.items())
            + f"; the machine was {r['cpu']['machine'] / r['done_s'] / os.cpu_count():.0%} busy"
        )
        result["cpu_per_event"] = per_event
        if r["lag"]:
            lag = r["lag"]
            print(
                f"   fold lag, request to folded (s, {lag['events']:,} events, within "
                f"{FoldSampler.INTERVAL} s): p50 {lag['p50']:.2f}, p99 {lag['p99']:.2f}, "
                f"max {lag['max']:.2f}"
            )
    else:
        seconds = bench_inprocess(account, batches, warm)
        events = sum(len(b) for b in batches[warm:])
        totals = _stats_totals_db(account)
        assert totals == expected_counts(batches), (totals, expected_counts(batches))
        result["rate"] = events / seconds
        print(f"   in-process ingest_events: {events:,} events in {seconds:.1f} s")
    result["rollups_per_day"] = rollup_rows_per_day(account)
    result["floor"] = copy_floor(account, batches)
    print(f"   events/s: {result['rate']:10,.0f}")
    for label, rate in result["floor"].items():
        print(f"   COPY floor, {label}: {rate:10,.0f} rows/s ({rate / result['rate']:.1f}x)")
    print(
        "   rollup rows per day at this traffic (rows per active hour x 24): "
        + ", ".join(f"{size}-minute {n:,.0f}" for size, n in result["rollups_per_day"].items())
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--domains", default="5000", help="e.g. 6,5000 to compare")
    parser.add_argument("--db", default="ses_bench_ingest")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--repeats",
        type=float,
        default=REPEATS,
        help="share of events sent again 1-5,000 events later (a retry)",
    )
    parser.add_argument("--http", action="store_true", help="through gunicorn and HTTP clients")
    parser.add_argument(
        "--after-migrate", default="", help="SQL run after migrating, e.g. to try an index change"
    )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--port", type=int, default=8911)
    parser.add_argument("--conn-max-age", type=int, default=0, help="DB_CONN_MAX_AGE for gunicorn")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--fold",
        choices=["inline", "deferred"],
        default="inline",
        help="INGEST_FOLD of the server; deferred starts Celery workers that fold",
    )
    parser.add_argument("--fold-workers", type=int, default=2, help="worker processes (deferred)")
    args = parser.parse_args()
    (ROOT / "var").mkdir(exist_ok=True)

    results = []
    for domains in [int(d) for d in args.domains.split(",")]:
        mode = (
            f"HTTP ({args.workers} workers, {args.clients} clients)" if args.http else "in-process"
        )
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"== {mode}, {args.events:,} events, {domains:,} recipient domains, db {args.db}"
            f" (load average {load})"
        )
        results.append(run(domains, args))
    if len(results) > 1:
        base = results[0]["rate"]
        print("\n| recipient domains | events/s | vs first | COPY floor (with key trigger) |")
        print("|---|---|---|---|")
        for r in results:
            floor = r["floor"].get("with key trigger", 0)
            print(
                f"| {r['domains']:,} | {r['rate']:,.0f} | {r['rate'] / base:.0%} | {floor:,.0f} |"
            )

    if args.profile:
        import cProfile
        import pstats

        from delivery.ingest import ingest_events
        from sesconsole.models import Account

        account = Account.objects.get(name="ingest-bench")
        batches = Traffic(domains=int(args.domains.split(",")[-1]), seed=2, prefix="p").batches(
            min(args.events, 20_000)
        )
        profile = cProfile.Profile()
        profile.enable()
        for batch in batches:
            ingest_events(account, batch)
        profile.disable()
        pstats.Stats(profile).sort_stats("tottime").print_stats(20)


if __name__ == "__main__":
    main()
