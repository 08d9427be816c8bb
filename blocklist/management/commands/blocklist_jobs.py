"""Run the blocklist jobs once, by hand or from cron: `manage.py blocklist_jobs`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from blocklist import jobs


class Command(BaseCommand):
    help = (
        "Release 180-day invalid-address blocks, lift expired custom blocks, auto-block full "
        "inboxes, show recent invalid-address blocks to the accounts that mailed them."
    )

    def handle(self, *args, **options) -> None:
        released = jobs.release_invalid_blocks()
        lifted = jobs.lift_expired_custom_blocks()
        auto = jobs.auto_block_full_inboxes()
        shown = jobs.show_recent_blocks()
        self.stdout.write(
            f"Released {released} invalid-address block(s), lifted {lifted} expired custom "
            f"block(s), auto-blocked {auto} full inbox(es), showed recent invalid-address blocks "
            f"to the accounts that mailed them ({shown} row(s))."
        )
