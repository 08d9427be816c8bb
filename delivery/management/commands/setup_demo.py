from __future__ import annotations

import os

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from delivery.management.commands.simulate_traffic import sender_domains_for
from delivery.sending import add_sender_identity
from notifications.demo import configure_demo_endpoint
from notifications.outbox import EndpointError
from sesconsole.models import Account
from sesconsole.services import create_account

DEMO_ACCOUNTS = [
    # name, display name, time zone
    ("acme", "Acme Shop", "Asia/Shanghai"),
    ("globex", "Globex Corporation", "America/New_York"),
    ("initech", "Initech", "UTC"),
]
CUSTOMER = ("demo", "demo-password")
STAFF = ("admin", "admin-password")


class Command(BaseCommand):
    help = "Create demo accounts, a customer and a staff user, and a month of demo traffic."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=float, default=30)
        parser.add_argument("--per-day", type=int, default=400)

    def handle(self, *args, **options):
        User = get_user_model()
        created_any = False
        keys = {}
        for name, display_name, tz in DEMO_ACCOUNTS:
            if Account.objects.filter(name=name).exists():
                continue
            owner = CUSTOMER if name == "acme" else (None, None)
            _, _, keys[name] = create_account(
                name, display_name=display_name, time_zone=tz, username=owner[0], password=owner[1]
            )
            created_any = True
        if not User.objects.filter(username=STAFF[0]).exists():
            User.objects.create_superuser(STAFF[0], "admin@example.com", STAFF[1])

        # Verified sender domains, so the "send a test email" form works.
        for account in Account.objects.filter(name__in=[a[0] for a in DEMO_ACCOUNTS]):
            for domain in sender_domains_for(account):
                add_sender_identity(account, domain, verified=True)

        if created_any:
            # With a receiver fault going on for the last two hours: its surge is for staff to
            # judge in the admin, and the held verdicts' pages say why they blocked nothing.
            call_command(
                "simulate_traffic",
                days=options["days"],
                per_day=options["per_day"],
                seed=7,
                outage="gmail.com" if options["days"] >= 1 else None,
            )
        else:
            self.stdout.write("Demo data already present; not generating more traffic.")
        try:
            webhook_secret = configure_demo_endpoint(Account.objects.get(name="acme"))
        except EndpointError as exc:
            self.stdout.write(f"No demo event notifications: {exc.message}")
            webhook_secret = None

        base = f"http://127.0.0.1:{os.environ.get('PORT', '8000')}"
        self.stdout.write("")
        self.stdout.write(f"Console:   {base}/")
        self.stdout.write(f"Customer:  {CUSTOMER[0]} / {CUSTOMER[1]}   (account 'acme')")
        self.stdout.write(f"Staff:     {STAFF[0]} / {STAFF[1]}   (all accounts, /admin/)")
        if webhook_secret:
            self.stdout.write(
                f"Event notifications of acme go to the demo receiver: {webhook_secret}"
            )
        for name, key in keys.items():
            self.stdout.write(f"API key for {name}: {key}")
        if not keys:
            self.stdout.write(
                "API keys are shown once, when the demo is first set up. For a new one, open "
                f"{base}/account/api-keys/ or run: .venv/bin/python manage.py create_api_key acme"
            )
