"""Scoring the bounce classifier against a labelled folder, honestly.

A folder holds raw messages and `expected.jsonl` (one row per failed recipient, see
docs/bounces.md). Besides pooled precision and recall per class, it runs a leave-one-source-out
cross-validation: the files are grouped by the MTA or provider family in their names
(`lhost-postfix-13.eml` → `postfix`, `rfc3464-01.eml` → `rfc3464`), and in the fold that holds
out family F every wording rule whose support would drop below two families without F (and that
no standard or published provider documentation backs) is switched off. A rule written while
looking at F's files then cannot help on F: the fold's figures are what it does on a stranger.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .bounces import RULES, Verdict, judge, rules_switched_off
from .models import BounceClass
from .provenance import PROVENANCE, independent_sources
from .recipients import is_untrusted_recipient, named_in_fields
from .reports import COMPLAINT, NOT_A_BOUNCE, parse_report

BLOCKED_OR_SPAM = "blocked_or_spam"
INVALID = BounceClass.INVALID_ADDRESS


def family_of(name: str) -> str:
    """The source family of a sample file: `lhost-<family>-NN`, else the name's stem."""
    stem = Path(name).name.removesuffix(".eml")
    match = re.fullmatch(r"lhost-(.+)-\d+", stem)
    if match:
        return match.group(1)
    return re.sub(r"-\d+$", "", stem)


def group(value: str) -> str:
    return BLOCKED_OR_SPAM if value in (BounceClass.BLOCKED, BounceClass.SPAM_REJECTED) else value


@dataclass
class Line:
    """One printed line for one file: recipient, class, evidence, deciding rule."""

    recipient: str | None
    bounce_class: str
    evidence: str = ""
    rule: str = ""
    reason: str = ""  # why a weaker class was given on purpose (conflicting or weak evidence)


def classify_message(data: bytes) -> tuple[list[Line], object]:
    report = parse_report(data)
    if report.kind == COMPLAINT:
        return [Line(r.recipient, COMPLAINT) for r in report.recipients], report
    lines = [Line(r.recipient, r.bounce_class, r.evidence, r.rule, r.reason) for r in report.failed]
    return lines or [Line(None, NOT_A_BOUNCE)], report


@dataclass
class Score:
    total: Counter = field(default_factory=Counter)  # rows per expected class
    correct: Counter = field(default_factory=Counter)
    printed: Counter = field(default_factory=Counter)  # printed lines per class
    printed_right: Counter = field(default_factory=Counter)  # printed lines matched to a row
    confusion: Counter = field(default_factory=Counter)  # (expected, printed)
    extra: Counter = field(default_factory=Counter)  # printed lines with no row left
    evidence: Counter = field(default_factory=Counter)  # (evidence, right?) of invalid lines
    recipients_checked: int = 0
    recipients_right: int = 0
    recipients_missing: int = 0  # no trustworthy recipient: kept unmatched, nothing blocked
    misses: list[str] = field(default_factory=list)
    # Misses whose printed line carries a reason: the precedence chose the weaker class on
    # purpose (docs/bounces.md), where the labels say otherwise. Keyed by the reason's gist.
    on_purpose: Counter = field(default_factory=Counter)
    files: int = 0

    @property
    def accuracy(self) -> float:
        return sum(self.correct.values()) / max(1, sum(self.total.values()))

    def precision(self, cls: str) -> float | None:
        return self.printed_right[cls] / self.printed[cls] if self.printed[cls] else None

    def recall(self, cls: str) -> float | None:
        return self.correct[cls] / self.total[cls] if self.total[cls] else None

    @property
    def recipient_accuracy(self) -> float | None:
        if not self.recipients_checked:
            return None
        return self.recipients_right / self.recipients_checked

    def add(self, other: Score) -> None:
        for name in (
            "total",
            "correct",
            "printed",
            "printed_right",
            "confusion",
            "extra",
            "evidence",
            "on_purpose",
        ):
            getattr(self, name).update(getattr(other, name))
        self.recipients_checked += other.recipients_checked
        self.recipients_right += other.recipients_right
        self.recipients_missing += other.recipients_missing
        self.misses += other.misses
        self.files += other.files


def load_rows(folder: Path) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = defaultdict(list)
    for line in (folder / "expected.jsonl").read_text().splitlines():
        if line.strip():
            row = json.loads(line)
            rows[row["file"]].append(row)
    return dict(sorted(rows.items()))


def _recipient_right(line: Line, report, data: bytes) -> bool | None:
    """Whether a failed line's recipient is right, as far as the message itself can tell.

    The labels carry no addresses, so this checks what can be checked: a recipient is named,
    and either the report's own recipient fields name it, or it is not the bounce's own sender
    or addressee, a postmaster, a daemon or a mailing list (delivery.recipients).
    """
    if line.bounce_class in (NOT_A_BOUNCE, COMPLAINT):
        return None
    if not line.recipient:
        return False
    if line.recipient.lower() in named_in_fields(data):
        return True
    return not is_untrusted_recipient(line.recipient, data)


