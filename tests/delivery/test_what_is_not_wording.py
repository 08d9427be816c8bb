"""Properties of how a bounce's words are read, whatever the names and the subject in it
(Hypothesis).

A local part is a person's choice, a server's name an operator's and a subject the sender's,
not the server's words: "spam@", "mailbox-full@", "blocked.user@", an internationalised address
(RFC 6531: a UTF-8 local part, U-label domains), an MX run by a filtering service
("mx1.spamexperts.com", "d1.ess.barracudanetworks.com") or a subject "Spam alert: mailbox full"
must give the same verdict as "john.smith@example.com" at "mx.example.com" about "Hello", and a
DSN that names such an address (RFC 6533's utf-8 address type) names the address we sent to.
"""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from bench.renaming import DOMAINS, LOCAL_NAMES, SAMPLES, changed_verdicts
from delivery.addresses import ADDRESS_IN_WORDING, InvalidAddress, normalize_address
from delivery.bounces import judge
from delivery.reports import parse_report

PLAIN = "john.smith@example.com"

# Words some rule reads as a reason, in English, Japanese and Chinese.
_WORDS = [
    "spam",
    "junk",
    "virus",
    "blocked",
    "banned",
    "full",
    "mailbox-full",
    "quota",
    "overquota",
    "relay",
    "dmarc",
    "spf",
    "rejected",
    "denied",
    "policy",
    "blacklist",
    "unknown",
    "user",
    "invalid",
    "expired",
    "timeout",
    "disabled",
    "inactive",
    "suspended",
    "filtered",
    "宛先不明",
    "用户",
    "垃圾邮件",
]
_ASCII_WORDS = [w for w in _WORDS if w.isascii()]
_SEPARATORS = st.sampled_from([".", "-", "_", "+"])


def _local(words: list[str]) -> st.SearchStrategy[str]:
    return st.builds(
        lambda parts, sep: sep.join(parts),
        st.lists(st.sampled_from(words), min_size=1, max_size=3),
        _SEPARATORS,
    )


_LABEL = st.sampled_from(
    ["example", "spam-filter", "mail", "quota", "blocked", "例子", "антиспам", "münchen"]
)
_TOP = st.sampled_from(["com", "jp", "org", "中国", "рф"])
_DOMAIN = st.builds(
    lambda labels, top: ".".join([*labels, top]), st.lists(_LABEL, min_size=1, max_size=2), _TOP
)


def _address(words: list[str]) -> st.SearchStrategy[str]:
    return st.builds(lambda local, domain: f"{local}@{domain}", _local(words), _DOMAIN)


def _valid(address: str) -> bool:
    try:
        normalize_address(address)
    except InvalidAddress:
        return False
    return True


# (SMTP code, enhanced status, reply): the address in angle brackets, as Postfix, sendmail,
# qmail and Exchange quote it, so any address shape is taken out whole.
BRACKETED = [
    (
        550,
        "5.1.1",
        "550 5.1.1 <{a}>: Recipient address rejected: User unknown in local recipient table",
    ),
    (550, "", "550 5.1.1 <{a}>: Recipient address rejected: User unknown in local recipient table"),
    (550, "", "<{a}>... User unknown"),
    (552, "5.2.2", "552 5.2.2 <{a}>: Mailbox full"),
    (554, "5.7.1", "554 5.7.1 <{a}>: Relay access denied"),
    (550, "", "550 Requested action not taken: mailbox unavailable <{a}>"),
    (421, "4.7.0", "421 4.7.0 Try again later <{a}>"),
]
# The address bare, as Exim's and many plain-text bounces write it.
BARE = [
    (550, "", "{a}: no such user here"),
    (552, "", "552 {a} mailbox is full"),
    (550, "", "550 unknown user ({a})"),
    (554, "", "554 message from sender refused, recipient {a}"),
]


@settings(max_examples=300, deadline=None)
@given(
    address=_address(_WORDS),
    reply=st.sampled_from(BRACKETED),
)
def test_a_bracketed_address_is_never_read_as_words(address, reply):
    code, enhanced, text = reply
    expected = judge(code, enhanced, [text.format(a=PLAIN)], structured=bool(enhanced))
    got = judge(code, enhanced, [text.format(a=address)], structured=bool(enhanced))
    assert (got.bounce_class, got.evidence) == (expected.bounce_class, expected.evidence)


@settings(max_examples=300, deadline=None)
@given(
    address=_address(_ASCII_WORDS),
    reply=st.sampled_from(BARE),
    in_report=st.booleans(),
)
def test_a_bare_address_is_never_read_as_words(address, reply, in_report):
    # A bare ASCII local part before an ASCII or internationalised domain. (A bare local part
    # mixing scripts is not told apart from words glued to it, "宛先不明kijitora@…".)
    code, enhanced, text = reply
    expected = judge(code, enhanced, [text.format(a=PLAIN)], in_report=in_report)
    got = judge(code, enhanced, [text.format(a=address)], in_report=in_report)
    assert (got.bounce_class, got.evidence) == (expected.bounce_class, expected.evidence)


