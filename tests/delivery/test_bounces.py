from __future__ import annotations

import pytest

from delivery import simulation
from delivery.bounce_evaluation import switched_off_without
from delivery.bounces import (
    ACTIVE_RULES,
    classify_reply,
    classify_texts,
    find_enhanced_status,
    is_hard,
    judge,
)
from delivery.models import BounceClass
from delivery.provenance import PROVENANCE


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "expected"),
    [
        # Unknown users and domains, in the words of different servers.
        (
            550,
            "5.1.1",
            "550 5.1.1 The email account that you tried to reach does not exist.",
            "invalid_address",
        ),
        (
            550,
            "",
            "550 Requested action not taken: mailbox unavailable (no such user)",
            "invalid_address",
        ),
        (550, "5.0.0", "<kijitora@example.jp>... User Unknown", "invalid_address"),
        (
            None,
            "",
            "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)",
            "invalid_address",
        ),
        (550, "", "550 Host unknown", "invalid_address"),
        (550, "5.1.10", "Recipient address has null MX", "invalid_address"),
        # A disabled mailbox exists (RFC 3463 X.2.1) and may come back: not proof.
        (550, "5.2.1", "550 5.2.1 This mailbox has been disabled", "other"),
        # Full mailboxes.
        (552, "5.2.2", "552 5.2.2 Over quota", "mailbox_full"),
        (550, "5.0.0", "User mailbox exceeds allowed size", "mailbox_full"),
        (452, "4.2.2", "The email account that you tried to reach is over quota.", "mailbox_full"),
        (None, "", "送信先のメールボックスが一杯のため、容量オーバーです", "mailbox_full"),
        (550, "", "ErrMsg=mail box space not enough, account=dylan", "mailbox_full"),
        # Policy blocks: sender, relaying, reverse DNS, lists, authentication.
        (553, "5.1.8", "Domain of sender address root@example.com does not exist", "blocked"),
        (
            554,
            "",
            "554 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
            "blocked",
        ),
        (550, "5.7.1", "550 5.7.1 IP address blacklisted by recipient", "blocked"),
        (
            550,
            "5.7.25",
            "The IP address sending this message does not have a PTR record",
            "blocked",
        ),
        (
            550,
            "5.7.26",
            "Unauthenticated email from example.com is not accepted due to DMARC policy",
            "blocked",
        ),
        (554, "", "554 5.7.1 <x@example.org>: Relay access denied", "blocked"),
        # Content refused as spam or virus.
        (550, "5.7.1", "Message rejected as spam by Content Filtering", "spam_rejected"),
        (
            554,
            "",
            "554 5.7.1 This message has been blocked because it contains a virus",
            "spam_rejected",
        ),
        (550, "5.6.0", "Media error", "spam_rejected"),
        (550, "", "Message refused: viruses found", "spam_rejected"),
        # A gateway named for viruses is no reason: the delivery attempts ran out.
        (
            None,
            "",
            "Message from InterScan E-Mail VirusWall NT. The following mail could not be"
            " delivered. Reason: Exceeded Maximum Delivery Attempts.",
            "other",
        ),
        # Everything else.
        (552, "5.3.4", "Message size exceeds fixed maximum message size", "other"),
        (421, "4.4.2", "Connection timed out", "other"),
        (452, "4.3.2", "Connection rate limit exceeded", "other"),
        (None, "", "", "other"),
    ],
)
def test_it_classifies_typical_replies(code, enhanced, text, expected):
    assert classify_reply(code, enhanced, text) == expected


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "expected"),
    [
        (
            550,
            "5.1.10",
            "RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
            "invalid_address",
        ),
        (
            550,
            "5.4.1",
            "Recipient address rejected: Access denied. AS(201806281)",
            "invalid_address",
        ),
        (
            550,
            "",
            "Mailbox not found. http://service.mail.qq.com/cgi-bin/help?subtype=1",
            "invalid_address",
        ),
        (
            554,
            "",
            "delivery error: dd This user doesn't have a yahoo.com account",
            "invalid_address",
        ),
        # The code says no such mailbox, the words that it exists, switched off: conflicting.
        (550, "5.1.1", "<x@icloud.com>: inactive email address", "other"),
        (550, "5.2.2", "STOREDRV.Deliver.Exception:QuotaExceededException", "mailbox_full"),
        (552, "", "Requested mail action aborted: exceeded mailsize limit", "other"),
        (554, "", "DT:SPM 163 smtp14, the message has been blocked as spam", "spam_rejected"),
        (421, "4.7.0", "[TSS04] Messages temporarily deferred due to user complaints", "blocked"),
        (
            550,
            "",
            "SC-001 Unfortunately, messages from 192.0.2.1 weren't sent: part of their network is on our block list",
            "blocked",
        ),
        (554, "5.7.1", "[CS01] Message rejected due to local policy", "blocked"),
        (550, "", "Administrative prohibition - envelope blocked", "blocked"),
        (421, "", "server refused to talk to me: 421 Service not available", "blocked"),
        (
            550,
            "5.7.1",
            "The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered",
            "other",
        ),
        (550, "5.4.5", "Daily user sending quota exceeded", "other"),
        (550, "", "Ip frequency limited", "other"),
        (550, "5.1.1", "Adresse d au moins un destinataire invalide", "invalid_address"),
        (552, "", "Postfach ist voll", "mailbox_full"),
    ],
)
def test_it_knows_the_wording_of_large_providers(code, enhanced, text, expected):
    assert classify_reply(code, enhanced, text) == expected


def test_the_reporting_host_is_not_the_rejected_one():
    text = (
        "host mx[192.0.2.1] said: 550 <bob@example.com>: Recipient address rejected: "
        "User unknown in local recipient table (in reply to RCPT TO command)"
    )
    assert classify_reply(None, "", text) == "invalid_address"