def score_file(name: str, data: bytes, expected: list[dict]) -> Score:
    score = Score(files=1)
    lines, report = classify_message(data)
    for line in lines:
        right = _recipient_right(line, report, data)
        if right is not None:
            score.recipients_checked += 1
            score.recipients_right += right
            score.recipients_missing += not line.recipient
    printed = [group(line.bounce_class) for line in lines]
    pool = [(c, line.evidence, line.reason) for c, line in zip(printed, lines, strict=True)]
    if all(c == NOT_A_BOUNCE for c in printed):
        pool = [(NOT_A_BOUNCE, "", "")] * len(expected)
    for cls, *_ in pool:
        score.printed[cls] += 1
    unmatched = []
    for row in expected:
        accept = [group(a) for a in row["accept"]]
        score.total[row["class"]] += 1
        hit = next((p for c in accept for p in pool if p[0] == c), None)
        if hit is None:
            unmatched.append(row)
            continue
        pool.remove(hit)
        score.correct[row["class"]] += 1
        score.printed_right[hit[0]] += 1
        score.confusion[(row["class"], row["class"])] += 1
        if hit[0] == INVALID:
            score.evidence[(hit[1], True)] += 1
    for row in unmatched:
        got, ev, reason = pool.pop(0) if pool else ("(nothing)", "", "")
        score.confusion[(row["class"], got)] += 1
        if got == INVALID:
            score.evidence[(ev, False)] += 1
        if reason:
            score.on_purpose[re.split(r"[:(]", reason)[0].strip()] += 1
        score.misses.append(f"{name}\t#{row['index']}\texpected {row['class']}\tgot {got}")
    for cls, ev, _ in pool:
        score.extra[cls] += 1
        if cls == INVALID:
            score.evidence[(ev, False)] += 1
    return score


def evaluate(folder: Path, files: Iterable[str] | None = None) -> Score:
    """Score every labelled file (or the ones named): a multiset per message, `accept`
    alternatives, one group for blocked and spam_rejected, no failed recipient counting as
    not_a_bounce."""
    rows = load_rows(folder)
    score = Score()
    for name in files if files is not None else rows:
        score.add(score_file(name, (folder / name).read_bytes(), rows[name]))
    return score


