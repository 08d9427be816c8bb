from __future__ import annotations

import json
import time

from django.core.management.base import BaseCommand

from notifications.receiver import Received, Receiver


class Command(BaseCommand):
    help = "Listen for event notifications on 127.0.0.1 and log each one (the demo's endpoint)."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8090)
        parser.add_argument(
            "--secret", default="", help="Verify signatures with this whsec_ secret."
        )
        parser.add_argument(
            "--fail-every", type=int, default=0, help="Answer 503 to every Nth request (retries)."
        )

    def handle(self, *args, port: int, secret: str, fail_every: int, **options):
        receiver = Receiver(port=port, secret=secret or None)
        counter = {"n": 0}

        def log(item: Received) -> None:
            counter["n"] += 1
            if fail_every and counter["n"] % fail_every == 0:
                receiver.failures_left += 1
            try:
                events = json.loads(item.body)
            except ValueError:
                events = []
            for event in events if isinstance(events, list) else [events]:
                self.stdout.write(
                    f"{item.headers.get('webhook-id', '-')} verified={item.verified} "
                    f"{event.get('event')} {event.get('email')} {event.get('bulkId')}"
                )
            self.stdout.flush()

        receiver.on_request = log
        receiver.start()
        self.stdout.write(f"Listening on {receiver.url}")
        self.stdout.flush()
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            receiver.stop()
