from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from blocklist.models import Block
from delivery.models import DeliveryEvent, Message
from sesconsole.models import ApiKey
from tests.events import make_event

pytestmark = pytest.mark.django_db

URL = reverse("api:events")


def post(client, body):
    return client.post(URL, body, format="json")


# --- authentication ---------------------------------------------------------------------


def test_it_requires_a_key():
    response = post(APIClient(), [make_event()])
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_it_rejects_a_wrong_key(account):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ses_not-a-real-key")
    response = post(client, [make_event()])
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "message": "Invalid API key.",
        "details": {},
    }


def test_it_rejects_a_revoked_key(account, api_client):
    ApiKey.objects.get(account=account).revoke()
    response = post(api_client, [make_event()])
    assert response.status_code == 401
    assert response.json()["message"] == "This API key has been revoked."
    assert not Message.objects.exists()


def test_it_records_key_use(account, api_client):
    post(api_client, [make_event()])
    assert ApiKey.objects.get(account=account).last_used_at is not None


# --- the happy path ---------------------------------------------------------------------


def test_it_stores_a_batch(account, api_client):
    events = [
        make_event("request", "m1", subject="November news"),
        make_event(
            "delivered",
            "m1",
            timestamp="2026-11-28T10:00:02Z",
            smtp={"code": 250, "enhanced": "2.0.0", "text": "250 2.0.0 OK"},
        ),
    ]
    response = post(api_client, events)
    assert response.status_code == 200
    assert response.json() == {"accepted": 2, "duplicates": 0, "errors": []}
    message = Message.objects.get(account=account, message_id="m1")
    assert message.status == Message.Status.DELIVERED
    assert message.recipient == "alice@gmail.com"
    assert message.recipient_domain == "gmail.com"
    assert message.sender_domain == "mail.example.com"
    assert message.subject == "November news"
    assert message.response_text == "250 2.0.0 OK"
    assert message.requested_at.isoformat() == "2026-11-28T10:00:00+00:00"


def test_it_accepts_the_events_envelope_and_epoch_millis(account, api_client):
    event = make_event("request", "m1", timestamp=1764324000123)
    response = post(api_client, {"events": [event]})
    assert response.json()["accepted"] == 1
    stored = DeliveryEvent.objects.get()
    assert stored.timestamp.isoformat() == "2025-11-28T10:00:00.123000+00:00"


def test_it_classifies_bounces_that_carry_no_class(account, api_client):
    post(
        api_client,
        [
            make_event("request", "m1"),
            make_event(
                "bounced",
                "m1",
                timestamp="2026-11-28T10:00:05Z",
                smtp={"code": 550, "enhanced": "5.1.1", "text": "550 5.1.1 user unknown"},
            ),
        ],
    )
    message = Message.objects.get()
    assert message.status == Message.Status.BOUNCED
    assert message.bounce_class == "invalid_address"


@pytest.mark.parametrize(
    ("to", "expected"),
    [("gone@hotmail.com", "invalid_address"), ("gone@example.org", "other")],
)
def test_a_bounce_is_read_by_the_recipient_domain_it_names(account, api_client, to, expected):
    # Outlook.com documents this generic RFC 5321 text as "no such recipient" for its mailboxes.
    reply = {
        "code": 550,
        "enhanced": "5.5.0",
        "text": "550 5.5.0 Requested action not taken: mailbox unavailable.",
    }
    post(
        api_client,
        [
            make_event("request", "m1", to=to),
            make_event("bounced", "m1", timestamp="2026-11-28T10:00:05Z", to=to, smtp=reply),
        ],
    )
    assert Message.objects.get().bounce_class == expected


MAILBOX_UNAVAILABLE = {
    "code": 550,
    "enhanced": "5.5.0",
    "text": "550 5.5.0 Requested action not taken: mailbox unavailable.",
}