def _postfix_dsn(
    status: str, reply: str, address: str = PLAIN, server: str = "mx.example.com"
) -> bytes:
    """Postfix's DSN for one recipient refused at RCPT TO, as RFC 6533 writes it for any
    address."""
    return f"""From: MAILER-DAEMON@mx.example.org
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

This is the mail system at host {server}.

<{address}>: host {server}[192.0.2.1] said: {reply} (in reply to RCPT TO command)

--B
Content-Type: message/global-delivery-status; charset=utf-8
Content-Transfer-Encoding: 8bit

Reporting-MTA: dns; {server}

Final-Recipient: utf-8; {address}
Original-Recipient: utf-8; {address}
Action: failed
Status: {status}
Remote-MTA: dns; {server}
Diagnostic-Code: smtp; {reply}

--B--
""".encode()


@settings(max_examples=200, deadline=None)
@given(
    address=_address(_WORDS),
    reply=st.sampled_from(
        [
            ("5.1.1", "550 5.1.1 <{a}>: Recipient address rejected: User unknown"),
            ("5.2.2", "552 5.2.2 <{a}>: Mailbox full"),
            ("5.7.1", "554 5.7.1 <{a}>: Relay access denied"),
        ]
    ),
)
def test_a_dsn_names_an_internationalised_recipient(address, reply):
    assume(_valid(address))
    status, diagnostic = reply
    expected = parse_report(_postfix_dsn(status, diagnostic.format(a=PLAIN))).recipients
    report = parse_report(_postfix_dsn(status, diagnostic.format(a=address), address))
    assert [o.recipient for o in report.recipients] == [normalize_address(address)]
    got = [(o.bounce_class, o.evidence) for o in report.recipients]
    assert got == [(o.bounce_class, o.evidence) for o in expected]


def test_the_shapes_the_properties_cover():
    # The cases that were misread before: a U-label domain left "spam" or "virus" in the words
    # and the DSN field named nobody.
    report = parse_report(
        _postfix_dsn("5.1.1", "550 5.1.1 <spam@例子.中国>: User unknown", "spam@例子.中国")
    )
    (outcome,) = report.recipients
    assert outcome.recipient == "spam@xn--fsqu00a.xn--fiqs8s"
    assert outcome.bounce_class == "invalid_address"
    assert judge(550, "", ["virus@антиспам.рф: no such user here"]).bounce_class == (
        "invalid_address"
    )
    # Words glued after an ASCII domain are still words, and only the address goes.
    assert ADDRESS_IN_WORDING.sub("<address>", "kijitora@example.jp您好") == "<address>您好"


_HOST_LABEL = st.sampled_from(
    [
        *("mx1", "spam", "spamexperts", "barracuda", "ess", "virus-gw", "junk", "blocked"),
        *("relay", "quota", "full", "filter", "dmarc", "mail-protect", "spf", "rbl", "policy"),
    ]
)
_SERVER = st.builds(
    lambda labels, top: ".".join([*labels, top]),
    st.lists(_HOST_LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "net", "example"]),
)
REPLIES = [
    ("5.1.1", "550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown"),
    ("5.0.0", "550 No such user here"),
    ("5.2.2", "552 5.2.2 Mailbox full"),
    ("5.0.0", "550 Requested action not taken: mailbox unavailable"),
    ("5.7.1", "550 5.7.1 Message rejected"),
    ("4.2.2", "452 4.2.2 Over quota"),
]


@settings(max_examples=200, deadline=None)
@given(server=_SERVER, reply=st.sampled_from(REPLIES))
def test_a_server_name_is_never_read_as_words(server, reply):
    status, text = reply
    expected = parse_report(_postfix_dsn(status, text)).recipients
    got = parse_report(_postfix_dsn(status, text, server=server)).recipients
    assert [(o.bounce_class, o.evidence) for o in got] == [
        (o.bounce_class, o.evidence) for o in expected
    ]


@settings(max_examples=200, deadline=None)
@given(server=_SERVER, reply=st.sampled_from(REPLIES))
def test_a_server_name_in_other_mtas_words_is_never_read_as_words(server, reply):
    # Exim's "host NAME [IP]: reply", sendmail's "while talking to NAME.:", Exchange's
    # "Generating server: NAME" and the domain a DNS failure names, as the explanation beside
    # the reply.
    _, text = reply
    code = int(text[:3])
    explanations = [
        f"SMTP error from remote mail server after RCPT TO:<bob@example.com>:\n"
        f"    host {server} [192.0.2.1]: {text}",
        f"... while talking to {server}.:\n>>> RCPT To:<bob@example.com>\n<<< {text}",
        f"Generating server: {server.upper()}\nbob@example.com\nRemote Server returned '{text}'",
        # The domain looked up: qmail's and Postfix's DNS failures.
        f"Sorry, I couldn't find any host named {server}. (#5.1.2)",
        f"Host or domain name not found. Name service error for name={server} type=MX",
    ]
    for explanation in explanations:
        plain = explanation.replace(server, "mx.example.com").replace(
            server.upper(), "MX.EXAMPLE.COM"
        )
        expected = judge(code, "", [text, plain], in_report=True)
        got = judge(code, "", [text, explanation], in_report=True)
        assert (got.bounce_class, got.evidence) == (expected.bounce_class, expected.evidence)