def test_it_prefers_a_specific_code_over_vague_wording():
    assert classify_reply(550, "5.1.1", "Recipient address rejected") == "invalid_address"
    assert classify_reply(550, "5.0.0", "Recipient address rejected") == "blocked"


def test_it_reads_the_enhanced_code_from_the_text_when_none_is_given():
    assert classify_reply(550, "", "550 5.2.2 <x@example.org>... Sorry") == "mailbox_full"
    # A generic status from the reporting MTA yields to the server's own, more specific code.
    assert classify_reply(550, "5.0.0", "550 5.1.1 sorry") == "invalid_address"


def test_it_does_not_read_ip_addresses_as_status_codes():
    assert classify_reply(None, "", "host 10.5.1.1 said nothing useful") == "other"


def test_it_ignores_links_and_their_paths():
    text = "550 5.7.1 Rejected. See https://example.org/en/reason/#mailboxfull"
    assert classify_reply(550, "", text) == "blocked"


def test_local_parts_of_addresses_are_not_wording():
    text = "550 <mailbox-full-spam@example.org>... User unknown"
    assert classify_reply(550, "", text) == "invalid_address"


def test_a_temporary_failure_never_proves_an_address_invalid():
    assert classify_reply(450, "4.1.1", "4.1.1 host name lookup failure") == "other"


def test_user_unknown_after_the_message_data_is_a_content_filter():
    text = "550 Unknown user kijitora@example.net (in reply to end of DATA command)"
    assert classify_reply(550, "", text) == "spam_rejected"
    assert classify_reply(550, "", "550 Unknown user (in reply to RCPT TO command)") == (
        "invalid_address"
    )


def test_in_a_report_an_unknown_user_needs_the_rcpt_stage_or_an_address_status():
    bare = "550 Unknown user"
    # Our own SMTP client saw the reply: take it at its word.
    assert classify_reply(550, "", bare) == "invalid_address"
    # A gateway's report with no stage and a generic status: a filter, probably.
    assert classify_texts(550, "5.0.0", [bare], in_report=True) == "spam_rejected"
    assert classify_texts(550, "5.0.0", [bare, ">>> RCPT To:<x>"], in_report=True) == (
        "invalid_address"
    )
    assert classify_texts(550, "5.1.1", [bare], in_report=True) == "invalid_address"
    # Unknown domains are not about the stage; a disabled mailbox may come back: no proof.
    assert classify_texts(550, "", ["This account has been disabled"], in_report=True) == "other"
    assert classify_texts(550, "", ["Host unknown"], in_report=True) == "invalid_address"


def test_in_a_report_an_unknown_user_under_a_mailbox_status_needs_the_rcpt_stage_too():
    # 5.2.x says the mailbox exists (RFC 3463 X.2.1): never an invalid address. With no RCPT
    # stage shown it is a filter refusing this message, as for rule 8; at RCPT TO the words and
    # the code conflict, so no class is claimed.
    bare = "550 5.2.1 <x@example.com>... Unknown user"
    assert classify_texts(550, "5.2.1", [bare], in_report=True) == "spam_rejected"
    at_rcpt = [bare, "SMTP error from remote server after RCPT command"]
    assert classify_texts(550, "5.2.1", at_rcpt, in_report=True) == "other"
    # The server's own reply, seen by our SMTP client: conflicting, no class claimed.
    assert classify_reply(550, "5.2.1", bare) == "other"


@pytest.mark.parametrize(
    "texts",
    [
        # Postfix and Exim name the command a reply answered; at MAIL FROM no recipient had
        # been given yet (RFC 5321 §3.3), so what is unknown is the sender.
        ["550 5.1.1 <news@acme.example>... User unknown (in reply to MAIL FROM command)"],
        [
            "SMTP error from remote mail server after MAIL FROM:<news@acme.example> SIZE=1022:",
            "553 5.1.0 acme.example does not exist",
        ],
        ["550 5.1.1 Unknown user (in reply to MAIL FROM command)", ">>> RCPT To:<bob@x.org>"],
        ["550 Unknown user news@acme.example in MAIL FROM"],
    ],
)
def test_an_unknown_address_at_mail_from_is_the_sender_never_the_recipient(texts):
    verdict = judge(550, "", texts, in_report=True)

    assert (verdict.bounce_class, verdict.reason) == (
        "blocked",
        "the reply answered MAIL FROM: the sender",
    )


@pytest.mark.parametrize(
    "text",
    [
        "550 Mail from address does not exist",
        "550 The domain in your From address does not exist",
        "550 Return path address does not exist",
        "550 Callout verification failure: sender does not exist",
        "550 sender's address does not exist",
        "550 Your e-mail address does not exist",
        "550 Domain in the From header does not exist",
        "550 Reverse path does not exist",
        "550 5.7.1 Your HELO hostname does not exist (in reply to RCPT TO command)",
        "554 <mail.acme.example>: Helo command rejected: Host not found",
    ],
)
def test_what_does_not_exist_may_be_the_sender_or_its_host(text):
    """Servers that check the sender answer at RCPT TO too, in words that name the sender,
    its reverse-path or its HELO name as what does not exist."""
    assert classify_texts(550, "", [text], in_report=True) == "blocked"
    assert classify_reply(550, "", text) == "blocked"


@pytest.mark.parametrize(
    "text",
    [
        "550 User does not exist or mailbox is full",
        "550 Mailbox unknown or over quota",
        "550 User unknown, mailbox full, or message refused",
    ],
)
def test_a_reply_offering_causes_as_alternatives_claims_none(text):
    """Neither a global block nor a full-inbox auto-block rests on a cause the server only
    offers among others."""
    verdict = judge(550, "", [text + " (in reply to RCPT TO command)"], in_report=True)

    assert (verdict.bounce_class, verdict.reason) == ("other", "the reply offers several causes")


