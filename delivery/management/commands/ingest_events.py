import json
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from delivery.ingest import IngestResult, ingest_events
from sesconsole.models import Account


class Command(BaseCommand):
    help = "Ingest events from a JSON-lines file (one wire-format event per line; - for stdin)."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--account", required=True, help="account name")
        parser.add_argument("--batch-size", type=int, default=settings.INGEST_MAX_BATCH)

    def handle(self, *args, **options):
        account = Account.objects.filter(name=options["account"]).first()
        if account is None:
            raise CommandError(f"No account named '{options['account']}'.")
        path = options["file"]
        try:
            stream = sys.stdin if path == "-" else open(path, encoding="utf-8")  # noqa: SIM115
        except OSError as exc:
            raise CommandError(str(exc)) from None
        total = IngestResult()
        batch: list = []
        line_numbers: list[int] = []
        with (
            stream,
            tqdm(unit=" events", disable=options["verbosity"] == 0, file=sys.stderr) as bar,
        ):
            for number, line in enumerate(stream, start=1):
                if not line.strip():
                    continue
                try:
                    batch.append(json.loads(line))
                except json.JSONDecodeError as exc:
                    total.errors.append(
                        {"line": number, "code": "invalid_json", "message": str(exc)}
                    )
                    continue
                line_numbers.append(number)
                if len(batch) >= options["batch_size"]:
                    self._flush(account, batch, line_numbers, total, bar)
            self._flush(account, batch, line_numbers, total, bar)
        for error in total.errors[:20]:
            self.stderr.write(f"line {error['line']}: {error['code']}: {error['message']}")
        if len(total.errors) > 20:
            self.stderr.write(f"… and {len(total.errors) - 20} more errors")
        self.stdout.write(
            f"accepted {total.accepted}, duplicates {total.duplicates}, errors {len(total.errors)}"
        )

    def _flush(self, account, batch, line_numbers, total, bar):
        if not batch:
            return
        result = ingest_events(account, batch)
        for error in result.errors:
            error["line"] = line_numbers[error.pop("index")]
        total.add(result)
        bar.update(len(batch))
        batch.clear()
        line_numbers.clear()