def test_a_block_list_named_in_a_reply_still_counts():
    # Only a server's name goes: a block list's zone is the reason the mail was refused.
    verdict = judge(554, "", ["554 5.7.1 Service unavailable; 192.0.2.1 found in zen.spamhaus.org"])
    assert verdict.bounce_class == "blocked"


# Exchange's summary of the returned original, in the reader's language.
NDR_SUMMARIES = [
    "Your message did not reach some or all of the intended recipients.\n\n"
    "      Subject:\t{subject}\n      Sent:\t1/1/2024 10:00 AM\n\n"
    "The following recipient(s) cannot be reached:\n\n      bob@example.com\n            {reply}\n",
    "Ihre Nachricht hat einige oder alle Empfänger nicht erreicht.\n\n"
    "      Betreff:\t{subject}\n      Gesendet am:\t01.01.2024 10:00\n\n"
    "Folgende(r) Empfänger konnte(n) nicht erreicht werden:\n\n"
    "      bob@example.com\n            {reply}\n",
    "Votre message n'a pas pu être remis.\n\n      Objet :\t{subject}\n\n"
    "      bob@example.com\n            {reply}\n",
    "メッセージは一部またはすべての受信者に届きませんでした。\n\n      件名:\t{subject}\n\n"
    "      bob@example.com\n            {reply}\n",
    "您的邮件未到达部分或全部预期收件人。\n\n      主题\uff1a{subject}\n\n"
    "      bob@example.com\n            {reply}\n",
]
_SUBJECT = st.builds(
    lambda words, sep: sep.join(words).capitalize(),
    st.lists(
        st.sampled_from([*_ASCII_WORDS, "mailbox full", "over quota", "try again"]), max_size=5
    ),
    st.sampled_from([" ", ": ", " - ", ", "]),
)


def _ndr(summary: str) -> bytes:
    return (
        "From: System Administrator <postmaster@example.com>\nTo: sender@example.org\n"
        "Subject: Undeliverable: x\nMIME-Version: 1.0\n"
        "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n" + summary
    ).encode()


@settings(max_examples=200, deadline=None)
@given(subject=_SUBJECT, summary=st.sampled_from(NDR_SUMMARIES), reply=st.sampled_from(REPLIES))
def test_the_quoted_subject_is_never_read_as_words(subject, summary, reply):
    _, text = reply
    expected = parse_report(_ndr(summary.format(subject="Hello", reply=text))).recipients
    got = parse_report(_ndr(summary.format(subject=subject, reply=text))).recipients
    assert [(o.recipient, o.bounce_class, o.evidence) for o in got] == [
        (o.recipient, o.bounce_class, o.evidence) for o in expected
    ]


@settings(max_examples=200, deadline=None)
@given(local=_local(_ASCII_WORDS), status=st.sampled_from(["5.1.1", "5.0.0", ""]))
def test_a_local_part_named_alone_is_never_read_as_words(local, status):
    # Postfix's local(8) 'unknown user: "bob"' and Domino's "User bob (bob@…) not listed".
    def texts(name: str) -> list[list[str]]:
        address = f"{name}@example.net"
        return [
            [f'<{address}>: unknown user: "{name}"'],
            [f"User {name} ({address}) not listed in Domino Directory"],
        ]

    for plain, named in zip(texts("john.smith"), texts(local), strict=True):
        expected = judge(550, status, plain, in_report=True, structured=bool(status))
        got = judge(550, status, named, in_report=True, structured=bool(status))
        assert (got.bounce_class, got.evidence) == (expected.bounce_class, expected.evidence)


@pytest.mark.parametrize("name", LOCAL_NAMES)
def test_renaming_the_failed_recipient_of_a_real_bounce_changes_no_verdict(name):
    # Each public sample that blames one recipient, with that recipient's local part renamed
    # wherever it stands as one: addresses at dotless hosts ("@localhost"), sendmail's
    # "bob... Deferred" and "(expanded from: bob)" lines included.
    checked, changed = changed_verdicts(sorted(SAMPLES.glob("*.eml")), "local", name)
    assert checked > 250
    assert changed == []


@pytest.mark.parametrize("domain", DOMAINS)
def test_renaming_the_failed_recipients_domain_in_a_real_bounce_changes_no_verdict(domain):
    # The domain renamed everywhere it stands as a name: in addresses, in its MX hosts' names
    # ("mx.example.com"), in Exim's "all hosts for 'example.com'", in a DNS error. Bounces whose
    # provider's format or documented codes depend on the domain are left out.
    checked, changed = changed_verdicts(sorted(SAMPLES.glob("*.eml")), "domain", domain)
    assert checked > 250
    assert changed == []
