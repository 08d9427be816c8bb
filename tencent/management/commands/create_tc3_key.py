from django.core.management.base import BaseCommand, CommandError

from sesconsole.models import Account
from tencent.models import Tc3Key


class Command(BaseCommand):
    help = (
        "Create a TC3 SecretId/SecretKey pair for an account (the Tencent Cloud API 3.0 "
        "compatible endpoint) and print both. The SecretKey is not shown again."
    )

    def add_arguments(self, parser):
        parser.add_argument("account", help="the account's short name, e.g. acme")
        parser.add_argument("--name", default="default", help="a label for the key")

    def handle(self, *args, **options):
        account = Account.objects.filter(name=options["account"]).first()
        if account is None:
            raise CommandError(f"No account named '{options['account']}'.")
        key, secret_key = Tc3Key.issue(account, name=options["name"][:100])
        self.stdout.write(f"Created TC3 key '{key.name}' for account '{account.name}'.")
        self.stdout.write(f"SecretId: {key.secret_id}")
        self.stdout.write(f"SecretKey: {secret_key}")