@pytest.mark.parametrize(
    "text",
    [
        "550 Unknown user or domain (in reply to RCPT TO command)",  # one cause either way
        "550 5.1.1 The email account that you tried to reach does not exist. Please try"
        " double-checking the recipient's email address for typos or unnecessary spaces.",
    ],
)
def test_an_or_that_offers_no_other_cause_changes_nothing(text):
    assert judge(550, "", [text], in_report=True).bounce_class == "invalid_address"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Postfix, when its relay host or the recipient domain's MX host does not resolve.
        ("Name service error for name=smtp.relay.acme.internal type=A: Host not found", "other"),
        ("Name service error for name=mx1.example.org type=A: Host not found", "other"),
        ("Name service error for name=example.org type=MX: Host not found", "invalid_address"),
        # sendmail and DragonFly name the host the same way.
        ("Host unknown (Name server: relay.acme.internal: host not found)", "other"),
        ("Host unknown (Name server: example.org.: host not found)", "invalid_address"),
        ("DNS lookup failure: host relay.acme.internal not found", "other"),
    ],
)
def test_a_failed_dns_lookup_proves_nothing_of_a_domain_it_was_not_for(text, expected):
    """A smart host that cannot be found fails every recipient it is handed: that must not
    put every one of them on the global list."""
    verdict = judge(
        550,
        "5.1.2",
        ["Host or domain name not found. " + text],
        in_report=True,
        structured=True,
        recipient_domain="example.org",
    )

    assert verdict.bounce_class == expected
    if expected == "other":
        assert verdict.reason.startswith("the failed lookup was for ")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("550 acme.example does not exist", "other"),  # the sender's domain
        ("553 sorry, mail.acme.example does not exist (#5.1.2)", "other"),
        ("550 example.org does not exist", "invalid_address"),
        ("550 Domain example.org does not exist", "invalid_address"),
        ("550 5.1.1 <bob@example.org> not found", "invalid_address"),  # an address, no domain
    ],
)
def test_a_domain_that_does_not_exist_must_be_the_recipient_s(text, expected):
    verdict = judge(
        int(text[:3]),
        "",
        [text + " (in reply to RCPT TO command)"],
        in_report=True,
        recipient_domain="example.org",
    )

    assert verdict.bounce_class == expected


@pytest.mark.parametrize(
    "text",
    [
        "552 Your mailbox is full, you cannot send until you free up space",
        "552 The sender's mailbox is over quota",
        "452 Quota exceeded for sender news@acme.example",
        "552 Outbox full",
        "552 Mailbox full (in reply to MAIL FROM command)",
        "554 5.2.2 mailbox full; STOREDRV.Submission.Exception:QuotaExceededException",
    ],
)
def test_the_sender_s_full_mailbox_or_quota_is_never_the_recipient_s(text):
    """A full-mailbox verdict can auto-block the recipient: only the recipient's counts."""
    verdict = judge(int(text[:3]), "", [text], in_report=True)

    assert verdict.bounce_class == "other"


def test_a_reply_on_several_lines_is_read_as_one():
    # RFC 5321 §4.2.1: every line but the last starts "code-", and the server breaks the text
    # where it likes, inside a phrase too.
    full = (
        "552-Benutzer hat zuviele Mails auf dem Server. / User has too many\n"
        "552 messages on the server."
    )
    assert classify_reply(552, "", full) == "mailbox_full"
    # Postfix joins the lines with spaces and keeps the prefixes; row 13a needs the whole text.
    outlook = "550-5.5.0 Requested action not 550 5.5.0 taken: mailbox unavailable"
    verdict = judge(550, "5.5.0", [outlook], recipient_domain="outlook.com")
    assert (verdict.bounce_class, verdict.evidence) == ("invalid_address", "wording")
    # sendmail's transcript quotes each line after "<<< ".
    transcript = "<<< 550-<a@example.net>... User\n<<< 550 unknown"
    texts = [transcript, ">>> RCPT To:<a@example.net>"]
    assert classify_texts(550, "", texts, in_report=True) == "invalid_address"


def test_a_greeting_refused_with_no_smtp_service_is_never_a_dead_domain():
    # GMX and IONOS refuse a host at the greeting: "554-No SMTP service" and the reason on the
    # next line. Broken inside the reason, the old reading kept only "No SMTP service" and
    # blocked the address everywhere as a domain that takes no mail.
    gmx = (
        "554-gmx.net (mxgmx014) Nemesis ESMTP Service not available\n554-No SMTP service\n"
        "554-Reject due\n554-to policy restrictions.\n554 For explanation visit"
        " http://postmaster.gmx.com/en/error-messages?c=sp"
    )
    assert classify_reply(554, "", gmx) == "blocked"
    unseen = "554-(mxgmx110) Nemesis ESMTP Service not available 554-No SMTP service 554-Go away"
    assert classify_reply(554, "", unseen) != "invalid_address"
    # Exim's null MX text still is one (RFC 7505).
    null_mx = "an MX or SRV record indicated no SMTP service"
    verdict = judge(None, "", [null_mx], in_report=True, failed=True)
    assert verdict.bounce_class == "invalid_address"


def test_a_bare_refusal_counts_only_in_the_servers_own_words():
    # "rejected" in the MTA's explanation is said of every failure; the reply gives the reason.
    explanation = "Your message was not delivered because the destination server rejected it."
    loop = "554 5.4.6 This message is looping: it already has my Delivered-To line."
    assert classify_texts(554, "5.4.6", [loop, f"{explanation}\n{loop}"], in_report=True) == (
        "other"
    )
    # In the reply itself a bare refusal is a policy refusal (RFC 5321 §4.2.3), and with no
    # reply found, the explanation is all there is.
    assert classify_texts(554, "", ["554 Message rejected", explanation], in_report=True) == (
        "blocked"
    )
    assert classify_texts(None, "", ["", explanation], in_report=True) == "blocked"


