"""Bounce parsing on hostile input: is the time per message linear in its size?

    .venv/bin/python bench/hostile_reports.py
    .venv/bin/python bench/hostile_reports.py --http   # also POST each to /api/v1/intake/

Anyone can send us a "bounce". Each shape below once made `parse_report` slow. Most were
quadratic: a regular expression tried from every position of a long run read the run to its
end each time. Blank lines in a delivery-status part made one MIME part per line. Each shape is
built at 100 KB and at 200 KB and parsed. The table prints seconds per message, and the growth
when the size doubles: about 2 is linear, about 4 quadratic. The script exits non-zero when a
growth passes 3. Beside each figure is the standard library's MIME parse of the same bytes:
the floor, except where `parse_report` stops early, past 10,000 MIME parts. Then come whole
messages of a few megabytes, with the same comparison.

`--http` then serves the console with gunicorn (one worker, as in the README's production
section) on a throwaway PostgreSQL database and POSTs each message to /api/v1/intake/ with an
API key: the time a sender's MTA or script waits, the report stored, beside the parse alone.
"""

from __future__ import annotations

import argparse
import base64
import email
import json
import logging
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

HEAD = (
    b"From: MAILER-DAEMON@mx.example.net\nTo: sender@example.com\n"
    b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
)
DSN = (
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    b"--B\nContent-Type: text/plain\n\nfailed\n--B\nContent-Type: message/delivery-status\n\n"
    b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; bob@example.org\nAction: failed\n"
    b"Status: 5.1.1\nDiagnostic-Code: smtp; 550 "
)


def plain(run: bytes) -> bytes:
    return HEAD + b"\n<bob@example.org>:\n" + run


def dsn(run: bytes) -> bytes:
    return HEAD + DSN + run + b"\n--B--\n"


def encoded_dsn(run: bytes) -> bytes:
    """The DSN's delivery-status part sent base64 (RFC 6533 allows it for the global one)."""
    fields = DSN.split(b"message/delivery-status\n\n", 1)[1] + run
    head = DSN.split(b"message/delivery-status\n\n", 1)[0]
    return (
        HEAD
        + head
        + b"message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(fields)
        + b"--B--\n"
    )


def html(run: bytes) -> bytes:
    """A bounce whose explanation is HTML only, as Exchange Online writes it."""
    return HEAD + b"Content-Type: text/html\n\n<html><body><p>&lt;bob@example.org&gt;: " + run


def subject(run: bytes) -> bytes:
    return HEAD.replace(b"Undelivered Mail Returned to Sender", run) + b"\nmailbox unavailable\n"


# (name, message builder, the unit repeated to the size)
SHAPES = [
    ("digits in a plain bounce", plain, b"5"),
    ("'550-' in a plain bounce", plain, b"550-"),
    ("one line of spaces", plain, b" "),
    ("one line of dashes", plain, b"-"),
    ("'from550-' in a plain bounce", plain, b"from550-"),
    ("digits in a Diagnostic-Code", dsn, b"5"),
    ("blank lines in a delivery-status part", dsn, b"\n"),
    ("blank lines, delivery-status in base64", encoded_dsn, b"\n"),
    ("digits, delivery-status in base64", encoded_dsn, b"5"),
    ("unclosed '<p ' in an HTML bounce", html, b"<p "),
    ("unclosed '<style ' in an HTML bounce", html, b"<style "),
    ("indented '<br' lines in an HTML bounce", html, b"\n    <br"),
    ("unclosed encoded words in the Subject", subject, b"[<br>=?utf-8?q?"),
    ("U-labels after an @ in a Diagnostic-Code", dsn, "a@例.".encode()),
    ("'<a@' in a plain bounce", plain, b"<a@"),
    ("'host a.' in a plain bounce", plain, b"host a."),
    ("'a.' in a Diagnostic-Code", dsn, b"a."),
    ("'Subject: x' lines in a plain bounce", plain, b"Subject: x\n"),
    ("'Subject: failure' lines, plain bounce", plain, b"Subject: failure\n"),
    ("'no such user or mailbox full', plain", plain, b"550 no such user or mailbox full "),
]
SIZES = (100_000, 200_000)

