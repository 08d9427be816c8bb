"""Bounce parsing outside the public samples: speed, and whom each report blames.

    .venv/bin/python bench/bounces.py

`shared/cases/bounces` (Sisimai's corpus) labels classes but no addresses. This reads a second,
independent corpus whose tests do name each report's failed recipients: the 117 returned
messages of flufl.bounce (GNU Mailman's bounce detector: Mailman list traffic, 2000-2012,
anonymised) with the recipient table of its `tests/test_detectors.py`, fetched from PyPI by
`bench/corpora.py`. Prints:

- reports per second for `parse_report` over both corpora, beside the floor: the standard
  library's MIME parse of the same bytes, which any reading of a report starts with;
- per flufl sample with a recipient table row: whether every address we blame is one the
  table names (right), none is named (nothing blocked), or an address it does not name
  (wrong: would be blamed for someone else's bounce), and bounces not recognised at all;
- the invalid-address verdicts on it, for reading by hand.
"""

from __future__ import annotations

import argparse
import email
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.corpora import CACHE, FLUFL, flufl_corpus, score_recipients  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", default=str(CACHE))
    parser.add_argument("--repeat", type=int, default=5, help="passes for the speed figure")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()
    from delivery.reports import parse_report

    data_dir, rows = flufl_corpus(Path(args.cache))
    # The public samples sit beside the project when they are there; the speed figure
    # then covers both corpora.
    sisimai = sorted((ROOT.parent / "shared" / "cases" / "bounces").glob("*.eml"))
    messages = [p.read_bytes() for p in sisimai] + [(data_dir / n).read_bytes() for n, _ in rows]

    start = time.perf_counter()
    for _ in range(args.repeat):
        for raw in messages:
            list(email.message_from_bytes(raw).walk())
    floor = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(args.repeat):
        for raw in messages:
            parse_report(raw)
    took = time.perf_counter() - start
    count = len(messages) * args.repeat
    print(f"parse_report: {count / took:,.0f} reports/s ({len(messages)} reports x{args.repeat})")
    print(f"  floor (the standard library's MIME parse alone): {count / floor:,.0f} reports/s")

    reports = {name: parse_report((data_dir / name).read_bytes()) for name, _ in rows}
    tally, notes = score_recipients(rows, reports)
    for note in notes:
        print(f"  {note}")
    invalid = [
        (name, outcome)
        for name, report in reports.items()
        for outcome in report.failed
        if outcome.bounce_class == "invalid_address"
    ]
    total = sum(tally.values())
    print(f"\nflufl.bounce ({FLUFL}), {total} samples with a recipient row:")
    for verdict, n in tally.items():
        print(f"  {verdict}: {n} ({100 * n / total:.1f}%)")
    print(f"\ninvalid-address verdicts on it: {len(invalid)}")
    for name, outcome in invalid:
        text = " ".join(outcome.diagnostic.split())[:100]
        print(f"  {name}\t{outcome.recipient}\t{outcome.evidence}\t{text}")


if __name__ == "__main__":
    main()
