"""SendEmail through the official SDK, mapped onto delivery.sending, and its status after."""

from __future__ import annotations

import base64
import json

import pytest
from django.utils import timezone
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.ses.v20201002 import models

from blocklist import changes, custom
from delivery.models import Message, OutboundEmail
from delivery.sending import add_sender_identity
from tests.blocklist.conftest import bounce, recipient_event
from tests.tencent.conftest import call

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_day")]

FROM = "Acme <news@mail.acme.example>"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _mail(**fields) -> dict:
    return {
        "FromEmailAddress": FROM,
        "Destination": ["carol@gmail.com"],
        "Subject": "November news",
        "Simple": {"Html": _b64("<p>Hello, 世界</p>"), "Text": _b64("Hello, 世界")},
        **fields,
    }


def _status(client, **filters) -> list[dict]:
    today = timezone.now().date().isoformat()
    body = call(client, "GetSendEmailStatus", RequestDate=today, Offset=0, Limit=100, **filters)
    return body["EmailStatusList"]


def _send_error(client, **fields) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as exc:
        call(client, "SendEmail", **_mail(**fields))
    return exc.value


@pytest.fixture
def sender(account):
    return add_sender_identity(account, "mail.acme.example", verified=True)


def test_it_sends_plain_content_and_reports_its_status(ses, account, sender):
    body = call(
        ses, "SendEmail", **_mail(Cc=["dave@gmail.com"], ReplyToAddresses="help@acme.example")
    )
    message_id = body["MessageId"]
    email = OutboundEmail.objects.get(account=account, email_id=message_id)
    assert (email.html, email.text, email.reply_to) == (
        "<p>Hello, 世界</p>",
        "Hello, 世界",
        "help@acme.example",
    )
    rows = _status(ses, MessageId=message_id)
    assert [(r["MessageId"], r["ToEmailAddress"]) for r in rows] == [
        (message_id, "carol@gmail.com"),
        (message_id, "dave@gmail.com"),
    ]
    assert {(r["SendStatus"], r["DeliverStatus"]) for r in rows} == {(0, 0)}
    assert rows[0]["FromEmailAddress"] == "news@mail.acme.example"


@pytest.mark.parametrize(
    ("block", "code", "send_status"),
    [
        (lambda a, to: bounce(a, to), "FailedOperation.EmailAddrInBlacklist", 1007),
        (
            lambda a, to: recipient_event(a, to, "unsubscribed"),
            "FailedOperation.ReceiverHasUnsubscribed",
            1013,
        ),
        (
            lambda a, to: recipient_event(a, to, "complained"),
            "FailedOperation.EmailAddrInBlacklist",
            1007,
        ),
        (
            lambda a, to: custom.add_custom_blocks(a, [to], actor=changes.SYSTEM),
            "FailedOperation.EmailAddrInBlacklist",
            1007,
        ),
    ],
    ids=["invalid-address", "unsubscribed", "complained", "custom"],
)
def test_a_blocked_recipient_fails_as_tencent_does_and_shows_in_the_status(
    ses, account, sender, block, code, send_status
):
    block(account, "blocked@gmail.com")
    exc = _send_error(ses, Destination=["blocked@gmail.com"])
    assert exc.code == code
    assert "blocked@gmail.com" in exc.message
    (row,) = _status(ses, ToEmailAddress="blocked@gmail.com")
    assert (row["SendStatus"], row["DeliverStatus"]) == (send_status, 2)
    rejected = Message.objects.get(
        account=account, recipient="blocked@gmail.com", status=Message.Status.REJECTED
    )
    assert row["DeliverMessage"] == rejected.response_text


def test_a_partly_blocked_send_succeeds_for_the_rest(ses, account, sender):
    bounce(account, "gone@gmail.com")
    body = call(ses, "SendEmail", **_mail(Destination=["gone@gmail.com", "carol@gmail.com"]))
    rows = {r["ToEmailAddress"]: r for r in _status(ses, MessageId=body["MessageId"])}
    assert (rows["gone@gmail.com"]["SendStatus"], rows["gone@gmail.com"]["DeliverStatus"]) == (
        1007,
        2,
    )
    assert (rows["carol@gmail.com"]["SendStatus"], rows["carol@gmail.com"]["DeliverStatus"]) == (
        0,
        0,
    )


def test_an_unverified_sender_is_refused(ses, account):
    assert _send_error(ses).code == "FailedOperation.NotAuthenticatedSender"


def test_another_accounts_sender_is_not_ours(other_ses, sender):
    assert _send_error(other_ses).code == "FailedOperation.NotAuthenticatedSender"


