"""A local SMTP server that accepts every message, for the demo: mail really leaves the worker.

Each message is written to var/sink/<time>-<n>.eml so you can open what was sent.
"""

from __future__ import annotations

import itertools
import logging
import time
from pathlib import Path

from aiosmtpd.controller import Controller
from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone


class SinkHandler:
    def __init__(self, folder: Path, log):
        self.folder = folder
        self.log = log
        self.counter = itertools.count(1)

    async def handle_DATA(self, server, session, envelope):
        name = f"{timezone.now():%Y%m%dT%H%M%S}-{next(self.counter)}.eml"
        (self.folder / name).write_bytes(envelope.original_content or envelope.content)
        self.log(f"{envelope.mail_from} → {', '.join(envelope.rcpt_tos)}: {name}")
        return "250 2.0.0 Accepted by the demo sink"


class Command(BaseCommand):
    help = "Run a local SMTP sink that accepts all mail and keeps it under var/sink/."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=settings.SENDING_RELAY_PORT)
        parser.add_argument("--folder", default=str(settings.VAR_DIR / "sink"))

    def handle(self, *args, **options):
        logging.getLogger("mail.log").setLevel(logging.WARNING)  # not every SMTP command
        folder = Path(options["folder"])
        folder.mkdir(parents=True, exist_ok=True)
        handler = SinkHandler(folder, self.stdout.write)
        controller = Controller(handler, hostname=options["host"], port=options["port"])
        controller.start()
        self.stdout.write(
            f"SMTP sink on {options['host']}:{options['port']}, keeping mail in {folder}"
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
        finally:
            controller.stop()
