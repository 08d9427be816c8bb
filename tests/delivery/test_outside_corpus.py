"""Whom a report blames, on a second corpus that names the right addresses.

The public samples label classes but no addresses. flufl.bounce's returned messages (GNU
Mailman's bounce detector; fetched from PyPI by bench.corpora, pinned) come with the addresses
its own tests expect each report to blame. Figures and what is left: docs/bounces.md.
"""

from __future__ import annotations

from bench.corpora import RIGHT, UNREAD, WRONG, flufl_corpus, score_recipients
from delivery.reports import parse_report


def test_reports_of_another_project_blame_the_addresses_its_tests_expect():
    folder, rows = flufl_corpus()
    reports = {name: parse_report((folder / name).read_bytes()) for name, _ in rows}

    tally, notes = score_recipients(rows, reports)

    assert len(rows) == 115
    # Today 110 right, 2 wrong, none unread. No new wrong address is allowed: a wrong address
    # is someone else's mail stopped.
    assert tally[WRONG] <= 2, "\n".join(notes)
    assert tally[UNREAD] == 0, "\n".join(notes)
    assert tally[RIGHT] >= 108, "\n".join(notes)
