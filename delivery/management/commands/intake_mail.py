"""Read one returned report (raw RFC 5322 message) on stdin, as an MTA pipe delivers it.

Postfix, for example: `bounces: "|/srv/ses/.venv/bin/python /srv/ses/manage.py intake_mail"`.
"""

from __future__ import annotations

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from delivery.intake import intake

# sysexits.h: the MTA keeps the message and tries again later.
EX_TEMPFAIL = 75
# sysexits.h: the message is refused for good; the MTA returns it (a bounce, which has no
# sender, goes to the postmaster), so nothing is lost.
EX_DATAERR = 65


class Command(BaseCommand):
    help = "Take in one bounce or feedback report from stdin; unmatched mail is kept for review."

    def handle(self, *args, **options):
        # The same bound as the HTTP endpoint's (413 there).
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = sys.stdin.buffer.read(limit + 1)
        if len(raw) > limit:
            self.stderr.write(f"Refused: the message is larger than {limit:,} bytes.")
            sys.exit(EX_DATAERR)
        if not raw.strip():
            raise CommandError("No message on stdin.")
        try:
            report = intake(raw)
        except DatabaseError as exc:
            self.stderr.write(f"Database unavailable, try again later: {exc}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(
            f"{report.get_status_display()}: {report.kind or '-'} report"
            f"{' for ' + report.message_id if report.message_id else ''}, "
            f"{report.events} event(s)."
        )
