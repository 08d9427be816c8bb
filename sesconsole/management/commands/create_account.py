from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from sesconsole.models import Account
from sesconsole.services import create_account


class Command(BaseCommand):
    help = "Create an account (a customer) with an optional owner user, and print its API key."

    def add_arguments(self, parser):
        parser.add_argument("name", help="short unique name, e.g. acme")
        parser.add_argument("--display-name", default="")
        parser.add_argument("--timezone", default="UTC", help="IANA zone, e.g. Asia/Shanghai")
        parser.add_argument("--user", help="username of the account's owner (created if new)")
        parser.add_argument("--password", help="password for a new user")

    def handle(self, *args, **options):
        if Account.objects.filter(name=options["name"]).exists():
            raise CommandError(f"Account '{options['name']}' already exists.")
        try:
            account, _, raw_key = create_account(
                options["name"],
                display_name=options["display_name"],
                time_zone=options["timezone"],
                username=options["user"],
                password=options["password"],
            )
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
            ) from None
        self.stdout.write(f"Created account '{account.name}'.")
        if options["user"]:
            self.stdout.write(f"User '{options['user']}' is its owner.")
        self.stdout.write(f"API key: {raw_key}")
