"""Bounce parsing outside the public samples: speed, and whom each report blames.

    .venv/bin/python bench/bounces.py

`shared/cases/bounces` (Sisimai's corpus) labels classes but no addresses. This reads a second,
independent corpus whose tests do name each report's failed recipients: the 117 returned
messages of flufl.bounce (GNU Mailman's bounce detector: Mailman list traffic, 2000-2012,
anonymised), taken from its source distribution on PyPI (pinned below, downloaded once into
var/corpora) together with the recipient table of its `tests/test_detectors.py`. Nothing of it
is copied into this repository. Prints:

- reports per second for `parse_report` over both corpora, beside the floor: the standard
  library's MIME parse of the same bytes, which any reading of a report starts with;
- per flufl sample with a recipient table row: whether every address we blame is one the
  table names (right), none is named (nothing blocked), or an address it does not name
  (wrong: would be blamed for someone else's bounce), and bounces not recognised at all;
- the invalid-address verdicts on it, for reading by hand.
"""

from __future__ import annotations

import argparse
import ast
import email
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLUFL = "flufl.bounce==6.0.0"


def flufl_corpus(cache: Path) -> tuple[Path, list[tuple[str, set[str]]]]:
    """The sample folder and the (file, expected addresses) rows of flufl.bounce."""
    cache.mkdir(parents=True, exist_ok=True)
    if not list(cache.glob("flufl_bounce-*.tar.gz")):
        subprocess.run(
            [
                *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
                *("--no-binary", ":all:", "--dest", str(cache), FLUFL),
            ],
            check=True,
        )
    (archive,) = cache.glob("flufl_bounce-*.tar.gz")
    folder = cache / archive.name.removesuffix(".tar.gz")
    if not folder.exists():
        with tarfile.open(archive) as tar:
            tar.extractall(cache, filter="data")
    source = (folder / "tests" / "test_detectors.py").read_text()
    table = ast.parse(source)
    rows: dict[str, set[str]] = {}
    for node in table.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DETECTORS":
            for _detector, name, expected, _temporary in ast.literal_eval(node.value):
                # A file some detector must *not* read (groupwise_02 for GroupWise) is listed
                # again for the detector that does: keep the row that names addresses.
                found = {a.decode().lower() for a in expected}
                if name not in rows or found:
                    rows[name] = found
    return folder / "tests" / "data", sorted(rows.items())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cache", default=str(ROOT / "var" / "corpora"))
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

    tally = {"right": 0, "none named": 0, "wrong address": 0, "not read as a bounce": 0}
    invalid = []
    for name, expected in rows:
        report = parse_report((data_dir / name).read_bytes())
        outcomes = [o for o in report.recipients if o.action in ("failed", "delayed")]
        named = {o.recipient for o in outcomes if o.recipient}
        invalid += [(name, o) for o in outcomes if o.bounce_class == "invalid_address"]
        if not expected:
            verdict = "right" if not named else "wrong address"
        elif not outcomes:
            verdict = "not read as a bounce"
        elif not named:
            verdict = "none named"
        else:
            verdict = "right" if named <= expected else "wrong address"
        tally[verdict] += 1
        if verdict != "right":
            print(f"  {verdict}: {name} expected {sorted(expected)} got {sorted(named)}")
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
