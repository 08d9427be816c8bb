"""The TC3 keys page in a real browser: create a pair, copy it once, revoke it."""

from __future__ import annotations

import pytest

from tencent.models import Tc3Key

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_creates_and_revokes_a_tc3_key(page, login, alice, account):
    login(alice)
    page.get_by_role("link", name="TC3 keys").click()
    page.get_by_label("Name").fill("order mailer")
    page.get_by_role("button", name="Create TC3 key").click()
    key = Tc3Key.objects.get(account=account)
    assert page.locator("#new-secret-id").inner_text() == key.secret_id
    assert page.locator("#new-secret-key").inner_text() == key.secret_key()

    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    page.get_by_role("button", name="Revoke order mailer").click()
    page.get_by_text("Revoked TC3 key 'order mailer'").wait_for()
    assert "stop working" in dialogs[0]
    assert page.locator("#new-secret-key").count() == 0
    key.refresh_from_db()
    assert key.revoked_at is not None
