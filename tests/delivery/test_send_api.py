"""POST /api/v1/emails/ and GET /api/v1/emails/<id>/: validation, limits, queueing, scoping."""

from __future__ import annotations

import pytest

from delivery.models import DeliveryEvent, Message, OutboundRecipient
from delivery.sending import add_sender_identity
from delivery.tracking import CLICK, OPEN, record_hit

pytestmark = pytest.mark.django_db

URL = "/api/v1/emails/"


@pytest.fixture(autouse=True)
def identities(account, other_account):
    add_sender_identity(account, "mail.acme.example", verified=True)
    add_sender_identity(account, "boss@acme.example", verified=True)
    add_sender_identity(account, "unverified.acme.example")
    add_sender_identity(other_account, "mail.globex.example", verified=True)


def _body(**fields) -> dict:
    body = {
        "from": "Acme <news@mail.acme.example>",
        "to": ["alice@gmail.com", "Bob <BOB@Example.COM>"],
        "subject": "November news",
        "text": "Hello",
        "reference": "campaign-42",
    }
    body.update(fields)
    return body


def test_it_queues_each_recipient_and_returns_message_ids(api_client, account):
    response = api_client.post(URL, _body(cc="carol@gmail.com"), format="json")
    assert response.status_code == 202, response.json()
    data = response.json()
    email_id = data["id"]
    assert data == {
        "id": email_id,
        "reference": "campaign-42",
        "accepted": 3,
        "rejected": 0,
        "recipients": [
            {
                "address": address,
                "field": field,
                "message_id": f"{email_id}-{i}",
                "status": "queued",
                "reason": "",
            }
            for i, (field, address) in enumerate(
                [("to", "alice@gmail.com"), ("to", "bob@example.com"), ("cc", "carol@gmail.com")]
            )
        ],
    }
    message = Message.objects.get(account=account, message_id=f"{email_id}-1")
    assert (message.status, message.recipient, message.sender_domain) == (
        "requested",
        "bob@example.com",
        "mail.acme.example",
    )
    assert DeliveryEvent.objects.filter(type="request").count() == 3


def test_it_accepts_a_verified_address_identity(api_client):
    response = api_client.post(URL, _body(**{"from": "boss@acme.example"}), format="json")
    assert response.status_code == 202


@pytest.mark.parametrize(
    "sender",
    ["news@unverified.acme.example", "news@mail.globex.example", "other@acme.example"],
)
def test_it_refuses_a_sender_that_is_not_verified_for_the_account(api_client, sender):
    response = api_client.post(URL, _body(**{"from": sender}), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "sender_not_verified"
    assert sender.split("@")[1] in response.json()["message"]
    assert not OutboundRecipient.objects.exists()


def test_it_limits_the_number_of_recipients(api_client, settings):
    to = [f"user{i}@gmail.com" for i in range(40)]
    bcc = [f"hidden{i}@gmail.com" for i in range(11)]
    response = api_client.post(URL, _body(to=to, bcc=bcc), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "too_many_recipients"
    assert "51" in response.json()["message"]


def test_repeated_recipients_get_the_mail_once(api_client):
    response = api_client.post(
        URL, _body(to=["alice@gmail.com"], cc=["ALICE@gmail.com"]), format="json"
    )
    assert [r["address"] for r in response.json()["recipients"]] == ["alice@gmail.com"]


def test_it_refuses_an_oversized_message(api_client, settings):
    settings.SENDING_MAX_MESSAGE_BYTES = 1000
    response = api_client.post(URL, _body(html="x" * 1001), format="json")
    assert response.status_code == 413
    assert response.json()["code"] == "message_too_large"


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"text": ""}, "missing_field"),
        ({"to": []}, "missing_field"),
        ({"to": ["not-an-address"]}, "invalid_address"),
        ({"headers": {"List-Unsubscribe": "<x>"}}, "invalid_headers"),
        ({"headers": {"X-SES-Message-ID": "x"}}, "invalid_headers"),
        ({"headers": {"X-Campaign": "a\r\nBcc: victim@example.com"}}, "invalid_headers"),
        ({"headers": {"Bad Name": "x"}}, "invalid_headers"),
        ({"subject": "a\nb"}, "invalid_field"),
        ({"reply_to": "a@acme.example\r\nBcc: victim@example.com"}, "invalid_field"),
    ],
)
def test_it_explains_what_is_wrong_with_a_request(api_client, fields, code):
    response = api_client.post(URL, _body(**fields), format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["code"] == code
    assert not OutboundRecipient.objects.exists()


def test_a_missing_subject_is_a_field_error(api_client):
    body = _body()
    del body["subject"]
    response = api_client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "subject" in response.json()["details"]


def test_custom_headers_are_kept_for_sending(api_client):
    response = api_client.post(URL, _body(headers={"X-Campaign": "nov"}), format="json")
    assert response.status_code == 202
    assert OutboundRecipient.objects.first().email.headers == {"X-Campaign": "nov"}


def test_it_shows_status_and_human_counts_beside_totals(api_client, account, settings):
    settings.SENDING_MACHINE_OPEN_SECONDS = 0
    settings.SENDING_MACHINE_CLICK_SECONDS = 0
    email_id = api_client.post(URL, _body(), format="json").json()["id"]
    message = Message.objects.get(message_id=f"{email_id}-0")
    browser = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15"
    record_hit(message, OPEN, user_agent="Mozilla/5.0", ip="17.58.1.1")  # Apple prefetch
    record_hit(message, OPEN, user_agent=browser, ip="203.0.113.9")
    record_hit(message, OPEN, user_agent=browser, ip="203.0.113.9")
    record_hit(message, CLICK, user_agent="Mimecast Link Scanner", url="https://acme.example/")

    data = api_client.get(f"{URL}{email_id}/").json()
    assert data["opens"] == {"total": 3, "unique": 1, "human": 2, "human_unique": 1}
    assert data["clicks"] == {"total": 1, "unique": 1, "human": 0, "human_unique": 0}
    first = data["recipients"][0]
    assert first["opens"] == {"total": 3, "human": 2}
    assert first["status"] == "queued" and first["attempts"] == 0


def test_another_account_cannot_see_the_email(api_client, other_api_client):
    email_id = api_client.post(URL, _body(), format="json").json()["id"]
    assert other_api_client.get(f"{URL}{email_id}/").status_code == 404
    assert api_client.get(f"{URL}{email_id}/").status_code == 200


def test_it_needs_an_api_key(client):
    response = client.post(URL, _body(), content_type="application/json")
    assert response.status_code in (401, 403)
