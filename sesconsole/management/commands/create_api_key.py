from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sesconsole.models import Account, ApiKey


class Command(BaseCommand):
    help = "Create a new API key for an account and print it (the key is shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("account", help="the account's short name, e.g. acme")
        parser.add_argument("--name", default="cli", help="a label for the key (default: cli)")

    def handle(self, *args, **options):
        account = Account.objects.filter(name=options["account"]).first()
        if account is None:
            raise CommandError(f"No account named '{options['account']}'.")
        key, raw_key = ApiKey.issue(account, name=options["name"][:100])
        self.stdout.write(f"API key '{key.name}' for {account.name}: {raw_key}")