def test_too_many_connections_is_a_limit_whatever_the_report_says_around_it():
    # Postfix words a refused greeting "refused to talk to me" (a policy refusal of our host);
    # the server's own reply says why: a concurrency limit, retried later at a lower rate.
    reply = "421 Too many connections, slow down. OFR005_104"
    context = f"host smtp.orange.fr[192.0.2.9] refused to talk to me: {reply}"
    verdict = judge(421, "", [reply, context], in_report=True)
    assert (verdict.bounce_class, verdict.rule) == ("other", "volume.6")
    assert classify_reply(421, "", "421 - [Too many sessions opened]") == "other"
    # With no reason of the server's own, the refused greeting stays a block of our host.
    plain = "421 Service not available, closing transmission channel"
    context = f"host mx.example.net[192.0.2.9] refused to talk to me: {plain}"
    assert classify_texts(421, "", [plain, context], in_report=True) == "blocked"


def test_the_field_names_of_a_report_do_not_show_the_rcpt_stage():
    # "Final-Recipient:" is the report's own field, not a sign that RCPT TO was refused.
    fields = "Final-Recipient: rfc822;x@example.com\nAction: failed\nStatus: 5.0.0"
    assert classify_texts(550, "5.0.0", ["550 user unknown", fields], in_report=True) == (
        "spam_rejected"
    )
    rcpt = "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown"
    assert classify_texts(550, "", [rcpt, fields], in_report=True) == "invalid_address"


@pytest.mark.parametrize(
    "code, enhanced, text, expected",
    [
        # sendmail's documented "550 hostname... Host unknown".
        (550, "", "550 example.org (smtp)... 550 Host unknown", "invalid_address"),
        # Postfix's SMTP client when the server greets with an error.
        (554, "", "host mx.example.org[192.0.2.1] refused to talk to me: 554 go away", "blocked"),
        # Amazon SES: an unverified sending identity is the sender's problem.
        (
            554,
            "",
            "Message rejected: Email address is not verified. The following identities failed"
            " the check in region US-EAST-1: a@example.com",
            "blocked",
        ),
        # Gmail: a message that breaks RFC 5322 is refused, whoever the recipient is.
        (
            550,
            "",
            "This message is not RFC 5322 compliant. There are multiple Subject headers.",
            "blocked",
        ),
        # RFC 1870 §6.1 and RFC 5321 §4.2.2 reply texts.
        (552, "", "552 message size exceeds fixed maximium message size", "other"),
        # The size limit named under a 5.1.1 (RFC 3463 X.3.4 wording wins over the code):
        # the mailbox is fine, the message was too big for the server.
        (550, "5.1.1", "550 RCPT TO:<a@example.net> max message size exceeded", "other"),
        (552, "", "552 Maximum mail size limit is 10 MB", "other"),
        (552, "", "552 Requested mail action aborted: exceeded storage allocation", "mailbox_full"),
        (551, "", "551 User not local; please try <x@example.net>", "other"),
        # Exchange Online 5.1.10 wording, here without its code.
        (550, "", "550 Recipient not found by SMTP address lookup", "invalid_address"),
        # Gmail names a sending client's misbehaviour a protocol violation: about the sender.
        (550, "", "550 SMTP protocol violation, see RFC 5321", "blocked"),
        # RFC 3463 X.7.1: refusals "the result of per-host or per-recipient filtering".
        (550, "", "550 Your message was filtered by the receiving site", "spam_rejected"),
        # RFC 3463 X.2.2 "mailbox full", in other words.
        (550, "", "550 The recipient's mail folder is full", "mailbox_full"),
        # sendmail's check_rcpt refusal (cf/m4/proto.m4): the client may not relay.
        (
            550,
            "5.7.1",
            "550 5.7.1 <bob@example.net>... Relaying denied. IP name lookup failed [192.0.2.9]",
            "blocked",
        ),
        (550, "", "550 Relaying prohibited for this client", "blocked"),
        # Mimecast: relaying refused, and a sending host that is an open relay; never the
        # recipient's fault, even when the reply names the recipient.
        (451, "", "451 Open relay not allowed - see the Mimecast error codes", "blocked"),
        (501, "", "501 <a@example.org>... no access from [192.0.2.5], an open relay", "blocked"),
        # Exim's reply when an ACL denies without a message of its own, also under 5.1.1
        # (a policy refusal answered with a recipient status is still a policy refusal).
        (550, "", "550 Administrative prohibition", "blocked"),
        (550, "5.1.1", "550 5.1.1 <bob@example.net>: Administrative prohibition", "blocked"),
        # Mimecast's anti-spoofing policy refuses the sender's header From.
        (550, "", "550 Rejected by header based Anti-Spoofing policy: a@example.org", "blocked"),
        # Exchange Online 5.7.606-649: a banned sending IP, here without its code.
        (550, "", "550 Access denied, banned sending IP [192.0.2.7]", "blocked"),
    ],
)
def test_rules_backed_by_published_texts(code, enhanced, text, expected):
    assert classify_reply(code, enhanced, text) == expected


@pytest.mark.parametrize(
    ("rule", "family"),
    [
        ("sender.16", "postfix"),
        ("content.3", "receivingses"),
        ("full.2", "x4"),
        ("sender.5", "v5sendmail"),
        ("sender.5", "dragonfly"),
    ],
)
def test_a_documented_rule_stays_on_without_the_family_it_was_seen_in(rule, family):
    assert rule in {r.id for r in ACTIVE_RULES}
    assert rule not in switched_off_without(family, PROVENANCE)


