"""Returned reports on real-world samples: DSNs become bounced/deferred, ARF complained."""

from __future__ import annotations

import hashlib
import io
import json
import sys
from pathlib import Path

import pytest
from django.core.management import call_command

from delivery.intake import intake
from delivery.models import DeliveryEvent, InboundReport, Message, OutboundRecipient
from delivery.reports import parse_report
from delivery.sending import SendRequest, add_sender_identity, send_email
from tests.delivery.bounce_reports import dsn_report, forwarded_as_attachment, qmail_report

pytestmark = pytest.mark.django_db

SAMPLES = Path("/work/shared/cases/bounces")
EXPECTED = {
    row["file"]: row
    for row in map(json.loads, (SAMPLES / "expected.jsonl").read_text().splitlines())
    if row["index"] == 1
}


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def _sent(account, to: str, smtp_message_id: str | None = None) -> OutboundRecipient:
    """A message we sent to `to`; with `smtp_message_id`, the Message-ID it carried."""
    add_sender_identity(account, "mail.acme.example", verified=True)
    req = SendRequest(from_address="news@mail.acme.example", to=[to], subject="Hi", text="x")
    row = send_email(account, req).recipient_rows[0]
    if smtp_message_id:
        row.smtp_message_id = smtp_message_id
        row.save(update_fields=["smtp_message_id"])
    return row


@pytest.mark.parametrize(
    ("name", "to", "original_id"),
    [
        (
            "lhost-postfix-04.eml",
            "kijitora@example.co.jp",
            "<A8F82EDD-E518-4F5C-8C70-BC4EFF24AB9F@example.ne.jp>",
        ),
        (
            "rfc3464-08.eml",
            "kijitora@example.net",
            "<000000000000000000000000000000@mx.example.or.jp>",
        ),
        (
            "lhost-postfix-03.eml",
            "kijitora@example.net",
            "<20140701000000.000000000000@e1.example.ne.jp>",
        ),
    ],
)
def test_a_dsn_becomes_a_classified_bounce_of_the_original_message(account, name, to, original_id):
    row = _sent(account, to, original_id)
    report = intake(sample(name))
    assert (report.status, report.kind, report.message_id) == ("matched", "bounce", row.message_id)
    event = DeliveryEvent.objects.get(message__message_id=row.message_id, type="bounced")
    accept = set(EXPECTED[name]["accept"])
    if "blocked_or_spam" in accept:  # the labels join two of our classes
        accept |= {"blocked", "spam_rejected"}
    assert event.bounce_class in accept
    assert Message.objects.get(message_id=row.message_id).status == "bounced"


def test_a_delayed_dsn_becomes_a_deferred_event(account):
    row = _sent(account, "kijitora@example.net", "<000000000000000@list.example.jp>")
    report = intake(sample("rfc3464-07.eml"))
    assert report.events == 1
    event = DeliveryEvent.objects.get(message__message_id=row.message_id, type="deferred")
    assert event.smtp_enhanced == "4.4.0"


def test_an_arf_report_becomes_a_complaint_and_a_reject_block(account):
    from blocklist.gate import check

    to = "this-local-part-does-not-exist-on-yahoo@yahoo.com"
    row = _sent(account, to, "<000000000000000000000000.smtp@example.com>")
    report = intake(sample("arf-02.eml"))
    assert (report.status, report.kind, report.message_id) == (
        "matched",
        "complaint",
        row.message_id,
    )
    assert DeliveryEvent.objects.filter(type="complained").count() == 1
    assert check(account, [to])[to].reject_reason == "complained"


def test_our_header_wins_over_the_message_id(account):
    """A bounce quoting X-SES-Message-ID matches that message even if Message-IDs differ."""
    row = _sent(account, "kijitora@example.co.jp")
    raw = sample("lhost-postfix-04.eml").replace(
        b"Message-Id: <A8F82EDD",
        f"X-SES-Message-ID: {row.message_id}\nMessage-Id: <A8F82EDD".encode(),
    )
    assert f"X-SES-Message-ID: {row.message_id}".encode() in raw
    assert intake(raw).message_id == row.message_id


def test_a_report_quoting_thousands_of_ids_is_matched_in_one_query(
    account, django_assert_max_num_queries
):
    # Each quoted id was one query: a hostile report could make thousands.
    row = _sent(account, "kijitora@example.co.jp")
    strangers = b"".join(f"X-SES-Message-ID: {n:032x}-0\n".encode() for n in range(2000))
    raw = sample("lhost-postfix-04.eml").replace(
        b"Message-Id: <A8F82EDD",
        strangers + f"X-SES-Message-ID: {row.message_id}\nMessage-Id: <A8F82EDD".encode(),
    )
    with django_assert_max_num_queries(50):
        report = intake(raw)
    assert report.message_id == row.message_id


