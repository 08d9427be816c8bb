"""A console form acts only for the account its page was shown for.

The account is the session's, so a user of two accounts who switched in another tab would
act on the other account with a form filled in for the first one."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from blocklist.models import Block
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_accounts(alice, account, other_account):
    MembershipFactory(account=other_account, user=alice)


def test_a_form_for_one_account_sent_after_a_switch_changes_nothing(
    alice_client, two_accounts, account, other_account
):
    page = alice_client.get(reverse("blocklist:custom")).content.decode()
    assert f'name="for_account" value="{account.pk}"' in page
    # Another tab switches to Globex; this tab sends its Acme form.
    alice_client.post(reverse("switch_account"), {"account": other_account.pk})
    refused = alice_client.post(
        reverse("blocklist:custom_add"),
        {"addresses": "wrong-tenant@example.com", "for_account": account.pk},
        HTTP_REFERER="http://testserver/blocklist/custom/",
    )
    assert refused.status_code == 409
    text = refused.content.decode()
    assert "This form was filled in for Acme Shop" in text and "switched to Globex" in text
    assert "Nothing was changed." in text
    assert not Block.objects.exists()
    # Sent for the account in force, it acts.
    done = alice_client.post(
        reverse("blocklist:custom_add"),
        {"addresses": "right@example.com", "for_account": other_account.pk},
    )
    assert done.status_code == 302
    assert Block.objects.get().account == other_account


def test_an_account_the_user_may_not_act_for_is_not_named(alice_client, account, other_account):
    refused = alice_client.post(
        reverse("blocklist:custom_add"),
        {"addresses": "a@example.com", "for_account": other_account.pk},
    )
    assert refused.status_code == 409
    assert "Globex" not in refused.content.decode()
    assert "filled in for another account" in refused.content.decode()
    assert not Block.objects.exists()


PAGES = [
    "blocklist:custom",
    "blocklist:invalid",
    "blocklist:rejects",
    "blocklist:custom_upload",
    "api_keys",
    "tc3_keys",
    "delivery:send_test",
    "notifications:endpoints",
]


@pytest.mark.parametrize("name", PAGES)
def test_every_console_form_says_which_account_it_is_for(alice_client, account, name):
    page = alice_client.get(reverse(name)).content.decode()
    forms = re.findall(r'<form method="post".*?</form>', page, re.S)
    assert forms
    for form in forms:
        if 'action="/logout/"' in form or "switch" in form:
            continue
        assert f'name="for_account" value="{account.pk}"' in form, form[:200]


def test_a_stale_form_gets_the_consoles_page_saying_nothing_changed(alice, account):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    stale = client.post(
        reverse("blocklist:custom_add"),
        {"addresses": "a@example.com", "csrfmiddlewaretoken": "stale"},
        HTTP_REFERER="http://testserver/blocklist/custom/",
    )
    assert stale.status_code == 403
    text = stale.content.decode()
    assert "This form could not be sent" in text and "Nothing was changed." in text
    assert 'href="http://testserver/blocklist/custom/"' in text
    assert not Block.objects.exists()
    # Another site's page is no way back.
    elsewhere = client.post(
        reverse("blocklist:custom_add"), {}, HTTP_REFERER="https://evil.example/"
    )
    assert 'href="/"' in elsewhere.content.decode()
