"""The classifier against a recent, labelled corpus: Crisp's email-bounce-parser fixtures.

    git clone https://github.com/crisp-oss/email-bounce-parser var/corpora/email-bounce-parser
    .venv/bin/python bench/crisp_fixtures.py [--fixtures DIR]

Its `test/fixtures` hold 111 Postfix bounce texts (2023-2025: Outlook.com, Gmail, Yahoo, iCloud,
Mail.ru, Orange, small hosts), and `test/fixtures/expected` the JSON its own parser must give
for each. Nothing of it is
stored here (MIT; its npm package leaves the tests out, so no registry carries them), and
without a copy this prints how to get one and stops. Only the bodies are stored there, so each
is read inside a minimal bounce header. Labels: `no_such_recipient` is `invalid_address`,
`mailbox_full` is `mailbox_full`, a `blocked` or `spam` flag is `blocked_or_spam`; the other
types (rate limits, timeouts, unknown servers) are listed but not scored. Prints the confusion
of labelled and printed classes, the agreement, the invalid-address verdicts against their
labels, the recipient against the labelled one, and each disagreement for reading by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "var" / "corpora" / "email-bounce-parser" / "test" / "fixtures"
WRAPPER = (
    b"From: Mail Delivery System <MAILER-DAEMON@mailer.acme.email>\n"
    b"To: news@acme.email\n"
    b"Subject: Undelivered Mail Returned to Sender\n\n"
)


def label(expected: dict) -> str:
    """The fixture's expected outcome in this project's classes; `?type` when unscored."""
    if not expected.get("bounce"):
        return "not_a_bounce"
    error = (expected.get("data") or {}).get("error") or {}
    detail = error.get("data") or {}
    kind = detail.get("type")
    if kind == "no_such_recipient":
        return "invalid_address"
    if kind == "mailbox_full":
        return "mailbox_full"
    if detail.get("blocked") or detail.get("spam"):
        return "blocked_or_spam"
    return f"?{kind}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fixtures", default=str(DEFAULT))
    args = parser.parse_args()
    fixtures = Path(args.fixtures)
    if not fixtures.is_dir():
        print(f"no copy of the fixtures at {fixtures}: see the first lines of {__file__}")
        return
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()
    from delivery.reports import parse_report

    confusion: Counter[tuple[str, str]] = Counter()
    rows = []
    for path in sorted(fixtures.glob("*.txt")):
        expected = json.loads((fixtures / "expected" / f"{path.stem}.json").read_text())
        want = label(expected)
        failed = parse_report(WRAPPER + path.read_bytes()).failed
        outcome = failed[0] if failed else None
        got = str(outcome.bounce_class) if outcome else "not_a_bounce"
        if got in ("blocked", "spam_rejected"):
            got = "blocked_or_spam"
        confusion[want, got] += 1
        named = (expected.get("data") or {}).get("recipient") or None
        rows.append((want, got, path.name, outcome, named))

    for (want, got), n in sorted(confusion.items()):
        print(f"  labelled {want:<24} printed {got:<16} {n}")
    scored = [r for r in rows if not r[0].startswith("?")]
    agree = sum(want == got for want, got, *_ in scored)
    print(f"agreement on {len(scored)} labelled bounces: {agree} ({agree / len(scored):.0%})")
    invalid = [r for r in rows if r[1] == "invalid_address"]
    print(
        f"invalid-address verdicts: {len(invalid)}, labelled unknown: "
        f"{sum(r[0] == 'invalid_address' for r in invalid)}, other labels: "
        f"{', '.join(r[0] for r in invalid if r[0] != 'invalid_address') or '-'}"
    )
    with_recipient = [r for r in rows if r[4]]
    right = sum(r[3] is not None and r[3].recipient == r[4] for r in with_recipient)
    print(f"recipient as labelled: {right} of {len(with_recipient)}")
    print("disagreements with a scored label or the labelled recipient:")
    for want, got, name, outcome, named in rows:
        blamed = outcome.recipient if outcome else None
        if (want != got and not want.startswith("?")) or (named and blamed != named):
            words = (outcome.diagnostic if outcome else "")[:140]
            print(f"  {name}\t{want} -> {got}\t{blamed} (labelled {named})\t{words}")


if __name__ == "__main__":
    main()