MB = 1_000_000
FULL_RETURN = (
    HEAD + b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    b"--B\nContent-Type: text/plain\n\nfailed\n--B\nContent-Type: message/delivery-status\n\n"
    b"Reporting-MTA: dns; mx\n\nFinal-Recipient: rfc822; bob@example.org\nAction: failed\n"
    b"Status: 5.1.1\n\n--B\nContent-Type: message/rfc822\n\nFrom: news@acme.example\n"
    b'To: bob@example.org\nSubject: x\nContent-Type: multipart/mixed; boundary="C"\n\n'
    b"--C\nContent-Type: text/plain\n\nhi\n--C\nContent-Type: application/pdf\n"
    b"Content-Transfer-Encoding: base64\n\n" + b"QUJD" * (MB + MB // 4) + b"\n--C--\n\n--B--\n"
)


def forwarded_nest(count: int) -> bytes:
    """A person's message attaching `count` messages that each attach two more, none a
    report: every attached message is read again to look for a forwarded report in it."""
    leaf = b"From: a@example.org\nSubject: x\n\nhello\n"
    middle = (
        b'From: b@example.org\nSubject: Fwd\nContent-Type: multipart/mixed; boundary="M"\n\n'
        + b"".join(b"--M\nContent-Type: message/rfc822\n\n" + leaf for _ in range(2))
        + b"--M--\n"
    )
    return (
        b'From: alice@example.org\nSubject: Fwd\nContent-Type: multipart/mixed; boundary="O"\n\n'
        + b"".join(b"--O\nContent-Type: message/rfc822\n\n" + middle for _ in range(count))
        + b"--O--\n"
    )


# Whole messages of a few megabytes: a bounce returning a big original, and hostile ones.
BIG = [
    ("a bounce returning a 5 MB attachment", FULL_RETURN),
    ("5 MB of short lines in a plain bounce", plain(b"x\n" * (2 * MB + MB // 2))),
    ("2 MB of blank lines in a delivery-status part", dsn(b"\n" * 2 * MB)),
    ("the same, sent base64", encoded_dsn(b"\n" * 2 * MB)),
    (
        "100 base64 delivery-status parts of 20 KB",
        HEAD
        + DSN.split(b"--B\nContent-Type: message/delivery-status", 1)[0]
        + b"".join(
            b"--B\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n"
            + base64.encodebytes(b"Final-Recipient: rfc822; bob@example.org\n" + b"x" * 20_000)
            for _ in range(100)
        )
        + b"--B--\n",
    ),
    ("1,500 attached messages attaching 2 each", forwarded_nest(1_500)),
]


def seconds(function, raw: bytes, repeat: int = 3) -> float:
    """The best of `repeat` runs."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        function(raw)
        best = min(best, time.perf_counter() - start)
    return best


def post_intake(port: int, key: str, raw: bytes) -> tuple[float, int, dict]:
    """POST one raw message to the intake endpoint: seconds, HTTP status, response body."""
    from ingest import post_api

    start = time.perf_counter()
    status, data = post_api(port, key, "/api/v1/intake/", raw, "message/rfc822", timeout=600)
    return time.perf_counter() - start, status, json.loads(data or b"{}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--http", action="store_true", help="also POST each to the intake API")
    parser.add_argument("--db", default="ses_bench_hostile")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    if args.http:
        from ingest import _setup

        _setup(args.db)  # a fresh database, migrated; sets Django up on it
    import django

    django.setup()
    logging.disable(logging.WARNING)  # the refusal of a message of too many parts
    from delivery.reports import _classify, parse_report

    def parse(raw: bytes) -> None:
        _classify.cache_clear()  # each pass reads the message afresh, as a new one would be
        parse_report(raw)

    def mime(raw: bytes) -> None:
        list(email.message_from_bytes(raw).walk())

    worst = 0.0
    small_kb, large_kb = (f"{size // 1000} KB" for size in SIZES)
    print(f"{'shape':40} {small_kb:>8} {large_kb:>8} {'growth':>7} {'stdlib ' + large_kb:>14}")
    for name, build, unit in SHAPES:
        raws = [build(unit * (size // len(unit))) for size in SIZES]
        small, large = (seconds(parse, raw) for raw in raws)
        floor = seconds(mime, raws[-1])
        # Below 20 ms both sizes are noise, whatever the ratio.
        growth = large / small if large >= 0.02 else 1.0
        worst = max(worst, growth)
        print(f"{name:40} {small:7.3f}s {large:7.3f}s {growth:6.1f}x {floor:13.3f}s")
    print(f"worst growth on doubling: {worst:.1f}x (linear is about 2, quadratic about 4)")
    print(f"\n{'whole message':46} {'size':>6} {'parse':>8} {'stdlib':>8}  result")
    for name, raw in BIG:
        _classify.cache_clear()
        start = time.perf_counter()
        report = parse_report(raw)
        took = time.perf_counter() - start
        floor = seconds(mime, raw, repeat=1)
        result = report.unreadable or f"{report.kind}, {len(report.failed)} failed"
        print(f"{name:46} {len(raw) / MB:4.1f}MB {took:7.2f}s {floor:7.2f}s  {result}")
    if args.http:
        over_http(
            args,
            [
                (f"{name}, {SIZES[-1] // 1000} KB", build(unit * (SIZES[-1] // len(unit))))
                for name, build, unit in SHAPES
            ]
            + BIG,
            parse,
        )
    return 1 if worst > 3 else 0


def over_http(args, messages: list[tuple[str, bytes]], parse) -> None:
    from ingest import start_gunicorn

    from sesconsole.models import Account, ApiKey

    account = Account.objects.create(name="hostile-bench", time_zone="UTC")
    key = ApiKey.issue(account, name="bench")[1]
    (ROOT / "var").mkdir(exist_ok=True)
    server = start_gunicorn(args.db, args.port, workers=1, conn_max_age=60)
    try:
        print(f"\n{'POST /api/v1/intake/':56} {'HTTP':>8} {'parse':>8}  response")
        for name, raw in messages:
            took, status, body = post_intake(args.port, key, raw)
            alone = seconds(parse, raw, repeat=1)
            said = f"{status} {body.get('status') or body.get('code')}: {body.get('note', '')}"
            print(f"{name:56} {took:7.2f}s {alone:7.2f}s  {said[:70]}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    sys.exit(main())
