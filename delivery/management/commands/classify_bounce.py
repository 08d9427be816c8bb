"""Show how returned mail is classified: one line per failed recipient.

    python manage.py classify_bounce PATH...          PATH<TAB>RECIPIENT<TAB>CLASS<TAB>hard|soft
    python manage.py classify_bounce --evaluate DIR   precision/recall against DIR/expected.jsonl,
                                                      pooled and cross-validated by source family
    python manage.py classify_bounce --documented     agreement with the providers' published
                                                      reply texts (delivery/documented_replies.jsonl)

A PATH is a raw message (a DSN, an ARF report, any mail) or the bare text of an SMTP reply.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from delivery.bounce_evaluation import (
    cross_validate,
    evaluate,
    format_documented,
    format_folds,
    format_score,
    load_documented,
    rule_support,
    score_documented,
)
from delivery.bounces import classify_reply, is_hard
from delivery.reports import COMPLAINT, NOT_A_BOUNCE, parse_report

_REPLY = re.compile(r"^\s*([245]\d\d)(?:[ -]+([245]\.\d{1,3}\.\d{1,3}))?")
_HEADER = re.compile(rb"^(From [^\n]*\n)?[A-Za-z][A-Za-z0-9-]*:[ \t]?")


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
            "--documented",
            action="store_true",
            help="score the providers' published reply texts (delivery/documented_replies.jsonl)",
        )
        parser.add_argument(
            "--misses",
            action="store_true",
            help="with --evaluate or --documented, list the rows it got wrong",
        )
        parser.add_argument(
            "--support",
            action="store_true",
            help="with --evaluate, list the source families each wording rule decided rows for",
        )

    def handle(
        self,
        *args,
        paths: list[str],
        evaluate: str | None,
        documented: bool,
        misses: bool,
        support: bool,
        **options,
    ):
        if documented:
            rows = load_documented()
            self.stdout.write("## Published provider replies, by provider\n")
            self.stdout.write(format_documented(rows))
            if misses:
                misses_text = "\n".join(score_documented(rows).misses)
                self.stdout.write("\n## Disagreements\n\n" + misses_text)
            return
        if evaluate:
            folder = Path(evaluate)
            if not (folder / "expected.jsonl").is_file():
                raise CommandError(f"{folder / 'expected.jsonl'} does not exist.")
            if support:
                for rule, families in sorted(rule_support(folder).items()):
                    self.stdout.write(f"{rule}\t{' '.join(sorted(families))}")
                return
            score = evaluate_folder(folder)
            self.stdout.write("## All active rules, scored on the whole folder\n")
            self.stdout.write(format_score(score))
            folds, pooled = cross_validate(folder)
            self.stdout.write(
                "\n## Leave one source family out (the figure to quote)\n\n"
                "Each family's files are scored with the wording rules that lose their footing "
                "without that family switched off.\n"
            )
            self.stdout.write(format_folds(folds, pooled))
            if misses:
                self.stdout.write("\n## Misses (all rules)\n\n" + "\n".join(score.misses))
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


evaluate_folder = evaluate  # the name the tests use
