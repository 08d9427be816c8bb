"""The blocklist console pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from blocklist import changes, custom, expiry, queries
from blocklist.models import Block
from tests.blocklist.conftest import bounce, recipient_event

pytestmark = pytest.mark.django_db

PAGES = [
    "blocklist:overview",
    "blocklist:invalid",
    "blocklist:my_triggers",
    "blocklist:rejects",
    "blocklist:custom",
    "blocklist:custom_upload",
    "blocklist:history",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_page_renders_with_its_subnavigation(alice_client, name):
    r = alice_client.get(reverse(name))
    assert r.status_code == 200
    assert b'aria-label="Blocklist"' in r.content
    assert b'aria-current="page"' in r.content


@pytest.mark.parametrize("name", PAGES)
def test_pages_need_a_login(client, name):
    r = client.get(reverse(name))
    assert r.status_code == 302 and "/login/" in r["Location"]


def test_a_user_without_an_account_is_told_so(client, db):
    from tests.factories import UserFactory

    client.force_login(UserFactory(username="lonely"))
    r = client.get(reverse("blocklist:overview"))
    assert r.status_code == 403 and b"No account" in r.content


def test_the_blocking_query_explains_the_winner(alice_client, account, other_account):
    bounce(other_account, "gone@example.com")
    recipient_event(account, "gone@example.com", "unsubscribed")
    r = alice_client.get(reverse("blocklist:overview"), {"q": "gone@example.com\nfine@example.com"})
    html = r.content.decode()
    assert "triggered by another account's sending" in html
    assert "Wins: the address does not exist" in html
    assert "Also blocks, but a stronger block wins." in html
    assert "No block matches" in html


def test_the_invalid_page_offers_whitelist_or_remove_as_allowed(
    alice_client, account, other_account
):
    from delivery.ingest import ingest_events
    from tests.events import make_event

    bounce(account, "mine@example.com")
    bounce(other_account, "theirs@example.com")
    ingest_events(account, [make_event("request", "t1", to="theirs@example.com")])
    html = alice_client.get(reverse("blocklist:invalid")).content.decode()
    assert "mine@example.com" in html and "theirs@example.com" in html
    assert html.count(">Remove</button>") == 1
    assert html.count(">Whitelist</button>") == 1


@pytest.mark.parametrize("name", ["blocklist:invalid", "blocklist:my_triggers"])
def test_the_invalid_address_lists_offer_no_reason_to_choose(alice_client, account, name):
    """Every block there is an invalid address: a reason filter could only list nothing."""
    bounce(account, "gone@example.com")
    r = alice_client.get(reverse(name))
    html = r.content.decode()
    assert "reason" not in r.context["filter"].form.fields
    assert 'name="reason"' not in html and "Recipient unsubscribed" not in html
    listed = alice_client.get(reverse(name), {"reason": "unsubscribed"}).context["page"]
    assert [b.address for b in listed.object_list] == ["gone@example.com"]


@pytest.mark.parametrize(
    "name", ["blocklist:invalid", "blocklist:my_triggers", "blocklist:rejects", "blocklist:custom"]
)
@pytest.mark.parametrize("sort", [None, "address"])
def test_every_list_names_its_date_fields_by_their_labels(alice_client, name, sort):
    query = {"start": "2026-12-05", "end": "2026-11-01", **({"sort": sort} if sort else {})}
    html = alice_client.get(reverse(name), query).content.decode()
    assert html.count("“Blocked until” must not be before “Blocked from”.") == 1
    assert "&#x27;end&#x27;" not in html


def test_batch_remove_from_my_trigger_list(alice_client, account, other_account):
    bounce(account, "a@example.com")
    bounce(account, "b@example.com")
    bounce(other_account, "c@example.com")
    r = alice_client.post(
        reverse("blocklist:invalid_remove"),
        {"addresses": ["a@example.com", "b@example.com", "c@example.com"]},
        follow=True,
    )
    html = r.content.decode()
    assert "Removed the block of 2 address(es)." in html
    assert "you can whitelist it" in html
    assert Block.objects.active().invalid().count() == 1


def test_rejects_page_lists_the_accounts_rejects(alice_client, account, other_account):
    recipient_event(account, "bye@example.com", "unsubscribed")
    recipient_event(other_account, "other@example.com", "complained")
    html = alice_client.get(reverse("blocklist:rejects")).content.decode()
    assert "bye@example.com" in html and "other@example.com" not in html


def test_custom_add_filter_edit_and_delete(alice_client, account):
    r = alice_client.post(
        reverse("blocklist:custom_add"),
        {"addresses": "a@example.com\nb@example.com\nbad"},
        follow=True,
    )
    assert "Added 2 of 3: 0 repeated, 1 invalid, 0 too long." in r.content.decode()
    Block.objects.filter(address="b@example.com").update(
        expires_at=timezone.now() - timedelta(hours=1)
    )
    html = alice_client.get(reverse("blocklist:custom"), {"status": "expired"}).content.decode()
    assert "b@example.com" in html and "a@example.com" not in html

    block = Block.objects.get(address="a@example.com")
    day = (timezone.now() + timedelta(days=10)).date()
    r = alice_client.post(
        reverse("blocklist:custom_edit", args=[block.pk]),
        {"address": "a@example.com", "expires_on": day.isoformat()},
    )
    assert r.status_code == 302
    block.refresh_from_db()
    assert expiry.expiry_date_of(block) == day

    r = alice_client.post(reverse("blocklist:custom_delete"), {"ids": [block.pk]}, follow=True)
    assert "Deleted 1 custom block(s)." in r.content.decode()


@pytest.mark.parametrize(
    ("address", "expires_on", "error"),
    [
        ("alice at example", "2099-01-31", "is not an email address."),
        ("taken@example.com", "2099-01-31", "taken@example.com already has a custom block."),
        ("new@example.com", "2020-01-31", "The expiry date is in the past."),
        ("new@example.com", "2099-13-45", "Give the date as YYYY-MM-DD."),
    ],
)
def test_a_refused_modification_comes_back_as_typed_with_the_error(
    alice_client, account, address, expires_on, error
):
    custom.add_custom_blocks(account, ["a@example.com", "taken@example.com"], actor=changes.SYSTEM)
    block = Block.objects.get(address="a@example.com")
    r = alice_client.post(
        reverse("blocklist:custom_edit", args=[block.pk]),
        {"address": address, "expires_on": expires_on},
    )
    html = r.content.decode()
    assert r.status_code == 200
    assert error in html
    assert f'name="address" value="{address}"' in html
    assert f'name="expires_on" value="{expires_on}"' in html
    block.refresh_from_db()
    assert (block.address, block.expires_at) == ("a@example.com", None)


def test_the_modify_form_opens_with_the_stored_values(alice_client, account):
    custom.add_custom_blocks(
        account, ["a@example.com"], actor=changes.SYSTEM, expires_on=date(2099, 1, 31)
    )
    block = Block.objects.get()
    html = alice_client.get(reverse("blocklist:custom_edit", args=[block.pk])).content.decode()
    assert 'name="address" value="a@example.com"' in html
    assert 'name="expires_on" value="2099-01-31"' in html


def test_another_accounts_custom_block_cannot_be_edited(alice_client, other_account):
    custom.add_custom_blocks(other_account, ["x@example.com"], actor=changes.SYSTEM)
    block = Block.objects.get()
    r = alice_client.post(
        reverse("blocklist:custom_edit", args=[block.pk]), {"address": "y@example.com"}
    )
    assert r.status_code == 302
    block.refresh_from_db()
    assert block.address == "x@example.com"


def test_upload_returns_a_report(alice_client, account):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("list.csv", b"email\na@example.com\na@example.com\nnope\n")
    r = alice_client.post(
        reverse("blocklist:custom_upload"), {"file": upload}, HTTP_ACCEPT="application/json"
    )
    assert r.json()["valid"] == 1 and r.json()["repeat"] == 1 and r.json()["invalid"] == 1


def test_auto_block_setting_form(alice_client, account):
    r = alice_client.post(
        reverse("blocklist:auto_block"), {"enabled": "on", "days": "5"}, follow=True
    )
    assert "Auto-block of full inboxes is on, for 5 days." in r.content.decode()
    assert queries.auto_block_setting(account).enabled


def test_history_shows_a_removed_block(alice_client, account):
    bounce(account, "gone@example.com")
    alice_client.post(reverse("blocklist:invalid_remove"), {"addresses": ["gone@example.com"]})
    html = alice_client.get(reverse("blocklist:history"), {"address": "gone@example.com"}).content
    assert b"Removed" in html and b"alice" in html


def test_lists_sort_and_paginate(alice_client, account):
    custom.add_custom_blocks(
        account, [f"u{i:02}@example.com" for i in range(60)], actor=changes.SYSTEM
    )
    html = alice_client.get(reverse("blocklist:custom"), {"sort": "address"}).content.decode()
    assert html.index("u00@example.com") < html.index("u01@example.com")
    assert "u59@example.com" not in html and "Page 1 of 2" in html
    assert "(sorted ascending)" in html
    page2 = alice_client.get(reverse("blocklist:custom"), {"sort": "address", "page": 2})
    assert "u59@example.com" in page2.content.decode()


def test_a_long_list_counts_up_to_the_cap_and_says_more(alice_client, account, monkeypatch):
    from sesconsole.lib.pagination import CappedPaginator

    monkeypatch.setattr(CappedPaginator, "cap", 100)
    custom.add_custom_blocks(
        account, [f"u{i:03}@example.com" for i in range(130)], actor=changes.SYSTEM
    )
    first = alice_client.get(reverse("blocklist:custom"), {"sort": "address"}).content.decode()
    assert "Page 1 of 2 (more than 100 in all)" in first
    last = alice_client.get(reverse("blocklist:custom"), {"sort": "address", "page": 2})
    html = last.content.decode()
    assert "u099@example.com" in html and "u100@example.com" not in html
    assert "Pages stop here" in html

    few = alice_client.get(reverse("blocklist:custom"), {"address": "u001@example.com"})
    assert "1 in all." in few.content.decode() and "more than" not in few.content.decode()


# Every URL only a form posts to, and the page that holds the form.
FORM_TARGETS = [
    ("blocklist:invalid_remove", "blocklist:my_triggers"),
    ("blocklist:invalid_whitelist", "blocklist:invalid"),
    ("blocklist:invalid_unwhitelist", "blocklist:invalid"),
    ("blocklist:rejects_remove", "blocklist:rejects"),
    ("blocklist:custom_add", "blocklist:custom"),
    ("blocklist:custom_delete", "blocklist:custom"),
    ("blocklist:auto_block", "blocklist:custom"),
    ("blocklist:whitelist_import", "blocklist:invalid"),
]


@pytest.mark.parametrize(("target", "page"), FORM_TARGETS)
def test_a_get_of_a_form_target_goes_back_to_the_form_and_says_nothing_changed(
    alice_client, target, page
):
    r = alice_client.get(reverse(target), follow=True)
    assert r.redirect_chain == [(reverse(page), 302)]
    assert "Nothing was changed" in r.content.decode()
    assert "send it again" in r.content.decode()


@pytest.mark.parametrize(("target", "page"), FORM_TARGETS)
def test_a_form_target_still_refuses_other_methods(alice_client, target, page):
    r = alice_client.put(reverse(target))
    assert r.status_code == 405 and r["Allow"] == "POST"


def test_a_form_sent_after_the_session_expired_comes_back_after_signing_in(client, alice):
    sent = client.post(reverse("blocklist:custom_add"), {"addresses": "a@example.com"})
    assert sent.status_code == 302
    assert sent["Location"] == "/login/?next=/blocklist/custom/add/"
    client.force_login(alice)
    r = client.get("/blocklist/custom/add/", follow=True)
    assert r.redirect_chain == [(reverse("blocklist:custom"), 302)]
    assert "Nothing was changed" in r.content.decode()
    assert not Block.objects.exists()
