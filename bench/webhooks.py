"""Event-notification benchmark: ingestion → outbox → Celery workers → a local receiver.

    .venv/bin/python bench/webhooks.py                         # 100,000 notifications
    .venv/bin/python bench/webhooks.py --notifications 20000   # a quick run

Uses a dedicated PostgreSQL database (default `ses_bench_webhooks`, dropped and re-created)
and Redis (REDIS_URL, default redis://127.0.0.1:6379/0) as the broker; starts its own
`celery worker -Q notifications -B`. Each account has one endpoint on a threaded local
receiver (in a process of its own). Phases:

0. the outbox's cost to ingestion: the same batches for an account without and with an
   endpoint, before any worker runs;
1. throughput: every notification ingested as fast as ingestion goes (1,000 events per
   batch), then notifications/s from the first batch to the last receipt;
2. lag: ingestion paced at half that, for the accounts plus one extra account, lag from the
   batch's commit to receipt (p50/p99) of the accounts' notifications;
3. the same with the extra account's endpoint never answering (a black hole: every request
   times out): the other accounts' lag and the ingestion batch time should not change;
4. phase 2 again, to show how much the figures vary from run to run on this machine.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _setup(db: str, broker: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{db}"')
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{db}"
    os.environ["CELERY_BROKER_URL"] = broker
    os.environ["WEBHOOKS_ALLOW_PRIVATE_NETWORKS"] = "true"
    os.environ["DJANGO_SETTINGS_MODULE"] = "sesconsole.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _events(account: str, start: int, messages: int) -> list[dict]:
    """Per message: request (not notified), delivered, opened, clicked (notified)."""
    base = datetime(2026, 11, 1, tzinfo=UTC)
    raw = []
    for i in range(start, start + messages):
        iso = (base + timedelta(seconds=i)).isoformat().replace("+00:00", "Z")
        mid = f"{account}-m{i}"
        raw += [
            {
                "id": f"{mid}-r",
                "type": "request",
                "timestamp": iso,
                "message_id": mid,
                "from": f"news@mail.{account}.example",
                "to": f"u{i}@gmail.com",
                "subject": "Hello",
            },
            {
                "id": f"{mid}-d",
                "type": "delivered",
                "timestamp": iso,
                "message_id": mid,
                "smtp": {"code": 250, "enhanced": "2.0.0", "text": "250 2.0.0 OK"},
            },
            {"id": f"{mid}-o", "type": "opened", "timestamp": iso, "message_id": mid},
            {
                "id": f"{mid}-c",
                "type": "clicked",
                "timestamp": iso,
                "message_id": mid,
                "url": "https://example.com/offer",
            },
        ]
    return raw


class Run:
    """Ingestion side: commit time of each event id; receiver side: arrival times."""

    def __init__(self) -> None:
        self.committed: dict[str, float] = {}
        self.batch_ms: list[float] = []

    def ingest(self, account, raw: list[dict]) -> None:
        from delivery.ingest import ingest_events

        started = time.time()
        ingest_events(account, raw)
        done = time.time()
        self.batch_ms.append((done - started) * 1000)
        for e in raw:
            self.committed[e["id"]] = done


def _serve(n: int, urls, arrivals) -> None:
    """The receivers, in their own process (so they do not share the ingesting one's GIL)."""
    from notifications.receiver import Receiver

    receivers = [Receiver() for _ in range(n)]
    for i, receiver in enumerate(receivers):
        receiver.on_request = lambda item, i=i: arrivals.put(
            (i, json.loads(item.body)["ses_console"]["event_id"], item.at)
        )
        receiver.start()
    urls.send([r.url for r in receivers])
    threading.Event().wait()


class Arrivals:
    """What the receivers got: per receiver, a list of (event id, arrival time)."""

    def __init__(self, n: int, queue) -> None:
        self.received: list[list[tuple[str, float]]] = [[] for _ in range(n)]
        self._queue = queue
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        while True:
            i, event_id, at = self._queue.get()
            self.received[i].append((event_id, at))

    def counts(self) -> list[int]:
        return [len(r) for r in self.received]

    def since(self, counts: list[int]) -> list[tuple[str, float]]:
        return [item for r, c in zip(self.received, counts, strict=True) for item in r[c:]]


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))] if values else float("nan")