@pytest.mark.parametrize("earlier_batch", [False, True])
def test_a_bounce_without_to_is_read_at_its_message_recipient(account, api_client, earlier_batch):
    # The request (in this batch or an earlier one) says whom the message went to.
    request = make_event("request", "m1", to="gone@hotmail.com")
    bounced = make_event(
        "bounced", "m1", timestamp="2026-11-28T10:00:05Z", smtp=MAILBOX_UNAVAILABLE
    )
    if earlier_batch:
        post(api_client, [request])
        post(api_client, [bounced])
    else:
        post(api_client, [request, bounced])
    event = DeliveryEvent.objects.get(type="bounced")
    assert (event.bounce_class, event.bounce_evidence) == ("invalid_address", "wording")
    assert Message.objects.get().bounce_class == "invalid_address"
    assert Block.objects.get().address == "gone@hotmail.com"


@pytest.mark.parametrize(
    "given, expected",
    [
        # The message's recipient is at a domain where the text proves nothing.
        ({"to_of_request": "gone@example.org"}, "other"),
        # A class the caller gave is the caller's.
        ({"bounce_class": "other"}, "other"),
        # No message known: nothing to read the domain from.
        ({"no_request": True}, "other"),
    ],
)
def test_a_bounce_without_to_keeps_its_class_otherwise(account, api_client, given, expected):
    events = []
    if not given.get("no_request"):
        events.append(make_event("request", "m1", to=given.get("to_of_request", "gone@live.com")))
    bounced = make_event(
        "bounced", "m1", timestamp="2026-11-28T10:00:05Z", smtp=MAILBOX_UNAVAILABLE
    )
    if "bounce_class" in given:
        bounced["bounce_class"] = given["bounce_class"]
    post(api_client, [*events, bounced])
    assert DeliveryEvent.objects.get(type="bounced").bounce_class == expected
    assert not Block.objects.exists()


# --- exactly once -----------------------------------------------------------------------


def test_a_repeated_batch_changes_nothing(account, api_client):
    events = [
        make_event("request", "m1"),
        make_event("opened", "m1", timestamp="2026-11-28T11:00:00Z"),
    ]
    post(api_client, events)
    response = post(api_client, events)
    assert response.json() == {"accepted": 0, "duplicates": 2, "errors": []}
    assert DeliveryEvent.objects.count() == 2
    assert Message.objects.get().open_count == 1


def test_a_repeat_inside_one_batch_counts_once(account, api_client):
    opened = make_event("opened", "m1", timestamp="2026-11-28T11:00:00Z")
    response = post(api_client, [make_event("request", "m1"), opened, dict(opened)])
    assert response.json() == {"accepted": 2, "duplicates": 1, "errors": []}
    assert Message.objects.get().open_count == 1


# --- out of order -----------------------------------------------------------------------


def test_an_event_may_arrive_before_its_request(account, api_client):
    bounce = make_event(
        "bounced",
        "m1",
        timestamp="2026-11-28T10:00:05Z",
        to="Bob@Example.COM",
        smtp={"code": 552, "enhanced": "5.2.2", "text": "552 5.2.2 mailbox full"},
    )
    post(api_client, [bounce])
    message = Message.objects.get()
    assert message.status == Message.Status.BOUNCED
    # Listed at its earliest known event until its request arrives.
    assert message.requested_at.isoformat() == "2026-11-28T10:00:05+00:00"
    assert message.request_received is False
    assert message.recipient == "bob@example.com"

    post(api_client, [make_event("request", "m1", subject="Hello")])
    message.refresh_from_db()
    assert message.status == Message.Status.BOUNCED  # the request does not undo the bounce
    assert message.bounce_class == "mailbox_full"
    assert message.requested_at.isoformat() == "2026-11-28T10:00:00+00:00"
    assert message.request_received is True
    assert message.subject == "Hello"
    assert message.recipient == "alice@gmail.com"  # the request is authoritative


def test_a_late_deferral_does_not_undo_a_delivery(account, api_client):
    post(
        api_client,
        [
            make_event("request", "m1"),
            make_event("delivered", "m1", timestamp="2026-11-28T10:20:00Z"),
        ],
    )
    post(
        api_client,
        [
            make_event(
                "deferred",
                "m1",
                timestamp="2026-11-28T10:05:00Z",
                smtp={"code": 451, "enhanced": "4.7.1", "text": "451 greylisted"},
            )
        ],
    )
    message = Message.objects.get()
    assert message.status == Message.Status.DELIVERED
    assert message.status_at.isoformat() == "2026-11-28T10:20:00+00:00"