def test_a_relay_wording_seen_in_one_product_only_stays_off():
    # "Insecure Mail Relay" has no published text and one family: it does not speak.
    assert "sender.28" not in {r.id for r in ACTIVE_RULES}
    assert classify_reply(550, "", "550 Insecure Mail Relay") == "other"


def test_only_invalid_addresses_are_hard():
    assert is_hard(BounceClass.INVALID_ADDRESS)
    for bounce_class in ("mailbox_full", "blocked", "spam_rejected", "other"):
        assert not is_hard(bounce_class)


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (simulation.INVALID, "invalid_address"),
        (simulation.FULL, "mailbox_full"),
        (simulation.BLOCKED, "blocked"),
        (simulation.SPAM, "spam_rejected"),
    ],
)
def test_it_agrees_with_the_replies_of_the_demo_traffic(table, expected):
    for receiver, (code, enhanced, text) in table.items():
        text = text.format(rcpt="bob@example.com", sender_domain="mail.example.com")
        if "mailbox unavailable" in text and "5.1." not in text:
            # RFC 5321 §4.2.3's text for every 550, policy refusals included: no proof.
            assert classify_reply(code, enhanced, text) == "other", receiver
            continue
        assert classify_reply(code, enhanced, text) == expected, receiver


def test_temporary_replies_of_the_demo_traffic_never_invalidate_an_address():
    for receiver, (code, enhanced, text) in simulation.DEFERRED.items():
        text = text.format(rcpt="bob@example.com", sender_domain="mail.example.com")
        assert classify_reply(code, enhanced, text) in ("blocked", "spam_rejected", "other"), (
            receiver
        )


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "structured", "expected"),
    [
        # A 5.1.x status in a field: strongest.
        (
            550,
            "5.1.1",
            "550 5.1.1 Recipient address rejected",
            True,
            ("invalid_address", "dsn_5_1_x"),
        ),
        # The same code only in free text.
        (550, "", "550 5.1.1 Recipient address rejected", False, ("invalid_address", "text_5_1_x")),
        # 5.1.2 bad system, 5.1.3 bad syntax, 5.1.6 moved, 5.1.10 null MX: the address cannot work.
        (
            550,
            "5.1.3",
            "550 5.1.3 Bad recipient address syntax",
            True,
            ("invalid_address", "dsn_5_1_x"),
        ),
        (
            550,
            "5.1.6",
            "550 5.1.6 Destination mailbox has moved",
            True,
            ("invalid_address", "dsn_5_1_x"),
        ),
        # Unambiguous words under a 5xx reply with no 5.1.x code.
        (550, "", "550 No such user here", False, ("invalid_address", "wording")),
        # A bare 5xx, a generic RFC 5321 text, an ambiguous 5.1.4: never invalid.
        (550, "", "550 Rejected", False, ("blocked", "")),
        (550, "", "550 Requested action not taken: mailbox unavailable", False, ("other", "")),
        (550, "5.1.4", "550 5.1.4 Ambiguous destination address", True, ("other", "")),
        # Policy or spam wording beats a 5.1.1 code.
        (550, "5.1.1", "550 5.1.1 Message rejected as spam", True, ("spam_rejected", "")),
        (550, "5.1.1", "550 5.1.1 Client host blocked using Spamhaus", True, ("blocked", "")),
        # "User unknown" under a policy status (X.7.x) or a mailbox status (X.2.x): conflicting.
        (550, "5.7.1", "550 5.7.1 User unknown", True, ("blocked", "")),
        (550, "5.2.1", "550 5.2.1 User unknown", True, ("other", "")),
        # Temporary: never proof.
        (450, "4.1.1", "450 4.1.1 User unknown", True, ("other", "")),
    ],
)
def test_an_invalid_address_needs_strong_evidence(code, enhanced, text, structured, expected):
    verdict = judge(code, enhanced, [text], structured=structured)
    assert (verdict.bounce_class, verdict.evidence) == expected


def test_a_weaker_verdict_keeps_its_reason():
    verdict = judge(550, "5.2.1", ["550 5.2.1 User unknown"], structured=True)
    assert verdict.reason == "status 5.2.1 says the mailbox exists"
    assert verdict.rule == "unknown.1"


def test_texts_that_disagree_never_prove_an_address_invalid():
    # rfc3464-style report: the DSN says 5.1.1 user unknown, its own prose a full disk.
    reply = "550 5.1.1 <x@example.net>... User Unknown (in reply to RCPT TO command)"
    verdict = judge(550, "5.1.1", [reply, "Not enough disk space"], structured=True)
    assert verdict.bounce_class == "other"
    assert verdict.reason == "conflicting evidence: another text says system_full"
    # A policy refusal or a full mailbox named beside "user unknown" conflicts too.
    for other in ("Your IP is listed at Spamhaus", "The recipient's mailbox is full"):
        assert judge(550, "5.1.1", [reply, other], structured=True).bounce_class == "other"
    # Texts that agree (or say nothing) leave the strong verdict alone.
    agreeing = judge(550, "5.1.1", [reply, "The following address failed"], structured=True)
    assert (agreeing.bounce_class, agreeing.evidence) == ("invalid_address", "dsn_5_1_x")


