"""Staff are asked before a surge decision, in a real browser: "No" goes back and changes
nothing, "Yes" decides; the question page passes axe-core."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from blocklist.models import InvalidSurge
from tests.browser.axe import violations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_surge_decision_is_asked_first_and_can_be_taken_back(page, login, staff_user):
    now = timezone.now()
    surge = InvalidSurge.objects.create(
        domain="gmail.test",
        window_start=now - timedelta(hours=1),
        hold_until=now + timedelta(hours=23),
        verdicts_at_opening=40,
        usual_per_window=0.4,
    )
    login(staff_user)
    page.goto(f"/admin/blocklist/invalidsurge/{surge.pk}/change/")

    page.get_by_role("button", name="Dismiss: a fault at the receiver").click()
    page.get_by_text("Dismiss as a fault at the receiver? A decision is final.").wait_for()
    # Django's own breadcrumbs fail link-in-text-block on every admin page; the rest is ours.
    assert [
        v for v in violations(page) if not v.startswith("link-in-text-block: .breadcrumbs")
    ] == []
    page.get_by_role("link", name="No, take me back").click()
    page.get_by_role("button", name="Block the held addresses").wait_for()
    surge.refresh_from_db()
    assert surge.decision == "", "going back decides nothing"

    page.get_by_role("button", name="Dismiss: a fault at the receiver").click()
    page.get_by_role("button", name="Yes, dismiss as a fault at the receiver").click()
    page.get_by_text("Dismissed the surge at gmail.test; lifted 0 block(s).").wait_for()
    surge.refresh_from_db()
    assert surge.decision == InvalidSurge.Decision.DISMISSED
    assert surge.decided_by == "staff:staff"


def test_whitelisting_for_an_account_in_the_browser(
    page, login, staff_user, account, other_account
):
    from blocklist.models import Block, Whitelist
    from tests.blocklist.conftest import bounce

    bounce(account, "x@example.com")
    login(staff_user)
    page.goto("/admin/blocklist/block/")
    page.get_by_role("checkbox", name="Select this object for an action").first.check()
    page.get_by_role("combobox", name="Action").select_option("whitelist")
    page.get_by_role("button", name="Go").click()
    page.get_by_text("Whitelist these 1 invalid-address block(s) for one account").wait_for()
    assert [
        v for v in violations(page) if not v.startswith("link-in-text-block: .breadcrumbs")
    ] == []
    page.get_by_label("Account").select_option("globex")
    page.get_by_role("button", name="Whitelist").click()
    page.get_by_text("Whitelisted 1 block(s) for globex.").wait_for()
    assert Whitelist.objects.get().block == Block.objects.get()