def _wait_for(arrivals: Arrivals, total: int, timeout: float, only=slice(None)) -> float:
    """Wait until the receivers in `only` got `total` in all; the last arrival time."""
    deadline = time.monotonic() + timeout
    while sum(arrivals.counts()[only]) < total:
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out: {sum(arrivals.counts()[only])} of {total} received")
        time.sleep(0.05)
    return max(r[-1][1] for r in arrivals.received[only] if r)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notifications", type=int, default=100_000)
    parser.add_argument("--accounts", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=6, help="worker processes")
    parser.add_argument("--paced-seconds", type=float, default=20)
    parser.add_argument(
        "--rate", type=float, default=0, help="paced notifications/s (default: half the throughput)"
    )
    parser.add_argument("--db", default="ses_bench_webhooks")
    parser.add_argument("--broker", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    args = parser.parse_args()

    _setup(args.db, args.broker)
    from django.conf import settings
    from django.db import connections

    from notifications import outbox
    from sesconsole.celery import app
    from sesconsole.models import Account

    connections.close_all()  # the receivers' process is forked: it must not share them
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    urls_in, urls_out = ctx.Pipe(duplex=False)
    # One receiver per account, and one more for the extra account of phases 0, 2 and 3.
    server = ctx.Process(target=_serve, args=(args.accounts + 1, urls_out, queue), daemon=True)
    server.start()
    urls = urls_in.recv()
    arrivals = Arrivals(args.accounts + 1, queue)
    measured = slice(0, args.accounts)
    accounts = []
    for i, url in enumerate(urls[:-1]):
        account = Account.objects.create(name=f"bench{i}")
        outbox.create_endpoint(account, url)
        accounts.append(account)
    extra = Account.objects.create(name="bench-extra")
    extra_endpoint, _ = outbox.create_endpoint(extra, urls[-1])
    plain = Account.objects.create(name="bench-plain")  # no endpoint

    # 0. What the outbox costs ingestion, before any worker runs: the same batches for an
    # account without an endpoint and for one with, alternately.
    per_message = 3
    without, with_ = Run(), Run()
    for k in range(10):
        without.ingest(plain, _events(plain.name, k * 250, 250))
        with_.ingest(extra, _events(extra.name, k * 250, 250))
    outboxed = 10 * 250 * per_message
    black_hole = socket.socket()
    black_hole.bind(("127.0.0.1", _free_port()))
    black_hole.listen(1024)  # accepts connections (backlog), never answers

    env = {**os.environ, "LOG_LEVEL": "WARNING"}
    celery = [sys.executable, "-m", "celery", "-A", "sesconsole"]
    subprocess.run([*celery, "purge", "-f", "-Q", "notifications"], env=env, capture_output=True)
    worker = subprocess.Popen(
        [
            *celery,
            "worker",
            "-Q",
            "notifications",
            "-B",
            "-c",
            str(args.concurrency),
            "-l",
            "warning",
            "-n",
            f"bench-{os.getpid()}@%h",
            "--without-mingle",
            "--without-gossip",
            "-s",
            f"/tmp/bench-webhooks-beat-{os.getpid()}",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not app.control.ping(timeout=0.5):
            if time.monotonic() > deadline:
                raise SystemExit("the worker did not start")
        print(
            f"== {args.accounts} accounts, one endpoint each; worker -c {args.concurrency}; "
            f"{settings.WEBHOOKS_MAX_IN_FLIGHT} requests in flight per endpoint"
        )
        print("\n== 0. Ingestion of 1,000-event batches (750 notifiable), median of 10")
        print(
            f"account without endpoint: {statistics.median(without.batch_ms):.0f} ms; "
            f"with one (outbox rows written): {statistics.median(with_.batch_ms):.0f} ms"
        )
        _wait_for(arrivals, outboxed, timeout=600, only=slice(args.accounts, None))

        # 1. Throughput.
        messages = args.notifications // per_message // args.accounts
        total = messages * per_message * args.accounts
        run = Run()
        batch = 250  # messages: 1,000 events
        started = time.time()
        for start in range(0, messages, batch):
            for account in accounts:
                run.ingest(account, _events(account.name, start, min(batch, messages - start)))
        ingested = time.time()
        last = _wait_for(arrivals, total, timeout=3600, only=measured)
        lags = [
            at - run.committed[eid] for eid, at in arrivals.since([0] * len(accounts) + [10**9])
        ]
        throughput = total / (last - started)
        print(f"\n== 1. Throughput: {total:,} notifications")
        print(
            f"ingestion:      {total / (ingested - started):8,.0f} notifications/s "
            f"({len(run.batch_ms)} batches of 1,000 events, median {statistics.median(run.batch_ms):.0f} ms)"
        )
        print(
            f"end to end:     {throughput:8,.0f} notifications/s ({last - started:.1f} s to the last receipt)"
        )
        print(f"lag under backlog: p50 {_pct(lags, 50):.2f} s, p99 {_pct(lags, 99):.2f} s")

        rate = args.rate or throughput / 2

        def paced(tag: str, offset: int) -> tuple[list[float], list[float]]:
            counts = arrivals.counts()[measured]
            run = Run()
            per_batch = 20  # messages per account per batch
            interval = per_batch * per_message * (len(accounts) + 1) / rate
            n = int(args.paced_seconds / interval)
            t0 = time.time()
            for k in range(n):
                for account in accounts:
                    run.ingest(account, _events(account.name, offset + k * per_batch, per_batch))
                run.ingest(extra, _events(extra.name, offset + k * per_batch, per_batch))
                time.sleep(max(0.0, t0 + (k + 1) * interval - time.time()))
            expected = sum(counts) + n * per_batch * per_message * len(accounts)
            _wait_for(arrivals, expected, timeout=600, only=measured)
            lags = [at - run.committed[eid] for eid, at in arrivals.since([*counts, 10**9])]
            print(
                f"{tag}: {len(lags):,} notifications at {rate:,.0f}/s: lag p50 {_pct(lags, 50) * 1000:.0f} ms, "
                f"p99 {_pct(lags, 99) * 1000:.0f} ms; ingestion batch median "
                f"{statistics.median(run.batch_ms):.0f} ms, p99 {_pct(run.batch_ms, 99):.0f} ms"
            )
            return lags, run.batch_ms

        print(
            "\n== 2. Lag, ingestion paced at half the throughput, plus an extra account "
            "(not measured) whose endpoint is up"
        )
        paced("all endpoints up     ", messages)
        print("\n== 3. The same, the extra account's endpoint never answering")
        from notifications.models import Attempt, Endpoint

        dead_url = f"http://127.0.0.1:{black_hole.getsockname()[1]}/events"
        Endpoint.objects.filter(pk=extra_endpoint.pk).update(url=dead_url)
        started_dead = datetime.now(UTC)
        paced("others, one dead     ", messages + 100_000)
        failed = Attempt.objects.filter(endpoint=extra_endpoint, at__gte=started_dead, ok=False)
        print(f"the dead endpoint: {failed.count()} failed attempts (timeouts) in phase 3")
        print("\n== 4. Phase 2 again, the extra endpoint back up (how much the figures vary)")
        Endpoint.objects.filter(pk=extra_endpoint.pk).update(url=urls[-1], paused_until=None)
        paced("all endpoints up     ", messages + 200_000)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        server.terminate()
        black_hole.close()


if __name__ == "__main__":
    main()
