"""A staff release through the admin, as staff get it: "Remove" on a filtered list with
"select all", the question page and then "Yes", each timed as a whole request (Django's
test client), inside a transaction that is rolled back (the database stays as it was).

    .venv/bin/python bench/blocklist.py        # seeds ses_bench_blocklist once (5M blocks)
    .venv/bin/python bench/admin_release.py    # then this

The selections: one account's invalid-address blocks (50,000) and the invalid-address
blocks of one month (558,828). blocklist.admin.RELEASE_LIMIT is set aside here so that
the larger one is timed too; the admin refuses it. Beside the whole requests: the release
alone (the admin's own call, no request around it) and a floor (one bare UPDATE of the same
rows: no lock order, no history). Then the larger one as the admin removes and expires it, a
part of RELEASE_LIMIT blocks per "Yes", each part a request.
"""

from __future__ import annotations

import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ses_bench_blocklist")


def main() -> None:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sesconsole.settings")
    os.environ.setdefault("SECRET_KEY", "insecure-benchmark-key")  # a throwaway database
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.contrib.admin.sites import site
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.test import Client, RequestFactory
    from django.utils import timezone

    from blocklist import actions, admin, changes
    from blocklist.models import Block
    from sesconsole.models import Account

    limit = admin.RELEASE_LIMIT
    admin.RELEASE_LIMIT = 10**9  # the whole selection in one request, for the table
    staff, _ = get_user_model().objects.get_or_create(
        username="bench-staff", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(staff)
    account = Account.objects.filter(name__startswith="bench-").order_by("pk").first()
    month = timezone.now().replace(day=1) - timezone.timedelta(days=40)
    selections = [
        ("one account's invalid-address blocks", f"account__id__exact={account.pk}"),
        (
            "the invalid-address blocks of one month",
            f"blocked_at__year={month.year}&blocked_at__month={month.month}",
        ),
    ]

    def admin_selection(url):
        """The queryset the admin hands an action under "select all" for this list URL."""
        request = RequestFactory().get(url)
        request.user = staff
        return site._registry[Block].get_changelist_instance(request).get_queryset(request)

    ticked = Block.objects.filter(kind="invalid").values_list("pk", flat=True).first()
    print("| selection | blocks | question page | Yes (release) | the release alone | floor |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, query in selections:
        url = f"/admin/blocklist/block/?kind__exact=invalid&{query}"
        form = {"action": "remove", "select_across": "1", "_selected_action": [ticked]}
        with transaction.atomic():
            t = time.perf_counter()
            asked = client.post(url, form)
            question = time.perf_counter() - t
            n = re.search(r"Remove ([\d,]+) block", asked.content.decode())
            t = time.perf_counter()
            done = client.post(url, {**form, "post": "yes"})
            released = time.perf_counter() - t
            assert done.status_code == 302, done.status_code
            transaction.set_rollback(True)
        # The same blocks, released by the admin's own call without the request around it,
        # and the floor: one bare UPDATE of the same rows, no lock order, no history.
        chosen = admin_selection(url)
        with transaction.atomic():
            t = time.perf_counter()
            actions.release_blocks(chosen, actor=changes.SYSTEM)
            alone = time.perf_counter() - t
            transaction.set_rollback(True)
        with transaction.atomic():
            t = time.perf_counter()
            chosen.filter(released_at=None).update(
                released_at=timezone.now(), release_reason=Block.Release.REMOVED
            )
            floor = time.perf_counter() - t
            transaction.set_rollback(True)
        print(
            f"| {label} | {n.group(1)} | {question * 1000:.0f} ms | {released:.1f} s "
            f"| {alone:.1f} s | {floor:.1f} s |"
        )

    # As the admin does it: past RELEASE_LIMIT, a part per "Yes", each its own request.
    admin.RELEASE_LIMIT = limit
    label, query = selections[-1]
    url = f"/admin/blocklist/block/?kind__exact=invalid&{query}"
    print()
    for action in ("remove", "expire_now"):
        form = {"action": action, "select_across": "1", "_selected_action": [ticked]}
        with transaction.atomic():
            answer, parts = client.post(url, form), []
            while answer.status_code == 200:  # the question again: more to do
                t = time.perf_counter()
                answer = client.post(url, {**form, "post": "yes"})
                parts.append(time.perf_counter() - t)
            transaction.set_rollback(True)
        print(
            f"{action}, {label}, in parts of {limit:,}: "
            + ", ".join(f"{p:.1f} s" for p in parts)
            + " a part"
        )


if __name__ == "__main__":
    main()