def switched_off_without(family: str, provenance: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """The rules that lose their footing when `family` is held out."""
    ids = {rule.id for rule in RULES} | set(provenance)
    return frozenset(
        rule_id
        for rule_id in ids
        if not independent_sources(provenance.get(rule_id, ()), without=family)
    )


@dataclass
class Fold:
    family: str
    score: Score
    switched_off: int  # rules this fold switches off beyond those never active


def cross_validate(
    folder: Path,
    provenance: dict[str, tuple[str, ...]] = PROVENANCE,
    progress: Callable[[str], None] | None = None,
) -> tuple[list[Fold], Score]:
    """Leave one source family out at a time; the pooled score adds every fold's held-out files."""
    rows = load_rows(folder)
    families: dict[str, list[str]] = defaultdict(list)
    for name in rows:
        families[family_of(name)].append(name)
    folds, pooled = [], Score()
    never = switched_off_without("", provenance)  # off in every fold: too little provenance
    for family, names in sorted(families.items()):
        off = switched_off_without(family, provenance)
        with rules_switched_off(off):
            score = evaluate(folder, names)
        folds.append(Fold(family, score, len(off - never)))
        pooled.add(score)
        if progress:
            progress(family)
    return folds, pooled


# --- Printing ----------------------------------------------------------------------------------


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def format_score(score: Score) -> str:
    classes = sorted(set(score.total) | set(score.printed), key=lambda c: -score.total[c])
    out = ["| class | rows | recall | printed | precision |", "|---|---:|---:|---:|---:|"]
    for c in classes:
        out.append(
            f"| {c} | {score.total[c]} | {_pct(score.recall(c))} | {score.printed[c]} | "
            f"{_pct(score.precision(c))} |"
        )
    n, ok = sum(score.total.values()), sum(score.correct.values())
    out.append(f"| **all (agreement)** | {n} | {_pct(ok / max(1, n))} | | |")
    printed = sorted({p for _, p in score.confusion} | set(classes))
    out += ["", "Confusion (rows: expected, columns: printed):", ""]
    out.append("| expected \\ printed | " + " | ".join(printed) + " |")
    out.append("|---|" + "---:|" * len(printed))
    for c in sorted(score.total, key=lambda c: -score.total[c]):
        cells = [str(score.confusion[(c, p)] or "") for p in printed]
        out.append(f"| {c} | " + " | ".join(cells) + " |")
    if score.extra:
        out += ["", "Extra printed lines: " + ", ".join(f"{k} {v}" for k, v in score.extra.items())]
    if score.on_purpose:
        total = sum(score.on_purpose.values())
        out += [
            "",
            f"Misses the precedence answers on purpose, the weaker class with a reason ({total}):",
        ]
        out += [f"- {reason}: {n}" for reason, n in score.on_purpose.most_common()]
    if score.evidence:
        out += ["", "Invalid-address verdicts by evidence (right / wrong):"]
        for ev in sorted({e for e, _ in score.evidence}):
            out.append(
                f"- {ev or '(none)'}: {score.evidence[(ev, True)]} / {score.evidence[(ev, False)]}"
            )
    if not score.recipients_checked:  # documented replies name no recipient
        return "\n".join(out)
    out += [
        "",
        f"Right recipient (checkable lines): {score.recipients_right}/{score.recipients_checked}"
        f" = {_pct(score.recipient_accuracy)}; none named (nothing blocked):"
        f" {score.recipients_missing}; a wrong address:"
        f" {score.recipients_checked - score.recipients_right - score.recipients_missing}",
    ]
    return "\n".join(out)


def format_folds(folds: list[Fold], pooled: Score) -> str:
    out = [
        "| held-out family | rows | rules off | agreement | invalid printed | invalid precision |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for fold in folds:
        s = fold.score
        out.append(
            f"| {fold.family} | {sum(s.total.values())} | {fold.switched_off} | "
            f"{_pct(s.accuracy)} | {s.printed[INVALID]} | {_pct(s.precision(INVALID))} |"
        )
    out += ["", "Pooled over the folds (each file scored in the fold that held it out):", ""]
    out.append(format_score(pooled))
    return "\n".join(out)


def rule_support(folder: Path) -> dict[str, set[str]]:
    """For each wording rule, the families in which it decided a row the labels agree with:
    what a rule's provenance may name from the samples (`classify_bounce --support`)."""
    support: dict[str, set[str]] = defaultdict(set)
    for name, expected in load_rows(folder).items():
        lines, _ = classify_message((folder / name).read_bytes())
        pool = [(group(line.bounce_class), line.rule) for line in lines]
        for row in expected:
            accept = [group(a) for a in row["accept"]]
            hit = next((p for c in accept for p in pool if p[0] == c), None)
            if hit is not None:
                pool.remove(hit)
                if hit[1] and not hit[1].startswith("status:"):
                    support[hit[1]].add(family_of(name))
    return dict(support)


# The big providers' and gateways' published reply texts, one JSON object per line: provider,
# code, enhanced, text, cls (what the provider says it means, in this project's classes),
# meaning, source (the page), official (the provider's own page, or a copy of its table), and
# review (why the class differs from a first reading, when it does), and domain (the mailbox
# domain the provider's page speaks of, when the meaning holds only there). docs/bounces.md says how
# the table was gathered and what was left out.
DOCUMENTED_REPLIES = Path(__file__).with_name("documented_replies.jsonl")


def load_documented(path: Path = DOCUMENTED_REPLIES) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def judge_documented(row: dict) -> Verdict:
    """A documented reply as a bounce would carry it: its code and enhanced status where the
    table gives them; a row without a code reads as a report that gave the recipient up."""
    return judge(
        row["code"],
        row["enhanced"],
        [row["text"]],
        structured=bool(row["enhanced"]),
        failed=row["code"] is None,
        recipient_domain=row.get("domain", ""),
    )


def score_documented(rows: list[dict]) -> Score:
    """Agreement with what each provider says its reply means (blocked and spam as one group)."""
    score = Score()
    for row in rows:
        verdict = judge_documented(row)
        expected, got = group(row["cls"]), group(verdict.bounce_class)
        score.files += 1
        score.total[expected] += 1
        score.printed[got] += 1
        score.confusion[(expected, got)] += 1
        if got == INVALID:
            score.evidence[(verdict.evidence, expected == INVALID)] += 1
        if got == expected:
            score.correct[expected] += 1
            score.printed_right[got] += 1
            continue
        if verdict.reason:
            score.on_purpose[re.split(r"[:(]", verdict.reason)[0].strip()] += 1
        reply = " ".join(str(p) for p in (row["code"] or "", row["enhanced"], row["text"]) if p)
        score.misses.append(
            f"{row['provider']}\texpected {row['cls']}\tgot {verdict.bounce_class}\t{reply[:120]}"
        )
    return score


def format_documented(rows: list[dict]) -> str:
    """Per-provider agreement, then the pooled score (recipients do not apply here)."""
    by_provider: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_provider[row["provider"]].append(row)
    out = [
        "| provider | replies | agreement | invalid printed | invalid precision |",
        "|---|---:|---:|---:|---:|",
    ]
    for provider, its_rows in sorted(by_provider.items(), key=lambda kv: -len(kv[1])):
        s = score_documented(its_rows)
        out.append(
            f"| {provider} | {len(its_rows)} | {_pct(s.accuracy)} | {s.printed[INVALID]} | "
            f"{_pct(s.precision(INVALID))} |"
        )
    pooled = format_score(score_documented(rows))
    return "\n".join(out) + "\n\nAll providers together:\n\n" + pooled
