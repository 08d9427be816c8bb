"""Renaming names in real bounces: does any verdict change?

    .venv/bin/python bench/renaming.py [FOLDER ...]

A recipient's local part or domain is a name, not the reason its mail failed: "junk@",
"spam.blocked@", "@junk-blocked.example" must not turn an unknown user into a spam refusal. For
each real bounce that blames one recipient, this renames that recipient's local part (wherever
it stands as one: before "@", sendmail's "bob... Deferred", "(expanded from: bob)") or its domain
(wherever it stands as a name: addresses, its MX's name, DNS errors) and reads it again. Prints,
per folder and renaming, how many bounces were renamed and which changed verdict. Reads the
public samples, flufl.bounce's (fetched by `bench/corpora.py`) and any FOLDER given (for example
the outside corpora named in docs/bounces.md, cloned under var/corpora). Exits non-zero if a
verdict changed. `tests/delivery/test_what_is_not_wording.py` runs it over the public samples.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SAMPLES = Path("/work/shared/cases/bounces")
LOCAL_NAMES = ("spam.blocked", "mailbox-full.virus", "junk")
DOMAINS = ("junk-blocked.example", "spam.full-quota.example")
# Where the recipient's domain may decide: a provider's documented codes for its own mailboxes
# (docs/bounces.md row 13a), Microsoft's and Google Groups' own report formats.
_PROVIDER_DOMAIN = re.compile(r"hotmail|outlook|live|msn|gmx|web\.de|googlegroups", re.I)


def _sole_outcome(raw: bytes):
    from delivery.reports import parse_report

    outcomes = [o for o in parse_report(raw).recipients if o.recipient]
    return outcomes[0] if len(outcomes) == 1 else None


def _verdict(raw: bytes) -> tuple[str, str] | None:
    outcome = _sole_outcome(raw)
    return (str(outcome.bounce_class), str(outcome.evidence)) if outcome else None


def renamed_local_part(raw: bytes, local: str, name: str) -> bytes:
    """`raw` with the local part `local` renamed wherever it stands as one."""
    where = rb"(?=@|\.\.\. |\)|\r?\n[ \t]*\(expanded)"
    return re.sub(re.escape(local.encode()) + where, name.encode(), raw, flags=re.I)


def renamed_domain(raw: bytes, domain: str, name: str) -> bytes:
    """`raw` with the domain `domain` renamed wherever it stands as a name."""
    pattern = rb"(?<![\w-])" + re.escape(domain.encode()) + rb"(?![\w-])"
    return re.sub(pattern, name.encode(), raw, flags=re.I)


def changed_verdicts(paths: Iterable[Path], part: str, name: str) -> tuple[int, list[str]]:
    """Rename each bounce's one failed recipient's `part` ("local" or "domain") to `name`:
    how many bounces were renamed, and a line for each whose verdict changed."""
    checked, changed = 0, []
    for path in paths:
        raw = path.read_bytes()
        outcome = _sole_outcome(raw)
        if outcome is None or outcome.bounce_class == "complaint":
            continue
        local, _, domain = outcome.recipient.rpartition("@")
        if part == "local":
            if len(local) < 3:
                continue
            renamed = renamed_local_part(raw, local, name)
        else:
            if _PROVIDER_DOMAIN.search(domain) or outcome.rule == "unavailable.1":
                continue
            renamed = renamed_domain(raw, domain, name)
        if renamed == raw:
            continue
        checked += 1
        before = (str(outcome.bounce_class), str(outcome.evidence))
        after = _verdict(renamed)
        if after != before:
            changed.append(f"{path.name}: {before} -> {after}")
    return checked, changed


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "bench")
    import django

    django.setup()
    from bench.corpora import flufl_corpus

    folders = [SAMPLES, flufl_corpus()[0], *map(Path, sys.argv[1:])]
    failed = False
    for folder in folders:
        paths = sorted(
            p
            for p in folder.rglob("*")
            if p.is_file() and p.suffix in (".eml", ".msg", ".txt") and ".git" not in p.parts
        )
        for part, names in (("local", LOCAL_NAMES), ("domain", DOMAINS)):
            for name in names:
                checked, changed = changed_verdicts(paths, part, name)
                print(
                    f"{folder.name:40} {part:6} {name:24} renamed {checked:4}  changed {len(changed)}"
                )
                for line in changed:
                    print(f"    {line}")
                failed = failed or bool(changed)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
