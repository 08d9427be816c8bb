"""Outside bounce corpora with recipient labels, fetched from the package registry.

flufl.bounce (GNU Mailman's bounce detector) ships 117 returned messages of Mailman list
traffic (2000-2012, anonymised) in its source distribution, with the addresses each one should
blame in `tests/test_detectors.py`. The pinned sdist is downloaded once into `var/corpora`;
nothing of it is stored in this repository. Used by `bench/bounces.py` and by
`tests/delivery/test_outside_corpus.py`.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import tarfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "var" / "corpora"
FLUFL = "flufl.bounce==6.0.0"

RIGHT, NONE, WRONG, UNREAD = "right", "none named", "wrong address", "not read as a bounce"


def flufl_corpus(cache: Path = CACHE) -> tuple[Path, list[tuple[str, set[str]]]]:
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
    table = ast.parse((folder / "tests" / "test_detectors.py").read_text())
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


def blame(expected: set[str], outcomes: list) -> str:
    """How a report's failed or delayed outcomes compare with the addresses it should blame."""
    named = {o.recipient for o in outcomes if o.recipient}
    if not expected:
        return RIGHT if not named else WRONG
    if not outcomes:
        return UNREAD
    if not named:
        return NONE
    return RIGHT if named <= expected else WRONG


def score_recipients(rows: list[tuple[str, set[str]]], reports: dict) -> tuple[Counter, list[str]]:
    """Tally `blame` over the rows, given each file's parsed report; the second value lists
    the rows that are not right."""
    tally: Counter = Counter({RIGHT: 0, NONE: 0, WRONG: 0, UNREAD: 0})
    notes = []
    for name, expected in rows:
        outcomes = [o for o in reports[name].recipients if o.action in ("failed", "delayed")]
        verdict = blame(expected, outcomes)
        tally[verdict] += 1
        if verdict != RIGHT:
            named = sorted(o.recipient for o in outcomes if o.recipient)
            notes.append(f"{verdict}: {name} expected {sorted(expected)} got {named}")
    return tally, notes
