"""/api/v1/webhooks/: CRUD, the secret shown once, rotate, test, redeliver, tenant isolation."""

from __future__ import annotations

import pytest
from standardwebhooks.webhooks import Webhook

from notifications import outbox
from notifications.models import Endpoint, Notification

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"


def _create(client, receiver, **fields):
    return client.post(URL, {"url": receiver.url, **fields}, format="json")


def test_create_returns_the_secret_once(api_client, receiver):
    response = _create(api_client, receiver, events=["bounce", "open"], batch_size=1)
    assert response.status_code == 201
    body = response.json()
    secret = body.pop("secret")
    assert secret.startswith("whsec_") and Webhook(secret)
    assert body == {
        "id": body["id"],
        "account": "acme",
        "url": receiver.url,
        "sender_address": "",
        "events": ["bounce", "open"],
        "batch_size": 1,
        "enabled": True,
        "disabled_at": None,
        "disabled_reason": "",
        "failing_since": None,
        "delivered_count": 0,
        "failed_count": 0,
        "created_at": body["created_at"],
    }
    listed = api_client.get(URL).json()["results"]
    assert [e["id"] for e in listed] == [body["id"]]
    assert "secret" not in listed[0]
    assert "secret" not in api_client.get(f"{URL}{body['id']}/").json()
    assert Endpoint.objects.get().secret == secret


def test_one_endpoint_per_sender_address(api_client, receiver):
    assert _create(api_client, receiver).status_code == 201
    again = _create(api_client, receiver)
    assert again.status_code == 409 and again.json()["code"] == "endpoint_exists"
    sender = _create(api_client, receiver, sender_address="News@Mail.Example.com")
    assert sender.status_code == 201
    assert sender.json()["sender_address"] == "news@mail.example.com"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"url": "ftp://x.example.com/"}, "invalid_scheme"),
        ({"events": ["exploded"]}, "invalid"),
        ({"batch_size": 0}, "invalid_batch_size"),
        ({"batch_size": 101}, "invalid_batch_size"),
        ({"sender_address": "not an address"}, "invalid_address"),
    ],
)
def test_bad_input_is_a_400_with_a_code(api_client, receiver, fields, code):
    response = api_client.post(URL, {"url": receiver.url, **fields}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_update_and_delete(api_client, receiver):
    pk = _create(api_client, receiver).json()["id"]
    response = api_client.patch(
        f"{URL}{pk}/", {"events": ["click"], "enabled": False}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["events"], response.json()["enabled"]) == (["click"], False)
    assert response.json()["disabled_reason"] == "Disabled by the account."
    response = api_client.patch(f"{URL}{pk}/", {"enabled": True}, format="json")
    assert (response.json()["enabled"], response.json()["disabled_reason"]) == (True, "")
    assert api_client.delete(f"{URL}{pk}/").status_code == 204
    assert not Endpoint.objects.exists()


def test_rotate_gives_a_new_secret_once(api_client, receiver):
    created = _create(api_client, receiver).json()
    rotated = api_client.post(f"{URL}{created['id']}/rotate/").json()["secret"]
    assert rotated.startswith("whsec_") and rotated != created["secret"]
    assert Endpoint.objects.get().secret == rotated


def test_test_event_and_attempts(api_client, receiver):
    pk = _create(api_client, receiver).json()["id"]
    response = api_client.post(f"{URL}{pk}/test/")
    assert response.status_code == 202
    outbox.deliver_due(pk)
    attempts = api_client.get(f"{URL}{pk}/attempts/").json()["results"]
    assert [(a["ok"], a["status_code"], a["response_excerpt"]) for a in attempts] == [
        (True, 200, "ok")
    ]
    redo = api_client.post(
        f"{URL}{pk}/redeliver/", {"notifications": [attempts[0]["notification"]]}, format="json"
    )
    assert redo.json() == {"queued": 1}
    assert Notification.objects.get().status == "pending"
    bad = api_client.post(f"{URL}{pk}/redeliver/", {}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"


def test_another_account_sees_and_touches_nothing(api_client, other_api_client, receiver):
    pk = _create(api_client, receiver).json()["id"]
    assert other_api_client.get(URL).json()["results"] == []
    for method, path in [
        ("get", f"{URL}{pk}/"),
        ("patch", f"{URL}{pk}/"),
        ("delete", f"{URL}{pk}/"),
        ("post", f"{URL}{pk}/rotate/"),
        ("post", f"{URL}{pk}/test/"),
        ("post", f"{URL}{pk}/redeliver/"),
        ("get", f"{URL}{pk}/attempts/"),
    ]:
        response = getattr(other_api_client, method)(path, {}, format="json")
        assert response.status_code == 404, (method, path)
    assert Endpoint.objects.get().enabled and not Notification.objects.exists()


def test_staff_must_name_the_account_to_create(staff_user, receiver, account):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(staff_user)
    assert _create(client, receiver).json()["code"] == "account_required"
    response = client.post(f"{URL}?account=acme", {"url": receiver.url}, format="json")
    assert response.status_code == 201 and response.json()["account"] == "acme"