def test_a_bounce_forwarded_as_an_attachment_is_taken_in_for_the_message_it_returns(account):
    """A person forwards a plain-text bounce that quotes no reply code ("Forward as
    attachment"): it is read as it stands, and its returned copy names our message."""
    row = _sent(account, "kijitora@example.net")
    bounce = qmail_report("<kijitora@example.net>:\nSorry, no mailbox here by that name.\n")
    bounce += f"\nX-SES-Message-ID: {row.message_id}\nSubject: Hi\n\nx\n".encode()

    report = intake(forwarded_as_attachment(bounce))

    assert (report.status, report.kind, report.message_id) == ("matched", "bounce", row.message_id)
    event = DeliveryEvent.objects.get(message__message_id=row.message_id, type="bounced")
    (direct,) = parse_report(bounce).failed
    assert event.bounce_class == direct.bounce_class  # as if it had come on its own


def _quote_our_header(raw: bytes, message_id: str) -> bytes:
    """Put X-SES-Message-ID among the returned original's headers (before its Subject)."""
    at = raw.rindex(b"Subject:")
    newline = b"\r\n" if b"\r\n" in raw else b"\n"
    return raw[:at] + f"X-SES-Message-ID: {message_id}".encode() + newline + raw[at:]


def test_line_endings_do_not_change_the_result(account):
    name = "lhost-postfix-01.eml"
    to = "r@p351355.pool.example.ne.jp"
    lf_row, crlf_row = _sent(account, to), _sent(account, to)
    lf = intake(_quote_our_header(sample(name), lf_row.message_id))
    crlf = intake(_quote_our_header((SAMPLES / "crlf" / name).read_bytes(), crlf_row.message_id))
    assert (lf.message_id, crlf.message_id) == (lf_row.message_id, crlf_row.message_id)
    classes = DeliveryEvent.objects.filter(type="bounced").values_list("bounce_class", flat=True)
    assert list(classes) == [EXPECTED[name]["class"]] * 2


def test_a_report_taken_in_twice_counts_once(account):
    row = _sent(
        account, "kijitora@example.net", "<000000000000000000000000000000@mx.example.or.jp>"
    )
    first = intake(sample("rfc3464-08.eml"))
    again = intake(sample("rfc3464-08.eml"))
    assert first.pk == again.pk
    assert (
        DeliveryEvent.objects.filter(message__message_id=row.message_id, type="bounced").count()
        == 1
    )


@pytest.mark.parametrize(
    ("raw", "status"),
    [
        (sample("lhost-postfix-04.eml"), "unmatched"),  # a bounce of mail we never sent
        (sample("arf-01.eml"), "unmatched"),
        (sample("is-not-bounce-01.eml"), "not_a_report"),
        (b"\x00\xff garbage that is no mail at all", "not_a_report"),
    ],
)
def test_unmatched_and_unparsable_mail_is_kept_for_review(db, raw, status):
    report = intake(raw)
    kept = InboundReport.objects.get(pk=report.pk)
    assert kept.status == status
    assert bytes(kept.raw) == raw
    assert kept.note
    assert not DeliveryEvent.objects.exists()


def test_a_message_that_cannot_be_read_is_kept_with_the_reason(db, caplog):
    # Nested 1,200 multiparts deep: deeper than Python's recursion limit.
    raw = b"".join(
        b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (i, i) for i in range(1200)
    )
    report = intake(raw)

    kept = InboundReport.objects.get(pk=report.pk)
    assert (kept.status, bytes(kept.raw)) == ("not_a_report", raw)
    assert kept.note.startswith("Could not be read (RecursionError")
    assert "A returned message could not be read" in caplog.text


def test_reports_only_match_the_account_that_sent_with_an_api_key(account, other_account):
    row = _sent(
        account, "kijitora@example.net", "<000000000000000000000000000000@mx.example.or.jp>"
    )
    assert intake(sample("rfc3464-08.eml"), account=other_account).status == "unmatched"
    assert not DeliveryEvent.objects.filter(message__message_id=row.message_id, type="bounced")


def test_one_accounts_copy_of_a_report_never_answers_anothers(account, other_account):
    """The same bytes sent in by two accounts are two reports: each matches its own mail."""
    row = _sent(
        account, "kijitora@example.net", "<000000000000000000000000000000@mx.example.or.jp>"
    )
    # The other account sends it first: not its mail.
    theirs = intake(sample("rfc3464-08.eml"), account=other_account)
    assert (theirs.status, theirs.message_id) == ("unmatched", "")
    # The sender's own copy still bounces its message.
    mine = intake(sample("rfc3464-08.eml"), account=account)
    assert mine.pk != theirs.pk
    assert (mine.status, mine.message_id, mine.events) == ("matched", row.message_id, 1)
    # Sent in again by the other account, its answer names no message of ours.
    again = intake(sample("rfc3464-08.eml"), account=other_account)
    assert (again.pk, again.message_id) == (theirs.pk, "")
    # The mail intake's copy (no submitter) counts nothing twice: its events share their keys.
    staff = intake(sample("rfc3464-08.eml"))
    assert (staff.status, staff.events) == ("matched", 0)
    assert intake(sample("rfc3464-08.eml")).pk == staff.pk
    bounced = DeliveryEvent.objects.filter(message__message_id=row.message_id, type="bounced")
    assert bounced.count() == 1