@pytest.mark.parametrize(
    ("code", "enhanced", "text", "expected"),
    [
        # RFC 5321 §4.2.2: 452 is the system's storage, 552 the mailbox's allocation.
        (452, "4.4.5", "452 4.4.5 Insufficient disk space; try again later", "other"),
        (452, "", "452 Requested action not taken: insufficient system storage", "other"),
        (552, "", "552 Requested mail action aborted: exceeded storage allocation", "mailbox_full"),
        # RFC 3463 X.3.1 "mail system full" against X.2.2 "mailbox full".
        (550, "5.3.1", "550 5.3.1 Mail system full", "other"),
        (552, "5.2.2", "552 5.2.2 Mailbox full", "mailbox_full"),
    ],
)
def test_a_full_system_is_not_a_full_mailbox(code, enhanced, text, expected):
    # A full inbox can lead to an auto-block of the recipient; a server short of disk must not.
    assert classify_reply(code, enhanced, text) == expected


# RFC 5321's generic 550 text, which Microsoft (Outlook.com) and GMX document as "no such
# recipient" for their own mailboxes (delivery/documented_replies.jsonl).
UNAVAILABLE = "550 5.5.0 Requested action not taken: mailbox unavailable."


@pytest.mark.parametrize(
    ("domain", "code", "enhanced", "text", "expected"),
    [
        ("hotmail.com", 550, "5.5.0", UNAVAILABLE, "invalid_address"),
        ("hotmail.fr", 550, "5.5.0", UNAVAILABLE, "invalid_address"),
        (
            "live.se",
            550,
            "",
            "550 Requested action not taken: mailbox unavailable",
            "invalid_address",
        ),
        ("outlook.com", None, "5.0.0", UNAVAILABLE, "invalid_address"),
        (
            "gmx.net",
            550,
            "",
            "<bob@gmx.net>: Requested action not taken: mailbox unavailable",
            "invalid_address",
        ),
        # Anywhere else it is what RFC 5321 says: any 550, policy included.
        ("example.com", 550, "5.5.0", UNAVAILABLE, "other"),
        ("hotmail.example.com", 550, "5.5.0", UNAVAILABLE, "other"),
        ("mail-hotmail.com", 550, "5.5.0", UNAVAILABLE, "other"),
        # Their consumer domains are .com and country domains, not anybody's "live.net".
        ("live.net", 550, "5.5.0", UNAVAILABLE, "other"),
        ("outlook.io", 550, "5.5.0", UNAVAILABLE, "other"),
        ("gmx.org", 550, "5.5.0", UNAVAILABLE, "other"),
        ("outlook.com.br", 550, "5.5.0", UNAVAILABLE, "invalid_address"),
        ("live.co.uk", 550, "5.5.0", UNAVAILABLE, "invalid_address"),
        # Temporary, or under a policy status, it proves nothing at Outlook.com either.
        (
            "hotmail.com",
            450,
            "4.5.0",
            "450 4.5.0 Requested action not taken: mailbox unavailable",
            "other",
        ),
        (
            "hotmail.com",
            550,
            "5.7.1",
            "550 5.7.1 Requested action not taken: mailbox unavailable",
            "blocked",
        ),
        # GMX's connection refusal names the policy: the policy decides.
        (
            "gmx.net",
            550,
            "",
            "550-Requested action not taken: mailbox unavailable 550-Reject due to policy restrictions.",
            "blocked",
        ),
        # After the data the mailbox was accepted: a refusal of this message, not proof.
        (
            "hotmail.com",
            550,
            "5.5.0",
            UNAVAILABLE + " (in reply to end of DATA command)",
            "other",
        ),
    ],
)
def test_mailbox_unavailable_is_an_unknown_user_only_where_the_provider_says_so(
    domain, code, enhanced, text, expected
):
    verdict = judge(code, enhanced, [text], in_report=True, recipient_domain=domain)
    assert verdict.bounce_class == expected
    if expected == "invalid_address":
        # Wording only: the weakest evidence, shown in the blocking query and the admin.
        assert (verdict.evidence, verdict.rule) == ("wording", "unavailable.1")


def test_the_recipient_domain_changes_nothing_but_mailbox_unavailable():
    from delivery.bounce_evaluation import judge_documented, load_documented

    for row in load_documented():
        if "mailbox unavailable" in row["text"].lower():
            continue
        alone = judge_documented(row)
        for domain in ("hotmail.com", "gmx.net", "example.org"):
            assert judge_documented({**row, "domain": domain}) == alone, row["text"]


# Antivirus stamps that mail servers append to what they send, bounces included.
SCANNER_STAMPS = [
    # MailScanner's default inline signature, wrapped as it is in a bounce's prose part.
    "-- \nThis message has been scanned for viruses and\ndangerous content by MailScanner, and is"
    "\nbelieved to be clean.",
    "No virus found in this message.\nChecked by AVG - www.avg.com",
    "Virus-free. www.avast.com",
]


@pytest.mark.parametrize("stamp", SCANNER_STAMPS)
def test_an_antivirus_stamp_beside_a_reply_changes_nothing(stamp):
    from delivery.bounce_evaluation import load_documented

    for row in load_documented():
        for in_report in (False, True):
            args = (row["code"], row["enhanced"])
            options = {
                "structured": bool(row["enhanced"]),
                "in_report": in_report,
                "failed": row["code"] is None,
            }
            alone = judge(*args, [row["text"]], **options)
            assert judge(*args, [row["text"], stamp], **options) == alone, row["text"]


def test_a_scan_that_found_something_is_still_a_content_refusal():
    for text in (
        "550 This message was scanned for viruses and found to be infected",
        "554 Message rejected: it has been scanned for viruses and spam and contains a virus",
    ):
        assert classify_reply(550, "", text) == "spam_rejected"


def test_an_address_status_that_proves_nothing_is_other_not_a_policy_block():
    # Gmail quoting another server: "550 5.1.0 Recipient rejected" (RFC 3463 X.1.0: "other
    # address status"): the address failed, for a reason it does not give.
    verdict = judge(550, "", ["550 5.1.0 Recipient rejected: <x@example.net>"], in_report=True)
    assert (verdict.bounce_class, verdict.reason) == ("other", "status 5.1.0 is no proof")
    # A policy named in words is still a policy block.
    assert classify_reply(550, "5.1.0", "550 5.1.0 Relaying denied") == "blocked"


