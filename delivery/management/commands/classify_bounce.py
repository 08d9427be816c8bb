"""Show how returned mail is classified: one line per failed recipient.

    python manage.py classify_bounce PATH...          PATH<TAB>RECIPIENT<TAB>CLASS<TAB>hard|soft
    python manage.py classify_bounce --evaluate DIR   accuracy against DIR/expected.jsonl

A PATH is a raw message (a DSN, an ARF report, any mail) or the bare text of an SMTP reply.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from delivery.bounces import classify_reply, is_hard
from delivery.models import BounceClass
from delivery.reports import COMPLAINT, NOT_A_BOUNCE, parse_report

_REPLY = re.compile(r"^\s*([245]\d\d)(?:[ -]+([245]\.\d{1,3}\.\d{1,3}))?")
_HEADER = re.compile(rb"^(From [^\n]*\n)?[A-Za-z][A-Za-z0-9-]*:[ \t]?")
BLOCKED_OR_SPAM = "blocked_or_spam"


def classify_file(data: bytes) -> list[tuple[str, str, str]]:
    """(recipient or "-", class, "hard" | "soft") for each failed recipient of one file."""
    if not _HEADER.match(data.lstrip()):
        text = data.decode("utf-8", "replace").strip()
        match = _REPLY.match(text)
        code = int(match.group(1)) if match else None
        enhanced = match.group(2) or "" if match else ""
        bounce_class = classify_reply(code, enhanced, text)
        return [("-", bounce_class, "hard" if is_hard(bounce_class) else "soft")]
    report = parse_report(data)
    if report.kind == COMPLAINT:
        return [(r.recipient or "-", COMPLAINT, "soft") for r in report.recipients]
    lines = [
        (r.recipient or "-", r.bounce_class, "hard" if r.hard else "soft") for r in report.failed
    ]
    return lines or [("-", NOT_A_BOUNCE, "soft")]


# --- Scoring against a labelled folder ---------------------------------------------------------


def _group(value: str) -> str:
    return BLOCKED_OR_SPAM if value in (BounceClass.BLOCKED, BounceClass.SPAM_REJECTED) else value


@dataclass
class Score:
    total: Counter = field(default_factory=Counter)
    correct: Counter = field(default_factory=Counter)
    confusion: Counter = field(default_factory=Counter)  # (expected, printed)
    extra: Counter = field(default_factory=Counter)  # printed lines with no row left
    misses: list[str] = field(default_factory=list)
    files: int = 0

    @property
    def accuracy(self) -> float:
        return sum(self.correct.values()) / max(1, sum(self.total.values()))


def evaluate(folder: Path) -> Score:
    """Score every labelled file: a multiset per message, `accept` alternatives, one group for
    blocked and spam_rejected, no failed recipient counting as not_a_bounce."""
    rows: dict[str, list[dict]] = defaultdict(list)
    for line in (folder / "expected.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["file"]].append(row)
    score = Score()
    for name, expected in sorted(rows.items()):
        score.files += 1
        printed = [_group(c) for _, c, _ in classify_file((folder / name).read_bytes())]
        if all(c == NOT_A_BOUNCE for c in printed):
            printed = [NOT_A_BOUNCE] * len(expected)
        unmatched_rows = []
        for row in expected:
            accept = [_group(a) for a in row["accept"]]
            score.total[row["class"]] += 1
            hit = next((c for c in accept if c in printed), None)
            if hit is None:
                unmatched_rows.append(row)
                continue
            printed.remove(hit)
            score.correct[row["class"]] += 1
            score.confusion[(row["class"], row["class"])] += 1
        for row in unmatched_rows:
            got = printed.pop(0) if printed else "(nothing)"
            score.confusion[(row["class"], got)] += 1
            score.misses.append(f"{name}\t#{row['index']}\texpected {row['class']}\tgot {got}")
        for extra in printed:
            score.extra[extra] += 1
    return score


def format_score(score: Score) -> str:
    classes = sorted(score.total, key=lambda c: -score.total[c])
    out = ["| class | rows | correct | accuracy |", "|---|---:|---:|---:|"]
    for c in classes:
        out.append(
            f"| {c} | {score.total[c]} | {score.correct[c]} | "
            f"{100 * score.correct[c] / score.total[c]:.1f}% |"
        )
    n, ok = sum(score.total.values()), sum(score.correct.values())
    out.append(f"| **all** | {n} | {ok} | {100 * ok / n:.1f}% |")
    printed = sorted({p for _, p in score.confusion} | set(classes))
    out += ["", "Confusion (rows: expected, columns: printed):", ""]
    out.append("| expected \\ printed | " + " | ".join(printed) + " |")
    out.append("|---|" + "---:|" * len(printed))
    for c in classes:
        cells = [str(score.confusion[(c, p)] or "") for p in printed]
        out.append(f"| {c} | " + " | ".join(cells) + " |")
    if score.extra:
        out += ["", "Extra printed lines: " + ", ".join(f"{k} {v}" for k, v in score.extra.items())]
    return "\n".join(out)


class Command(BaseCommand):
    help = (
        "Classify returned mail: one line per failed recipient (PATH, RECIPIENT, CLASS, hard|soft)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("paths", nargs="*", help="raw messages or bare SMTP replies")
        parser.add_argument(
            "--evaluate",
            metavar="DIR",
            help="score a labelled folder (DIR/expected.jsonl) and print accuracy per class",
        )
        parser.add_argument(
            "--misses", action="store_true", help="with --evaluate, list the rows it got wrong"
        )

    def handle(self, *args, paths: list[str], evaluate: str | None, misses: bool, **options):
        if evaluate:
            folder = Path(evaluate)
            if not (folder / "expected.jsonl").is_file():
                raise CommandError(f"{folder / 'expected.jsonl'} does not exist.")
            score = evaluate_folder(folder)
            self.stdout.write(format_score(score))
            if misses:
                self.stdout.write("\n" + "\n".join(score.misses))
            return
        if not paths:
            raise CommandError("Give at least one PATH, or --evaluate DIR.")
        for path in paths:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                raise CommandError(f"{path}: {exc.strerror}") from None
            for recipient, bounce_class, hardness in classify_file(data):
                self.stdout.write(f"{path}\t{recipient}\t{bounce_class}\t{hardness}")


evaluate_folder = evaluate