# --- the command and the endpoint ---------------------------------------------------------


def test_the_command_reads_one_message_from_stdin(account, monkeypatch):
    row = _sent(
        account, "kijitora@example.net", "<000000000000000000000000000000@mx.example.or.jp>"
    )
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sample("rfc3464-08.eml"))))
    out = io.StringIO()
    call_command("intake_mail", stdout=out)
    assert out.getvalue().strip() == f"Matched: bounce report for {row.message_id}, 1 event(s)."


def test_the_command_refuses_a_message_larger_than_the_endpoint_takes(db, monkeypatch, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"Subject: x\n\n" + b"y" * 1000)))
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("intake_mail", stderr=err)
    assert exit_.value.code == 65  # EX_DATAERR: the MTA returns it to the postmaster
    assert "larger than 1,000 bytes" in err.getvalue()
    assert not InboundReport.objects.exists()


def test_the_endpoint_takes_the_raw_message_with_an_api_key(account, api_client):
    row = _sent(
        account, "kijitora@example.net", "<000000000000000000000000000000@mx.example.or.jp>"
    )
    response = api_client.post(
        "/api/v1/intake/", sample("rfc3464-08.eml"), content_type="message/rfc822"
    )
    assert response.status_code == 200
    data = response.json()
    assert (data["status"], data["kind"], data["message_id"], data["events"]) == (
        "matched",
        "bounce",
        row.message_id,
        1,
    )


def test_the_endpoint_needs_authentication(client):
    response = client.post("/api/v1/intake/", b"x", content_type="message/rfc822")
    assert response.status_code in (401, 403)
    assert not InboundReport.objects.exists()


def test_staff_intake_matches_across_accounts(account, staff_client):
    row = _sent(
        account, "kijitora@example.net", "<000000000000000000000000000000@mx.example.or.jp>"
    )
    response = staff_client.post(
        "/api/v1/intake/", sample("rfc3464-08.eml"), content_type="message/rfc822"
    )
    assert response.json()["message_id"] == row.message_id


def test_staff_match_a_kept_report_again_once_the_message_is_known(account, staff_client):
    from django.urls import reverse

    kept = intake(sample("rfc3464-08.eml"))
    assert kept.status == "unmatched"
    row = _sent(
        account, "kijitora@example.net", "<000000000000000000000000000000@mx.example.or.jp>"
    )
    response = staff_client.post(
        reverse("admin:delivery_inboundreport_changelist"),
        {"action": "match_again", "_selected_action": [kept.pk]},
        follow=True,
    )
    assert b"Matched 1 report(s)." in response.content
    kept.refresh_from_db()
    assert (kept.status, kept.message_id, kept.events) == ("matched", row.message_id, 1)
    assert DeliveryEvent.objects.filter(type="bounced").count() == 1


def test_staff_read_a_report_the_reader_missed_again(account, staff_client):
    # A report kept as "not a report" (as the DSN with an empty Action field twice was, before
    # the reader was fixed) is read again; once matched, it is left as it is.
    from django.urls import reverse

    row = _sent(account, "bob@example.org")
    raw = dsn_report(
        "Final-Recipient: rfc822; bob@example.org\nStatus: 5.1.1\n\n"
        f"--B\nContent-Type: text/rfc822-headers\n\nX-SES-Message-ID: {row.message_id}\n"
        "From: news@mail.acme.example\nTo: bob@example.org\nSubject: Hi\n"
    )
    kept = InboundReport.objects.create(
        sha256=hashlib.sha256(raw).hexdigest(),
        raw=raw,
        status="not_a_report",
        kind="not_a_bounce",
        note="Could not be read (IndexError: list index out of range); kept for review.",
    )
    said = [
        staff_client.post(
            reverse("admin:delivery_inboundreport_changelist"),
            {"action": "match_again", "_selected_action": [kept.pk]},
            follow=True,
        ).content
        for _ in range(2)
    ]
    assert b"Matched 1 report(s)." in said[0]
    assert b"Matched 0 report(s)." in said[1]  # matched now: left as it is
    kept.refresh_from_db()
    assert (kept.status, kept.kind, kept.message_id) == ("matched", "bounce", row.message_id)
    assert DeliveryEvent.objects.filter(type="bounced").count() == 1


def test_every_public_sample_is_taken_in_and_kept(db):
    files = sorted(SAMPLES.glob("*.eml")) + sorted((SAMPLES / "crlf").glob("*.eml"))
    for path in files:
        intake(path.read_bytes())
    assert InboundReport.objects.count() == len(files)
    kinds = dict(InboundReport.objects.values_list("sha256", "kind"))
    assert set(InboundReport.objects.values_list("status", flat=True)) <= {
        "unmatched",
        "not_a_report",
    }
    complaints = [p for p in files if p.name.startswith("arf-")]
    assert all(kinds[hashlib.sha256(p.read_bytes()).hexdigest()] == "complaint" for p in complaints)
    assert not DeliveryEvent.objects.exists()
