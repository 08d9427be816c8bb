import pytest
from django.urls import reverse

from sesconsole.models import ApiKey
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

NAV_PAGES = [
    "stats:queue",
    "delivery:email_status",
    "stats:open_click",
    "stats:spam_reports",
    "stats:bounced",
    "stats:unsubscriptions",
    "blocklist:overview",
]


def test_pages_need_a_login(client):
    response = client.get(reverse("stats:queue"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_renders(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="password"' in response.content


@pytest.mark.parametrize("name", NAV_PAGES)
def test_every_section_renders_with_the_navigation(alice_client, name):
    response = alice_client.get(reverse(name))
    assert response.status_code == 200
    html = response.content.decode()
    for label in [
        "Real-time queue status",
        "Email status",
        "Open/Click",
        "Spam report",
        "Bounced",
        "Unsubscription",
        "Blocklist",
    ]:
        assert label in html
    assert 'aria-current="page"' in html


def test_staff_switch_accounts(staff_client, account, other_account):
    response = staff_client.get(reverse("api_keys"))
    assert response.context["current_account"] == account  # first by name
    assert 'id="account-switcher"' in response.content.decode()
    staff_client.post(reverse("switch_account"), {"account": other_account.pk, "next": "/"})
    response = staff_client.get(reverse("api_keys"))
    assert response.context["current_account"] == other_account


def test_members_cannot_switch_to_foreign_accounts(alice_client, account, other_account):
    response = alice_client.post(
        reverse("switch_account"), {"account": other_account.pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"  # no open redirect
    response = alice_client.get(reverse("api_keys"))
    assert response.context["current_account"] == account


def test_a_member_of_two_accounts_can_switch(alice_client, alice, other_account):
    MembershipFactory(account=other_account, user=alice)
    alice_client.post(reverse("switch_account"), {"account": other_account.pk})
    assert alice_client.get(reverse("api_keys")).context["current_account"] == other_account


def test_api_keys_are_shown_once_and_revocable(alice_client, account):
    response = alice_client.post(reverse("api_keys"), {"name": "pipeline"})
    raw = response.context["new_key"]
    assert raw.startswith("ses_") and raw in response.content.decode()
    key = ApiKey.objects.get(account=account, name="pipeline")
    assert raw not in alice_client.get(reverse("api_keys")).content.decode()

    alice_client.post(reverse("revoke_api_key", args=[key.pk]))
    key.refresh_from_db()
    assert not key.is_active


def test_a_member_cannot_revoke_another_accounts_key(alice_client, other_account):
    key, _ = ApiKey.issue(other_account)
    response = alice_client.post(reverse("revoke_api_key", args=[key.pk]))
    assert response.status_code == 404
    key.refresh_from_db()
    assert key.is_active


def test_a_user_without_account_is_told_so(client, django_user_model):
    user = django_user_model.objects.create_user("loner", password="pw-loner-123")
    client.force_login(user)
    response = client.get(reverse("api_keys"))
    assert response.status_code == 403
    assert b"belongs to no account" in response.content


def test_api_errors_are_json(client):
    response = client.get("/api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_schema_and_docs_are_served(staff_client):
    assert staff_client.get(reverse("schema")).status_code == 200
    docs = staff_client.get(reverse("api-docs"))
    assert docs.status_code == 200
    assert b"cdn" not in docs.content.lower()


def test_signing_in_lands_on_the_console(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "password"})
    assert response.status_code == 302
    assert client.get(response["Location"]).status_code == 302  # home → first section


def test_the_send_test_page_does_not_claim_the_email_status_entry(alice_client):
    html = alice_client.get(reverse("delivery:send_test")).content.decode()
    entry = html.split(f'href="{reverse("delivery:email_status")}"', 1)[1].split(">", 1)[0]
    assert "aria-current" not in entry