def test_templates_are_unsupported(ses, sender):
    exc = _send_error(ses, Simple=None, Template={"TemplateID": 1, "TemplateData": "{}"})
    assert exc.code == "UnsupportedOperation"


def test_more_than_50_destinations_are_refused(ses, sender):
    exc = _send_error(ses, Destination=[f"u{i}@gmail.com" for i in range(51)])
    assert exc.code == "FailedOperation.TooManyRecipients"


def test_content_must_be_base64(ses, sender):
    exc = _send_error(ses, Simple={"Text": "not base64!"})
    assert exc.code == "InvalidParameterValue.EmailContentIsWrong"


def test_content_is_required(ses, sender):
    assert _send_error(ses, Simple=None).code == "FailedOperation.MissingEmailContent"


def test_a_malformed_recipient_is_refused(ses, sender):
    exc = _send_error(ses, Destination=["not an address"])
    assert exc.code == "InvalidParameterValue.ReceiverEmailInvalid"


def test_custom_smtp_headers_are_kept(ses, account, sender):
    body = call(ses, "SendEmail", **_mail(SmtpHeaders='{"X-Campaign": "nov"}'))
    assert OutboundEmail.objects.get(email_id=body["MessageId"]).headers == {"X-Campaign": "nov"}


@pytest.mark.parametrize("subject", ["x" * 999, "two\nlines"])
def test_a_bad_subject_is_refused(ses, sender, subject):
    assert _send_error(ses, Subject=subject).code == "InvalidParameterValue.SubjectLengthError"


def test_header_injection_in_the_sender_is_refused(ses, sender):
    exc = _send_error(ses, FromEmailAddress="news@mail.acme.example\r\nBcc: x@evil.example")
    assert exc.code == "InvalidParameterValue"


def _send_with_key(client, key: str, **fields) -> dict:
    """SendEmail through the SDK with an `Idempotency-Key` header (the SDK sends a
    request's `headers`, and its own retries reuse them)."""
    request = models.SendEmailRequest()
    request._deserialize(_mail(**fields))
    request.headers = {"Idempotency-Key": key}
    return json.loads(client.SendEmail(request).to_json_string())


@pytest.mark.usefixtures("one_call_per_second")
def test_the_same_idempotency_key_sends_once(ses, account, sender):
    first = _send_with_key(ses, "order-4711")
    again = _send_with_key(ses, "order-4711")
    assert again["MessageId"] == first["MessageId"]
    assert OutboundEmail.objects.filter(account=account).count() == 1
    other = _send_with_key(ses, "order-4712")
    assert other["MessageId"] != first["MessageId"]
    assert OutboundEmail.objects.filter(account=account).count() == 2


@pytest.mark.usefixtures("one_call_per_second")
def test_an_idempotency_key_reused_with_another_body_is_refused(ses, account, sender):
    _send_with_key(ses, "order-4711")
    with pytest.raises(TencentCloudSDKException) as exc:
        _send_with_key(ses, "order-4711", Subject="Another subject")
    assert exc.value.code == "InvalidParameterValue"
    assert "Idempotency-Key" in exc.value.message
    assert OutboundEmail.objects.filter(account=account).count() == 1


@pytest.mark.usefixtures("one_call_per_second")
def test_a_refused_send_repeated_with_its_key_is_refused_alike_and_stored_once(
    ses, account, sender
):
    bounce(account, "blocked@gmail.com")
    errors = []
    for _ in range(2):
        with pytest.raises(TencentCloudSDKException) as exc:
            _send_with_key(ses, "order-4711", Destination=["blocked@gmail.com"])
        errors.append((exc.value.code, exc.value.message))
    assert errors[0] == errors[1]
    assert errors[0][0] == "FailedOperation.EmailAddrInBlacklist"
    assert OutboundEmail.objects.filter(account=account).count() == 1


@pytest.mark.usefixtures("one_call_per_second")
def test_a_send_refused_before_storing_leaves_its_key_free(ses, account, sender):
    with pytest.raises(TencentCloudSDKException):
        _send_with_key(ses, "order-4711", Destination=["not an address"])
    assert _send_with_key(ses, "order-4711")["MessageId"]
    assert OutboundEmail.objects.filter(account=account).count() == 1


def test_idempotency_keys_are_per_account(ses, other_ses, account, other_account, sender):
    add_sender_identity(other_account, "mail.acme.example", verified=True)
    mine = _send_with_key(ses, "order-4711")
    theirs = _send_with_key(other_ses, "order-4711")
    assert mine["MessageId"] != theirs["MessageId"]