def test_opens_keep_the_earliest_time_whatever_the_order(account, api_client):
    post(api_client, [make_event("opened", "m1", timestamp="2026-11-28T12:00:00Z")])
    post(api_client, [make_event("opened", "m1", timestamp="2026-11-28T11:00:00Z")])
    message = Message.objects.get()
    assert message.open_count == 2
    assert message.first_opened_at.isoformat() == "2026-11-28T11:00:00+00:00"


# --- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"type": "exploded"}, "invalid_type"),
        ({"id": ""}, "missing_field"),
        ({"id": "x" * 129}, "invalid_field"),
        ({"timestamp": "2026-11-28T10:00:00"}, "invalid_timestamp"),
        ({"timestamp": "yesterday"}, "invalid_timestamp"),
        ({"timestamp": 1764324000}, "invalid_timestamp"),  # seconds, not milliseconds
        ({"to": "not-an-address"}, "invalid_address"),
        ({"to": None}, "missing_field"),
        ({"smtp": {"code": 999}}, "invalid_field"),
        ({"smtp": "550 user unknown"}, "invalid_field"),
        ({"ip": "999.1.1.1"}, "invalid_field"),
    ],
)
def test_a_bad_item_is_reported_and_the_rest_stored(account, api_client, change, code):
    bad = {**make_event("request", "bad"), **change}
    response = post(
        api_client, [make_event("request", "good-1"), bad, make_event("request", "good-2")]
    )
    assert response.status_code == 200
    body = response.json()
    assert body["accepted"] == 2
    assert [(e["index"], e["code"]) for e in body["errors"]] == [(1, code)]
    assert body["errors"][0]["message"]
    assert set(Message.objects.values_list("message_id", flat=True)) == {"good-1", "good-2"}


def test_a_click_needs_a_web_url(account, api_client):
    response = post(api_client, [make_event("clicked", "m1", url="javascript:alert(1)")])
    assert response.json()["errors"][0]["code"] == "invalid_field"


def test_a_non_object_item_is_reported(account, api_client):
    response = post(api_client, ["hello", make_event()])
    assert response.json()["accepted"] == 1
    assert response.json()["errors"] == [
        {"index": 0, "code": "not_an_object", "message": "Each event must be a JSON object."}
    ]


def test_an_oversized_batch_is_refused_whole(account, api_client):
    events = [make_event("request", f"m{i}") for i in range(1001)]
    response = post(api_client, events)
    assert response.status_code == 413
    assert response.json()["code"] == "batch_too_large"
    assert not Message.objects.exists()


def test_a_body_that_is_no_batch_is_refused(account, api_client):
    response = post(api_client, {"id": "evt-1"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_batch"


def test_malformed_json_is_refused(account, api_client):
    response = api_client.post(URL, "[{", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


# --- tenants ----------------------------------------------------------------------------


def test_tenants_have_their_own_event_ids_and_messages(
    account, other_account, api_client, other_api_client
):
    events = [make_event("request", "m1", id="same-id")]
    assert post(api_client, events).json()["accepted"] == 1
    assert post(other_api_client, events).json()["accepted"] == 1
    assert Message.objects.filter(account=account).count() == 1
    assert Message.objects.filter(account=other_account).count() == 1


def test_a_key_only_writes_to_its_own_account(account, other_account, api_client):
    post(api_client, [make_event("request", "m1")])
    assert not Message.objects.filter(account=other_account).exists()
    # An event naming another tenant's message id creates a message in the sender's account.
    post(api_client, [make_event("opened", "m1")])
    assert Message.objects.get(account=account).open_count == 1


def test_staff_must_name_the_account(client, staff_user, account):
    client.force_login(staff_user)
    response = client.post(URL, [make_event()], content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "account_required"
    response = client.post(f"{URL}?account=acme", [make_event()], content_type="application/json")
    assert response.json()["accepted"] == 1
    assert Message.objects.get().account == account


def test_a_member_without_a_key_acts_for_their_account(client, alice, account):
    client.force_login(alice)
    response = client.post(URL, [make_event()], content_type="application/json")
    assert response.status_code == 200
    assert Message.objects.get().account == account
