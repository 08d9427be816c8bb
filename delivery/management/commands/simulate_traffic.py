import random
import sys
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from delivery import simulation
from delivery.simulation import Outage, simulate
from sesconsole.models import Account


def sender_domains_for(account: Account) -> list[str]:
    return simulation.sender_domains_for(account.name)


class Command(BaseCommand):
    help = (
        "Generate realistic delivery traffic through the paths real traffic takes: the "
        "blocklist gate for every send, the ingestion pipeline for every event."
    )

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=30, help="how far back (default 30)")
        parser.add_argument(
            "--per-day", type=int, default=400, help="messages per account per day (default 400)"
        )
        parser.add_argument(
            "--accounts", help="comma-separated account names (default: every account)"
        )
        parser.add_argument("--seed", type=int, help="random seed, for repeatable traffic")
        parser.add_argument(
            "--outage",
            metavar="DOMAIN",
            help=(
                "a receiver fault at DOMAIN: for the last two hours it has answered "
                '"does not exist" for every mailbox while each account sent it a burst; the '
                "verdicts open a surge, held for staff (default: none)"
            ),
        )

    def handle(self, *args, **options):
        accounts = Account.objects.order_by("name")
        if options["accounts"]:
            names = [n.strip() for n in options["accounts"].split(",") if n.strip()]
            accounts = accounts.filter(name__in=names)
            missing = set(names) - {a.name for a in accounts}
            if missing:
                raise CommandError(f"No account named: {', '.join(sorted(missing))}.")
        if not accounts:
            raise CommandError("No accounts yet: run `create_account` or `setup_demo` first.")
        if options["days"] <= 0 or options["per_day"] <= 0:
            raise CommandError("--days and --per-day must be positive.")
        rng = random.Random(options["seed"])
        end = timezone.now()
        start = end - timedelta(days=options["days"])
        outage = None
        if options["outage"]:
            if options["days"] < 1:
                raise CommandError("--outage needs at least a day of traffic (--days 1).")
            # Still going on when the traffic ends: the surge opens as the replay reaches
            # it, a minute or so after its bounces' own time, as it would live.
            outage = Outage(options["outage"].strip().lower(), end - timedelta(hours=2), end)
        expected = int(options["per_day"] * options["days"]) * len(accounts)
        expected += outage.burst * len(accounts) if outage else 0
        with tqdm(
            total=expected,
            unit=" msgs",
            disable=options["verbosity"] == 0,
            file=sys.stderr,
            desc="Simulating",
        ) as bar:
            total = simulate(
                list(accounts),
                start,
                end,
                options["per_day"],
                rng,
                on_send=lambda: bar.update(1),
                outage=outage,
            )
        self.stdout.write(
            f"Ingested {total.accepted} events for {len(accounts)} account(s) over "
            f"{options['days']:g} days ({total.duplicates} duplicates, {len(total.errors)} errors)."
        )
        if total.errors:
            raise CommandError(f"Generated events were refused: {total.errors[:3]}")
