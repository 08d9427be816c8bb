"""Staff tools for every block kind."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from blocklist import actions, changes, custom, gate
from blocklist.models import Block, History, Whitelist
from tests.blocklist.conftest import answer_yes, bounce

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:blocklist_block_changelist"


def test_staff_search_and_filter_blocks(staff_client, account, other_account):
    bounce(account, "x@example.com")
    custom.add_custom_blocks(other_account, ["custom@example.com"], actor=changes.SYSTEM)
    r = staff_client.get(reverse(CHANGELIST), {"q": "custom@"})
    assert b"custom@example.com" in r.content and b"x@example.com" not in r.content
    r = staff_client.get(reverse(CHANGELIST), {"kind__exact": "invalid", "state": "active"})
    assert b"x@example.com" in r.content and b"custom@example.com" not in r.content
    r = staff_client.get(reverse(CHANGELIST), {"q": "globex"})
    assert b"custom@example.com" in r.content


@pytest.mark.parametrize("typed", ["例子.中国", "user@例子.中国", "xn--fsqu00a", "例子。中国"])
def test_staff_find_a_block_by_its_domain_as_people_write_it(staff_client, account, typed):
    custom.add_custom_blocks(
        account, ["user@例子.中国", "someone@example.com"], actor=changes.SYSTEM
    )
    r = staff_client.get(reverse(CHANGELIST), {"q": typed})
    shown = r.content.decode()
    assert "xn--fsqu00a.xn--fiqs8s" in shown and "someone@example.com" not in shown


def test_the_change_page_shows_history_inline(staff_client, account):
    bounce(account, "x@example.com")
    block = Block.objects.get()
    r = staff_client.get(reverse("admin:blocklist_block_change", args=[block.pk]))
    assert r.status_code == 200 and b"Bounced: invalid address." in r.content


def test_note_text_is_escaped(staff_client, account):
    custom.add_custom_blocks(
        account, ["x@example.com"], actor=changes.SYSTEM, note="<script>alert(1)</script>"
    )
    block = Block.objects.get()
    r = staff_client.get(reverse("admin:blocklist_block_change", args=[block.pk]))
    assert b"<script>alert(1)</script>" not in r.content


@pytest.mark.parametrize("model", ["block", "whitelist"])
def test_the_change_form_edits_the_note_alone(staff_client, account, other_account, model):
    """Every other change goes through an action, which checks it and writes history."""
    bounce(other_account, "x@example.com")
    block = Block.objects.get()
    actions.whitelist_addresses(account, ["x@example.com"], actor=changes.SYSTEM)
    row = block if model == "block" else Whitelist.objects.get()
    url = reverse(f"admin:blocklist_{model}_change", args=[row.pk])
    form = staff_client.get(url).content.decode()
    assert 'name="note"' in form
    for field in ("address", "kind", "account", "reason", "expires_at", "block", "removed_at"):
        assert f'name="{field}"' not in form, field
    history = list(History.objects.values_list("action", "detail"))
    before = Block.objects.values("kind", "account", "reason", "expires_at").get()
    # The form's own hidden inputs (the inlines' management forms), then what was typed.
    hidden = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    typed = {
        "address": "Not An Address!!",
        "kind": "custom",
        "reason": "manual",
        "expires_at_0": "2030-01-01",
        "account": account.pk,
        "removed_at_0": "2030-01-01",
    }
    note = "checked with the recipient's admin"
    r = staff_client.post(url, {**hidden, **typed, "note": note, "_save": "1"})
    assert r.status_code == 302
    row.refresh_from_db()
    assert (row.address, row.note) == ("x@example.com", note)
    assert list(History.objects.values_list("action", "detail")) == history
    assert Block.objects.values("kind", "account", "reason", "expires_at").get() == before
    assert Whitelist.objects.get().removed_at is None


def _act(client, action, blocks, **extra):
    return client.post(
        reverse(CHANGELIST),
        {"action": action, "_selected_action": [b.pk for b in blocks], **extra},
        follow=True,
    )


def _act_and_confirm(client, action, blocks):
    asked = _act(client, action, blocks)
    assert "Yes, " in asked.content.decode(), "asked first"
    return answer_yes(client, asked)


def test_remove_expire_and_extend(staff_client, account, staff_user):
    custom.add_custom_blocks(account, ["a@example.com", "b@example.com"], actor=changes.SYSTEM)
    bounce(account, "c@example.com")
    a, b = Block.objects.custom().order_by("address")
    c = Block.objects.invalid().get()
    r = _act_and_confirm(staff_client, "remove", [a])
    assert "Removed 1 block(s)." in r.content.decode()
    r = _act_and_confirm(staff_client, "expire_now", [b])
    assert "Expired 1 block(s)." in r.content.decode()
    assert not gate.check(account, ["b@example.com"])["b@example.com"].blocked
    before = c.expires_at
    r = _act(staff_client, "extend_30_days", [c])
    assert "Extended 1 block(s) by 30 days." in r.content.decode()
    c.refresh_from_db()
    assert (c.expires_at - before).days == 30
    assert History.objects.filter(actor=staff_user).count() == 3


def test_removing_asks_first_and_changes_nothing_until_told_yes(staff_client, account):
    custom.add_custom_blocks(account, ["a@example.com"], actor=changes.SYSTEM)
    bounce(account, "c@example.com")
    blocks = list(Block.objects.order_by("address"))

    asked = _act(staff_client, "remove", blocks)
    page = asked.content.decode()
    assert "Remove 2 block(s) in force?" in page
    assert "1 invalid address block(s): system-wide" in page
    assert "1 custom block(s): their accounts&#x27; own rules" in page
    assert "a@example.com" in page and "c@example.com" in page
    assert Block.objects.active().count() == 2, "nothing changes on asking"

    done = answer_yes(staff_client, asked)
    assert "Removed 2 block(s)." in done.content.decode()
    assert not Block.objects.active().exists()


def test_a_release_past_what_one_request_takes_goes_in_parts(staff_client, account, monkeypatch):
    custom.add_custom_blocks(account, ["a@example.com", "b@example.com"], actor=changes.SYSTEM)
    bounce(account, "c@example.com")
    monkeypatch.setattr("blocklist.admin.RELEASE_LIMIT", 2)
    asked = _act(staff_client, "remove", Block.objects.all())
    page = asked.content.decode()
    assert "Remove 3 block(s) in force?" in page
    assert "Yes&quot; does the first 2 (by id) and asks again for the rest" in page
    assert Block.objects.active().count() == 3, "nothing changes on asking"

    again = answer_yes(staff_client, asked)
    page = again.content.decode()
    assert "Removed 2 block(s); 1 remain in force. Remove 1 block(s) in force?" in page
    first_two = list(Block.objects.order_by("pk").values_list("address", flat=True)[:2])
    assert set(Block.objects.exclude(released_at=None).values_list("address", flat=True)) == set(
        first_two
    ), "the first part is the first blocks by id"
    assert "asks again" not in page, "what is left fits in one request"

    done = answer_yes(staff_client, again)
    assert "Removed 1 block(s)." in done.content.decode()
    assert not Block.objects.active().exists()
    assert History.objects.filter(action=History.Action.REMOVED).count() == 3


def test_an_expiry_past_what_one_request_takes_goes_in_parts(staff_client, account, monkeypatch):
    custom.add_custom_blocks(
        account, ["a@example.com", "b@example.com", "c@example.com"], actor=changes.SYSTEM
    )
    monkeypatch.setattr("blocklist.admin.RELEASE_LIMIT", 2)
    asked = _act(staff_client, "expire_now", Block.objects.all())
    assert "Expire 3 block(s) in force now?" in asked.content.decode()

    again = answer_yes(staff_client, asked)
    # What the first part expired is out of the count, though still in force until the job.
    assert "Expired 2 block(s); 1 remain to expire. Expire 1 block(s) in force now?" in (
        again.content.decode()
    )
    done = answer_yes(staff_client, again)
    assert "Expired 1 block(s)." in done.content.decode()
    assert Block.objects.filter(expires_at__lte=timezone.now()).count() == 3
    assert not gate.check(account, ["c@example.com"])["c@example.com"].blocked
    assert History.objects.filter(action=History.Action.EDITED).count() == 3


def test_an_extension_past_what_one_request_changes_is_refused(staff_client, account, monkeypatch):
    bounce(account, "a@example.com")
    bounce(account, "b@example.com")
    before = dict(Block.objects.values_list("pk", "expires_at"))
    monkeypatch.setattr("blocklist.admin.RELEASE_LIMIT", 1)
    page = _act(staff_client, "extend_30_days", Block.objects.all()).content.decode()
    assert "Too many for one request: 2 blocks in force are selected" in page
    assert "one request extends at most 1." in page
    assert dict(Block.objects.values_list("pk", "expires_at")) == before, "nothing extended"
    assert not History.objects.filter(action=History.Action.EDITED).exists()


def test_a_lift_that_would_change_nothing_says_so(staff_client, account):
    bounce(account, "dsn@example.com")  # a DSN's 5.1.1: not wording
    asked = _act(staff_client, "lift_wording", Block.objects.all())
    page = asked.content.decode()
    assert "Lift 0 invalid-address block(s)" in page
    assert "Nothing will change: no selected block in force rests on" in page
    answer_yes(staff_client, asked)
    assert Block.objects.active().count() == 1


def test_select_all_is_carried_to_the_question_not_listed(staff_client, account, other_account):
    addresses = [f"u{i:02}@example.com" for i in range(30)]
    custom.add_custom_blocks(account, addresses, actor=changes.SYSTEM)
    custom.add_custom_blocks(other_account, ["kept@example.com"], actor=changes.SYSTEM)
    on_page = Block.objects.filter(account=account).first()
    filtered = reverse(CHANGELIST) + "?q=acme"  # the list filtered to one account

    asked = staff_client.post(
        filtered,
        {"action": "remove", "_selected_action": [on_page.pk], "select_across": "1"},
        follow=True,
    )
    page = asked.content.decode()
    assert "Remove 30 block(s) in force?" in page and "and 10 more." in page
    assert page.count('name="_selected_action"') == 1, "one input per ticked row, not per block"

    answer_yes(staff_client, asked)
    assert set(Block.objects.active().values_list("address", flat=True)) == {"kept@example.com"}


def test_whitelist_for_an_account_through_an_intermediate_page(
    staff_client, account, other_account
):
    bounce(account, "x@example.com")
    block = Block.objects.get()
    r = _act(staff_client, "whitelist", [block])
    assert b"Whitelist for an account" in r.content and b"globex" in r.content
    assert not Whitelist.objects.exists()
    r = answer_yes(staff_client, r, whitelist_account="globex")
    assert "Whitelisted 1 block(s) for globex." in r.content.decode()
    assert Whitelist.objects.get().account == other_account


def test_whitelisting_many_refusals_is_one_warning_each_kind(staff_client, account, other_account):
    for i in range(8):
        bounce(account, f"mine{i}@example.com")
    bounce(other_account, "theirs@example.com")
    blocks = Block.objects.all()
    asked = _act(staff_client, "whitelist", blocks).content.decode()
    assert "No other account to whitelist them for" in asked, "both accounts triggered some"
    # A name sent anyway (a forged or raced POST) is answered block by block.
    r = _act(staff_client, "whitelist", blocks, whitelist_account="acme")
    messages = [str(m) for m in r.context["messages"]]
    assert messages == [
        "Whitelisted 1 block(s) for acme.",
        "8 block(s) not whitelisted: acme's own sending triggered them (remove them instead): "
        "mine0@example.com, mine1@example.com, mine2@example.com, mine3@example.com, "
        "mine4@example.com and 3 more.",
    ]
    r = _act(staff_client, "whitelist", blocks, whitelist_account="acme")
    assert [str(m) for m in r.context["messages"]][-1] == (
        "1 block(s) not whitelisted: already whitelisted for acme: theirs@example.com."
    )


def test_whitelisting_more_than_one_request_takes_is_refused(
    staff_client, account, other_account, monkeypatch
):
    bounce(account, "a@example.com")
    bounce(account, "b@example.com")
    monkeypatch.setattr("blocklist.actions.MAX_BATCH", 1)
    asked = _act(staff_client, "whitelist", Block.objects.all())
    page = asked.content.decode()
    assert "Too many for one request: 2 blocks in force are selected" in page
    assert "one request whitelists at most 1." in page
    assert 'name="whitelist_account"' not in page, "no way to go on"
    forged = _act(staff_client, "whitelist", Block.objects.all(), whitelist_account="globex")
    assert "Too many for one request" in forged.content.decode()
    assert not Whitelist.objects.exists()


def test_history_admin_is_read_only(staff_client, account):
    bounce(account, "x@example.com")
    r = staff_client.get(reverse("admin:blocklist_history_changelist"), {"q": "x@example.com"})
    assert r.status_code == 200 and b"x@example.com" in r.content
