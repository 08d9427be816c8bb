"""TC3 keys: the console page, the command, the admin, and how the SecretKey is stored."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tencent.models import Tc3Key

pytestmark = pytest.mark.django_db


def test_the_secret_key_is_stored_encrypted(account):
    key, secret_key = Tc3Key.issue(account)
    assert re.fullmatch(r"AKID[A-Za-z0-9]{32}", key.secret_id)
    assert len(secret_key) == 32
    stored = Tc3Key.objects.get(pk=key.pk)
    assert secret_key not in stored.secret_key_encrypted
    assert stored.secret_key() == secret_key


def test_a_changed_encryption_key_voids_stored_keys(account, settings):
    key, _ = Tc3Key.issue(account)
    settings.TC3_ENCRYPTION_KEY = "another"
    assert Tc3Key.objects.get(pk=key.pk).secret_key() is None


def test_the_command_prints_both_halves(account):
    out = StringIO()
    call_command("create_tc3_key", "acme", "--name", "mailer", stdout=out)
    secret_id = re.search(r"SecretId: (\S+)", out.getvalue())[1]
    secret_key = re.search(r"SecretKey: (\S+)", out.getvalue())[1]
    key = Tc3Key.objects.get(secret_id=secret_id)
    assert (key.account, key.name, key.secret_key()) == (account, "mailer", secret_key)


def test_the_command_needs_an_existing_account(db):
    with pytest.raises(CommandError, match="No account named 'nope'"):
        call_command("create_tc3_key", "nope", stdout=StringIO())


def test_a_member_creates_a_key_and_sees_the_secret_once(alice_client, account):
    response = alice_client.post(reverse("tc3_keys"), {"name": "orders"})
    key = Tc3Key.objects.get(account=account)
    html = response.content.decode()
    assert key.secret_id in html
    assert key.secret_key() in html
    again = alice_client.get(reverse("tc3_keys")).content.decode()
    assert key.secret_id in again
    assert key.secret_key() not in again


def test_a_member_revokes_a_key(alice_client, account):
    key, _ = Tc3Key.issue(account, name="old")
    response = alice_client.post(reverse("revoke_tc3_key", args=[key.pk]))
    assert response.status_code == 302
    key.refresh_from_db()
    assert key.revoked_at is not None


def test_members_see_and_revoke_only_their_accounts_keys(alice_client, other_account):
    foreign, _ = Tc3Key.issue(other_account, name="globex-mailer")
    assert foreign.secret_id not in alice_client.get(reverse("tc3_keys")).content.decode()
    response = alice_client.post(reverse("revoke_tc3_key", args=[foreign.pk]))
    assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.revoked_at is None


def test_the_page_has_a_helpful_empty_state(alice_client):
    html = alice_client.get(reverse("tc3_keys")).content.decode()
    assert "No TC3 keys yet" in html
    assert 'href="/account/tc3-keys/"' in html  # in the account menu


def test_the_admin_lists_and_revokes_keys(staff_client, account):
    key, secret_key = Tc3Key.issue(account, name="<b>mailer</b>")
    url = reverse("admin:tencent_tc3key_changelist")
    html = staff_client.get(url).content.decode()
    assert key.secret_id in html
    assert "&lt;b&gt;mailer&lt;/b&gt;" in html
    assert secret_key not in html
    response = staff_client.post(
        url, {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert "Revoked 1 key(s)." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