@pytest.mark.parametrize(
    "text",
    [
        "550 This domain does not accept mail from your IP address",
        "550 Our server does not accept mail from dynamic IPs",
        "550 This recipient does not accept mail from outside the organization",
        "550 5.1.1 <lou@example.de>: This domain does not accept mail from your IP address",
        "550 5.1.1 <jay@example.de>: Recipient address rejected: not allowed to receive mail "
        "from external senders",
    ],
)
def test_mail_refused_for_where_it_comes_from_is_a_policy_never_a_dead_domain(text):
    # "does not accept mail" alone is a domain that takes none (host.5); "… from your IP" is
    # a refusal of the sender (RFC 3463 X.7.1: per-host or per-recipient filtering).
    verdict = judge(550, "", [text], in_report=True, failed=True)
    assert verdict.bounce_class == "blocked", verdict
    assert judge(550, "", ["550 This domain does not accept mail"], failed=True).bounce_class == (
        "invalid_address"
    )


@pytest.mark.parametrize(
    ("code", "text"),
    [
        # Zoho's published reply (smtp.codes/zoho): a policy refusal under 5.1.1.
        (552, "552 5.1.1 <una@zohomail.com> Mailbox delivery failure policy error"),
        (550, "550 5.1.1 <ivo@example.de>: Recipient rejected by policy"),
        (550, "550 5.1.1 <kit@example.de>: Rejected due to security policies"),
        (550, "550 5.1.1 Message refused for local policy reasons"),
    ],
)
def test_a_refusal_that_names_a_policy_is_never_an_invalid_address(code, text):
    verdict = judge(code, "5.1.1", [text], structured=True, failed=True)
    assert verdict.bounce_class == "blocked", verdict


@pytest.mark.parametrize(
    "text",
    [
        # Limits and accounts, documented with the word policy in them.
        "452 4.5.3 Domain policy size per transaction exceeded, please try this recipient in "
        "a separate transaction.",
        "Policy rejection on the target address",
    ],
)
def test_a_policy_named_but_no_refusal_for_it_is_no_policy_block(text):
    assert judge(None, "", [text], failed=True).bounce_class != "blocked"


@pytest.mark.parametrize(
    "text",
    [
        "550 5.1.1 <nick@example.org>: Recipient address rejected: Mailbox temporarily disabled",
        "550 5.1.1 <hal@example.org>: Mailbox locked",
        "550 5.1.1 <mae@example.org>: user account is locked",
    ],
)
def test_a_mailbox_that_exists_but_is_shut_is_never_invalid_even_under_5_1_1(text):
    # RFC 3463 X.2.1: the mailbox exists but is not accepting messages (row 7).
    verdict = judge(550, "5.1.1", [text], structured=True, failed=True)
    assert verdict.bounce_class == "other", verdict


@pytest.mark.parametrize(
    ("code", "enhanced", "text"),
    [
        (
            450,
            "4.2.0",
            "450 4.2.0 <fox@example.org>: Recipient address rejected: Greylisted, "
            "see http://postgrey.schweikert.ch/help/example.org.html",
        ),
        (451, "4.7.1", "451 4.7.1 Greylisting in action, please come back later"),
        (451, "", "451 Temporarily rejected. Try again later. (graylisted)"),
    ],
)
def test_greylisting_is_a_deferral_that_passes_not_a_policy_block(code, enhanced, text):
    # RFC 6647 §2.1: the first attempt from an unknown sender is deferred on purpose.
    assert judge(code, enhanced, [text], failed=False).bounce_class == "other"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Cisco Secure Email (AsyncOS) and Amazon SES's mailer put their own status and class
        # in front of the reply they were given; the reply decides.
        (
            "5.1.0 - Unknown address error 550-'5.1.1 <ann@example.org>: Recipient address "
            "rejected: User unknown in virtual mailbox table' (delivery attempts: 0)",
            "invalid_address",
        ),
        (
            "5.1.0 - Unknown address error 550-'5.4.1 Recipient address rejected: Access "
            "denied. AS(201806281) [DB5EUR03FT012.eop-EUR03.prod.protection.outlook.com]' "
            "(delivery attempts: 0)",
            "invalid_address",
        ),
        (
            "5.1.0 - Unknown address error ('550', ['5.1.1 <ann@example.org>: Recipient address "
            "rejected: User unknown in local recipient table'])",
            "invalid_address",
        ),
        # The gateway's "Unknown address error" is no unknown user of its own.
        (
            "5.1.0 - Unknown address error 550-'5.7.1 <ann@example.org>... Access denied' "
            "(delivery attempts: 0)",
            "blocked",
        ),
        (
            "5.1.0 - Unknown address error ('550', [\"5.7.1 Message rejected: doesn't meet our "
            'policy"])',
            "blocked",
        ),
        (
            "5.1.0 - Unknown address error 552-'5.2.2 Mailbox full' (delivery attempts: 0)",
            "mailbox_full",
        ),
        ("5.3.0 - Other mail system problem 554-'Too many hops' (delivery attempts: 0)", "other"),
    ],
)
def test_a_gateways_summary_gives_way_to_the_reply_it_quotes(text, expected):
    # The summary's status (5.1.0, "no proof") used to decide over the server's 5.1.1.
    enhanced = find_enhanced_status(text)
    assert enhanced in ("5.1.0", "5.3.0")
    verdict = judge(550, enhanced, [text], in_report=True, failed=True)
    assert verdict.bounce_class == expected, verdict
    if expected == "invalid_address":
        assert verdict.evidence in ("text_5_1_x", "wording")


@pytest.mark.parametrize(
    "text",
    [
        "550 Unable to verify MX record for your domain",
        "550 5.7.1 Your domain has no MX record",
        "550 5.1.2 Mail from your sending domain is not accepted",
        "554 Your domain lacks a valid SPF record",
    ],
)
def test_your_domain_in_a_servers_reply_is_the_senders(text):
    # The server speaks to the sending client (RFC 5321 §4.2): a DNS check of its domain
    # failed, not the recipient's domain.
    verdict = judge(550, find_enhanced_status(text), [text], in_report=True, failed=True)
    assert verdict.bounce_class == "blocked", verdict
    assert judge(550, "", ["550 No MX record for example.org"], failed=True).bounce_class == (
        "invalid_address"
    )


# Replies that name something else than the recipient's mailbox as missing, each from a
# published text (docs/bounces.md, "Sender-side and unfinished checks").
@pytest.mark.parametrize(
    ("code", "text", "domain", "expected"),
    [
        # GMX / WEB.DE: "the last line of the multi-line error message is decisive", and here
        # it is the sending domain's DNS.
        (
            550,
            "550-Requested action not taken: mailbox unavailable\n"
            "550 invalid DNS MX or A/AAAA resource record",
            "web.de",
            "other",
        ),
        # Outlook.com's "mailbox unavailable" in reply to MAIL FROM: no recipient yet.
        (
            550,
            "550 5.5.0 Requested action not taken: mailbox unavailable "
            "(in reply to MAIL FROM command)",
            "hotmail.com",
            "blocked",
        ),
        # Exim with PIPELINING names the stage "after pipelined MAIL FROM".
        (
            550,
            "SMTP error from remote mail server after pipelined MAIL FROM:<bounce@acme.example> "
            "SIZE=2048: 550 5.1.1 <bounce@acme.example>: user unknown",
            "",
            "blocked",
        ),
        # QQ Mail's check of the sender's domain: "may not exist" is no proof.
        (550, "550 Domain may not exist or DNS check failed [IP: 192.0.2.1].", "qq.com", "other"),
        # Courier's check of the sender's domain (BOFHCHECKDNS) names the domain it looked up.
        (
            517,
            "517-Domain does not exist: sender.example.\n"
            "517 Invalid domain, see <URL:ftp://ftp.isi.edu/in-notes/rfc1035.txt>",
            "courier.example",
            "other",
        ),
        # Postfix's reject_unverified_recipient when the probe did not finish, code raised.
        (
            550,
            "550 5.1.1 <ann@example.org>: Recipient address rejected: unverified address: "
            "connect to mail.example.org[192.0.2.1]:25: Connection timed out",
            "example.org",
            "other",
        ),
        (
            550,
            "550 5.1.1 Recipient verification failed: temporary lookup failure, try again later",
            "example.org",
            "other",
        ),
        # Postfix's reply to DATA once every RCPT TO was refused, for any reason.
        (554, "554 5.5.1 Error: no valid recipients", "example.org", "other"),
        # Postfix's access(5) REJECT default without Microsoft's 5.4.1: a policy.
        (554, "554 <ann@example.org>: Recipient address rejected: Access denied", "", "blocked"),
        # The recipient exists, switched off (row 7), also under 5.1.1.
        (550, "550 5.1.1 Recipient is inactive", "example.org", "other"),
        (550, "550 5.1.1 Dormant account", "example.org", "other"),
        # The sending side's names.
        (550, "550 5.7.1 Sending domain unknown", "example.org", "blocked"),
        (550, "550 Host name of your IP address not found", "example.org", "blocked"),
        # Gmail names the MX host whose address it could not find.
        (
            None,
            "DNS Error: DNS type 'a' lookup of smtp.relay.example responded with code NXDOMAIN",
            "example.org",
            "other",
        ),
    ],
)
def test_what_is_missing_is_not_the_recipients_mailbox(code, text, domain, expected):
    # As an event's reply: in a report without a stage, row 8 would answer first.
    verdict = judge(
        code,
        find_enhanced_status(text),
        [text],
        in_report=False,
        failed=True,
        recipient_domain=domain,
    )
    assert verdict.bounce_class == expected, verdict


@pytest.mark.parametrize(
    ("code", "text", "domain"),
    [
        # Exchange Online's Directory-Based Edge Blocking, with its status or its code.
        (550, "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)", "contoso.com"),
        (550, "550 Recipient address rejected: Access denied. AS(201806281)", "contoso.com"),
        (550, "550 5.4.1 <a@example.br>: Recipient address rejected: Access denied", "example.br"),
        # Outlook.com's and GMX's unknown user at RCPT TO (row 13a), with GMX's link line.
        (550, "550 5.5.0 Requested action not taken: mailbox unavailable", "hotmail.com"),
        (
            550,
            "550-Requested action not taken: mailbox unavailable\n550 For explanation visit "
            "https://postmaster.gmx.net/en/case?c=r0301",
            "gmx.net",
        ),
        # Gmail's NXDOMAIN for the recipient's own domain.
        (
            None,
            "DNS Error: DNS type 'mx' lookup of typo.example responded with code NXDOMAIN "
            "Domain name not found: typo.example",
            "typo.example",
        ),
        (550, "550 5.1.1 <ann@example.org>: Recipient address rejected: User unknown", ""),
    ],
)
def test_the_same_families_still_find_a_missing_recipient(code, text, domain):
    verdict = judge(
        code,
        find_enhanced_status(text),
        [text],
        in_report=True,
        failed=True,
        recipient_domain=domain,
    )
    assert verdict.bounce_class == "invalid_address", verdict
