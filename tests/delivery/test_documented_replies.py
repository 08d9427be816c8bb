"""The classifier against what the big providers publish about their own replies.

delivery/documented_replies.jsonl holds the reply texts that mailbox providers and mail gateways
document (Gmail, Microsoft, Yahoo, AOL, Comcast, Cox, NetEase, Tencent, GMX, Mimecast, …), each
with the meaning the provider gives it and the page it comes from (docs/bounces.md, "Provider
codes"). The rules were written with this table in view, so its figure is a check that the rules
say what the providers say, not a measure on unseen mail.
"""

from __future__ import annotations

import html
import itertools
import re
import textwrap
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from delivery.bounce_evaluation import (
    group,
    judge_documented,
    load_documented,
    score_documented,
)
from delivery.bounces import RULES
from delivery.models import BounceClass
from delivery.provenance import PROVENANCE, STANDARDS
from delivery.reports import parse_report
from tests.delivery.bounce_reports import sendmail_report

ROWS = load_documented()
CLASSES = {c.value for c in BounceClass}

# The provenance tags that point at a provider table held in the jsonl, and its rows' names.
TABLES = {
    "doc:gmail": {"gmail"},
    "doc:microsoft": {"microsoft"},
    "doc:yahoo": {"yahoo"},
    "doc:aol": {"aol"},
    "doc:cox": {"cox"},
    "doc:comcast": {"comcast"},
    "doc:netease": {"netease"},
    "doc:tencent": {"tencent"},
    "doc:alibaba": {"alibaba"},
    "doc:trendmicro": {"trendmicro"},
    "doc:gmx": {"gmx", "webde", "ionos"},
    "doc:godaddy": {"godaddy"},
    "doc:mimecast": {"mimecast"},
}
# Passages docs/bounces.md quotes that the stored copy of the provider's table stops before.
CITED_ELSEWHERE = {
    ("sender.5", "doc:mimecast"): "Mimecast's 451 'Open relay not allowed' (DOC-1369)",
}


def test_the_table_is_well_formed():
    assert len(ROWS) > 500
    for row in ROWS:
        assert row["cls"] in CLASSES, row
        assert row["source"].startswith("http"), row
        assert row["text"].strip(), row
        assert row["code"] is None or 200 <= row["code"] <= 599, row


def test_no_documented_reply_that_is_not_a_dead_address_blocks_the_address_for_everyone():
    # An invalid address is a global block: no reply a provider documents as something else
    # (a policy block, a disabled account, a rate limit) may be read as one.
    wrong = [
        f"{row['provider']}: {row['code']} {row['enhanced']} {row['text']}"
        for row in ROWS
        if row["cls"] != BounceClass.INVALID_ADDRESS
        and judge_documented(row).bounce_class == BounceClass.INVALID_ADDRESS
    ]
    assert wrong == []


def test_no_sender_quota_or_rate_limit_reads_as_a_full_inbox():
    # A full mailbox auto-blocks the recipient for the account: a sender's own quota must not.
    wrong = [
        row["text"]
        for row in ROWS
        if row["cls"] != BounceClass.MAILBOX_FULL
        and judge_documented(row).bounce_class == BounceClass.MAILBOX_FULL
    ]
    assert wrong == []


def test_most_documented_replies_get_the_meaning_the_provider_gives_them():
    score = score_documented(ROWS)
    # 90.4% today (docs/bounces.md); 75.1% before the provider codes were read.
    assert score.accuracy >= 0.88, "\n".join(score.misses)


@pytest.mark.parametrize(
    ("rule_id", "tag"),
    sorted(
        (rule.id, tag)
        for rule in RULES
        for tag in PROVENANCE.get(rule.id, ())
        if tag in TABLES and (rule.id, tag) not in CITED_ELSEWHERE
    ),
)
def test_a_rule_that_cites_a_provider_table_matches_a_text_from_it(rule_id, tag):
    rule = next(r for r in RULES if r.id == rule_id)
    texts = [row["text"] for row in ROWS if row["provider"] in TABLES[tag]]
    assert any(rule.pattern.search(text) for text in texts), f"{rule_id} cites {tag}"


def test_every_table_tag_is_a_known_source():
    assert set(TABLES) <= STANDARDS


@pytest.mark.parametrize(
    ("provider", "code", "text", "expected"),
    [
        # A provider's own code decides over the generic words around it.
        ("cox", 554, "554 cmsmtp blocked. AUP#CXBL", "blocked"),
        ("comcast", 550, "550 5.1.0 BL000010 blocked, see the Comcast error codes", "blocked"),
        ("aol", 554, "554 RTR:DU", "blocked"),
        ("yahoo", 421, "421 Message from (192.0.2.1) temporarily deferred - 4.16.51", "blocked"),
        # Volume limits are not policy blocks, even when the reply mentions spam.
        ("tencent", 550, "550 Ip frequency limited", "other"),
        (
            "gmail",
            421,
            "421 4.7.28 Gmail has detected an unusual rate of email originating from your IP "
            "address. To protect our users from spam, email has been temporarily rate limited.",
            "other",
        ),
        # ...but a limit that names an authentication cause is the cause's block.
        (
            "gmail",
            421,
            "421 4.7.27 This mail has been rate limited because SPF does not pass.",
            "blocked",
        ),
        # A transport failure under an X.7 code is not a policy refusal of the sender.
        (
            "microsoft",
            451,
            "451 4.7.321 starttls-not-supported: Destination mail server must support TLS",
            "other",
        ),
        # An address in 4.16.5x.x is not Yahoo's 4.16.5x deferral code.
        (
            "yahoo",
            550,
            "host mx.example.org[4.16.53.10] said: 550 5.1.1 <bob@example.org>: User unknown",
            "invalid_address",
        ),
        # A DSN field written "dns:host" is not AOL's DNS:xx code.
        (
            "aol",
            550,
            "550 5.1.1 <bob@example.org>: User unknown. Remote-MTA: dns:mx.example.org",
            "invalid_address",
        ),
        # "No SMTP service" in a connection refusal for policy is not a dead domain.
        (
            "gmx",
            554,
            "554-No SMTP service 554-Reject due to policy restrictions.",
            "blocked",
        ),
    ],
)
def test_provider_codes_in_context(provider, code, text, expected):
    row = {"provider": provider, "code": code, "enhanced": "", "text": text}
    assert group(judge_documented(row).bounce_class) == group(expected)


def _recipient(row: dict) -> str:
    # The mailbox domain the provider's page speaks of, where the meaning holds only there.
    return f"bob@{row.get('domain', 'example.org')}"


def _reply(row: dict, recipient: str = "") -> str:
    """The reply as a server sends it, naming the recipient of the report below."""
    code = row["code"] or 550
    text = re.sub(r"[\w.+-]+@[\w-]+(\.[\w-]+)+", recipient or _recipient(row), row["text"])
    if not text.lstrip().startswith(str(code)):
        text = " ".join(p for p in (str(code), row["enhanced"], text) if p)
    return text


def _postfix_dsn(row: dict) -> bytes:
    status = row["enhanced"] or f"{str(row['code'] or 550)[0]}.0.0"
    action = "delayed" if status.startswith("4") else "failed"
    reply = _reply(row)
    return f"""From: MAILER-DAEMON@mail.acme.example (Mail Delivery System)
To: news@mail.acme.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

<{_recipient(row)}>: host mx.example.org[192.0.2.9] said: {reply} (in reply to RCPT TO command)

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.acme.example

Final-Recipient: rfc822; {_recipient(row)}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; {reply}

--b--
""".encode()


def test_a_documented_reply_means_the_same_inside_a_returned_message():
    # Returned mail carries the provider's reply inside an MTA's report: a Postfix DSN, or
    # Exim's plain text (permanent failures only: Exim words it "a permanent error").
    changed = []
    for row in ROWS:
        alone = group(judge_documented(row).bounce_class)
        reports = [("postfix", _postfix_dsn(row))]
        if not (str(row["code"] or 5).startswith("4") or row["enhanced"].startswith("4")):
            reports.append(("exim", _multiline_exim(row, [_reply(row)])))
        for mta, raw in reports:
            failed = parse_report(raw).failed
            got = group(failed[0].bounce_class) if failed else "(not read as a bounce)"
            if got != alone or [f.recipient for f in failed] != [_recipient(row)]:
                changed.append(f"{mta}: {alone} -> {got}: {row['text'][:80]}")
    assert changed == []


# --- The same replies as servers send them: on several lines ---------------------------------
# A reply of more than one line repeats its code, and often its enhanced status, on every
# line (RFC 5321 §4.2.1), and the server breaks the text wherever it likes. Postfix joins the
# lines with spaces in its DSN and wraps its explanation at 76 columns; Exim indents them;
# sendmail records only the first line in the DSN and quotes them all in the transcript.


def _reply_lines(row: dict, breaks: set[int]) -> list[str]:
    """The reply broken before the words at `breaks`: "550-5.1.1 The email", "550 5.1.1 …"."""
    match = re.match(r"(\d{3})[ -]?(?:([245]\.\d{1,3}\.\d{1,3})\s+)?(.*)", _reply(row), re.S)
    code, status, words = match.group(1), match.group(2), match.group(3).split()
    starts = [0, *sorted(b for b in breaks if 0 < b < len(words)), len(words)]
    lines = [" ".join(words[a:b]) for a, b in itertools.pairwise(starts)]
    prefix = f"{code}{{}}{status + ' ' if status else ''}"
    return [
        prefix.format("-" if i < len(lines) - 1 else " ") + line for i, line in enumerate(lines)
    ]


def _status(row: dict) -> str:
    return row["enhanced"] or f"{str(row['code'] or 550)[0]}.0.0"


def _fold(text: str, width: int) -> str:
    """A long line folded as an MTA folds it: at spaces only, never inside a word."""
    return textwrap.fill(
        text, width, subsequent_indent="    ", break_on_hyphens=False, break_long_words=False
    )


def _multiline_postfix(row: dict, lines: list[str]) -> bytes:
    bob, reply = _recipient(row), " ".join(lines)
    said = f"<{bob}>: host mx.example.org[192.0.2.9] said: {reply} (in reply to RCPT TO command)"
    diagnostic = f"Diagnostic-Code: smtp; {reply}"
    action = "delayed" if _status(row).startswith("4") else "failed"
    return f"""From: MAILER-DAEMON@mail.acme.example (Mail Delivery System)
To: news@mail.acme.example
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

{_fold(said, 76)}

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.acme.example

Final-Recipient: rfc822; {bob}
Action: {action}
Status: {_status(row)}
{_fold(diagnostic, 78)}

--b--
""".encode()


def _multiline_exim(row: dict, lines: list[str]) -> bytes:
    bob = _recipient(row)
    reply = "\n".join(f"    {line}" for line in lines)
    return f"""From: Mail Delivery System <Mailer-Daemon@mail.acme.example>
To: news@mail.acme.example
Subject: Mail delivery failed: returning message to sender
X-Failed-Recipients: {bob}

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {bob}
    host mx.example.org [192.0.2.9]
    SMTP error from remote mail server after RCPT TO:<{bob}>:
{reply}

------ This is a copy of the message, including all the headers. ------

From: news@mail.acme.example
To: {bob}
Subject: Hello

Hi
""".encode()


def _multiline_qmail(row: dict, lines: list[str]) -> bytes:
    bob = _recipient(row)
    return _plain_bounce(
        "MAILER-DAEMON@mail.acme.example",
        "failure notice",
        "Hi. This is the qmail-send program at mail.acme.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{bob}>:\n192.0.2.9 does not like recipient.\nRemote host said: "
        + "\n".join(lines)
        + "\nGiving up on 192.0.2.9.\n\n--- Below this line is a copy of the message.\n",
    )


def _multiline_james(row: dict, lines: list[str]) -> bytes:
    # Apache James's bounce: the reply as the remote server sent it, one line under another.
    return _plain_bounce(
        "postmaster@mail.acme.example",
        "Re: Hello",
        "Hi. This is the James mail server at mail.acme.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.  Below\n"
        "I include the list of recipients and the reason why I was unable to deliver\n"
        f"your message.\n\nFailed recipient(s):\n{_recipient(row)}\n\nError message:\n"
        + "\n".join(lines)
        + "\n\n",
    )


def _multiline_changes(row: dict, breaks: set[int]) -> list[str]:
    """How the reply's meaning or recipient changes when it comes on several lines, and
    whether the diagnostic shown keeps its last line."""
    alone = group(judge_documented(row).bounce_class)
    lines = _reply_lines(row, breaks)
    shapes = [("postfix", _multiline_postfix(row, lines))]
    if _status(row).startswith("5") and not str(row["code"] or 5).startswith("4"):
        shapes += [
            ("exim", _multiline_exim(row, lines)),
            ("sendmail", sendmail_report({_recipient(row): lines})),
            ("qmail", _multiline_qmail(row, lines)),
            ("james", _multiline_james(row, lines)),
        ]
    last_words = " ".join(re.sub(r"^\d{3}[ -](?:[245]\.\d+\.\d+ )?", "", lines[-1]).split())
    changed = []
    for mta, raw in shapes:
        failed = parse_report(raw).failed
        got = group(failed[0].bounce_class) if failed else "(not read as a bounce)"
        if got != alone or [f.recipient for f in failed] != [_recipient(row)]:
            changed.append(f"{mta}: {alone} -> {got}: {lines}")
        elif last_words not in " ".join(failed[0].diagnostic.split()):
            changed.append(f"{mta}: the diagnostic lost lines: {failed[0].diagnostic!r}")
    return changed


def test_a_documented_reply_means_the_same_on_several_lines():
    # Every reply, broken every 3, 5 and 8 words. Read line by line, 108 renderings of 34
    # replies lost their meaning ("Requested action not" / "550 5.5.0 taken: mailbox
    # unavailable", "Recipient address" / "550-5.1.1 rejected: User unknown"). Where the
    # lines were not indented (qmail, James), the diagnostic stopped at the first line.
    changed = []
    for row in ROWS:
        words = len(_reply(row).split())
        for every in (3, 5, 8):
            changed += _multiline_changes(row, set(range(every, words, every)))
    assert changed == []


@settings(max_examples=200, deadline=None)
@given(row=st.sampled_from(ROWS), breaks=st.sets(st.integers(1, 40), max_size=8))
def test_a_documented_reply_means_the_same_wherever_its_lines_break(row, breaks):
    assert _multiline_changes(row, breaks) == []


def _exchange_online_ndr(row: dict, with_dsn: bool) -> bytes:
    """Exchange Online's NDR: the explanation in HTML (entities and all), the DSN optional."""
    bob, reply = _recipient(row), html.escape(_reply(row))
    action = "delayed" if _status(row).startswith("4") else "failed"
    dsn = f"""--b
Content-Type: message/delivery-status

Reporting-MTA: dns;BN6PR11MB1234.namprd11.prod.outlook.com

Final-Recipient: rfc822;{bob}
Action: {action}
Status: {_status(row)}
Diagnostic-Code: smtp;{_reply(row)}

"""
    return f"""From: Microsoft Outlook <postmaster@mail.acme.example>
To: <news@mail.acme.example>
Subject: Undeliverable: Hello
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/html; charset="us-ascii"

<html><body><p><b>Your message to {bob} couldn&#39;t be delivered.</b></p>
<p>Delivery has failed to these recipients or groups:</p><p>{bob}<br></p>
<p>Diagnostic information for administrators:</p>
<p>Generating server: BN6PR11MB1234.namprd11.prod.outlook.com<br><br>{bob}<br>
Remote Server returned &#39;{reply}&#39;<br></p></body></html>

{dsn if with_dsn else ""}--b--
""".encode()


def test_a_documented_reply_means_the_same_in_an_html_explanation():
    # Without the DSN, only the HTML says what happened: "doesn&#39;t have a yahoo.com
    # account" was read as "doesn 39;t" before its entities were decoded.
    changed = []
    for row in ROWS:
        alone = group(judge_documented(row).bounce_class)
        permanent = _status(row).startswith("5") and not str(row["code"] or 5).startswith("4")
        for with_dsn in (True, False) if permanent else (True,):
            failed = parse_report(_exchange_online_ndr(row, with_dsn)).failed
            got = group(failed[0].bounce_class) if failed else "(not read as a bounce)"
            if got != alone or [f.recipient for f in failed] != [_recipient(row)]:
                changed.append(f"dsn={with_dsn}: {alone} -> {got}: {row['text'][:80]}")
    assert changed == []


def _plain_bounce(sender: str, subject: str, body: str) -> bytes:
    return f"From: {sender}\nTo: news@mail.acme.example\nSubject: {subject}\n\n{body}".encode()


# Other MTAs' and providers' plain-text reports, each quoting the reply its own way.
OTHER_REPORTS = {
    "qmail": lambda bob, reply: _plain_bounce(
        "MAILER-DAEMON@mail.acme.example",
        "failure notice",
        "Hi. This is the qmail-send program at mail.acme.example.\n"
        "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
        "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
        f"<{bob}>:\n192.0.2.9 does not like recipient.\nRemote host said: {reply}\n"
        "Giving up on 192.0.2.9.\n\n--- Below this line is a copy of the message.\n",
    ),
    "yahoo": lambda bob, reply: _plain_bounce(
        "MAILER-DAEMON@yahoo.com",
        "Failure Notice",
        "Sorry, we were unable to deliver your message to the following address.\n\n"
        f"<{bob}>:\nRemote host said: {reply} [RCPT_TO]\n\n"
        "--- Below this line is a copy of the message.\n",
    ),
    "gmail (before 2015)": lambda bob, reply: _plain_bounce(
        "Mail Delivery Subsystem <mailer-daemon@googlemail.com>",
        "Delivery Status Notification (Failure)",
        f"Delivery to the following recipient failed permanently:\n\n     {bob}\n\n"
        "Technical details of permanent failure:\nGoogle tried to deliver your message, but it"
        " was rejected by the server for the recipient domain example.org by mx.example.org."
        " [192.0.2.9].\n\nThe error that the other server returned was:\n"
        f"{reply}\n\n----- Original message -----\n",
    ),
    # An explanation that says what every failure is ("rejected") adds no reason of its own.
    "a generic explanation": lambda bob, reply: _plain_bounce(
        "Mail Delivery System <Mailer-Daemon@mail.acme.example>",
        "Mail delivery failed: returning message to sender",
        "Your message was not delivered because the destination server rejected it.\n\n"
        f"  {bob}\n    host mx.example.org [192.0.2.9]\n"
        f"    SMTP error from remote mail server after RCPT TO:<{bob}>:\n    {reply}\n",
    ),
    "exchange": lambda bob, reply: _plain_bounce(
        "postmaster@mail.acme.example",
        "Undeliverable: Hello",
        f"Delivery has failed to these recipients or groups:\n\n{bob}\n\n"
        "Diagnostic information for administrators:\n\nGenerating server: mail.acme.example\n\n"
        f"{bob}\nmx.example.org #{reply} ##\n\nOriginal message headers:\n",
    ),
}


def test_a_documented_reply_means_the_same_in_other_reports():
    # Gmail's old template ("it was rejected by the server for the recipient domain") and a
    # generic explanation ("the destination server rejected it") say "rejected" of every
    # failure: read as wording, each made 43 replies with no clear words of their own (row
    # 13a's "mailbox unavailable" at Outlook.com and GMX among them) a policy block.
    changed = []
    for row in ROWS:
        if _status(row).startswith("4") or str(row["code"] or 5).startswith("4"):
            continue
        alone = group(judge_documented(row).bounce_class)
        for name, report in OTHER_REPORTS.items():
            failed = parse_report(report(_recipient(row), _reply(row))).failed
            got = group(failed[0].bounce_class) if failed else "(not read as a bounce)"
            if got != alone or [f.recipient for f in failed] != [_recipient(row)]:
                changed.append(f"{name}: {alone} -> {got}: {row['text'][:80]}")
    assert changed == []


# --- Several recipients in one report, each with its own reply ----------------------------


MULTI_REPORTS = {
    "postfix": lambda replies: _plain_bounce(
        "MAILER-DAEMON@mail.acme.example (Mail Delivery System)",
        "Undelivered Mail Returned to Sender",
        "\n\n".join(
            f"<{a}>: host mx.example.org[192.0.2.9] said: {r} (in reply to RCPT TO command)"
            for a, r in replies.items()
        ),
    ),
    "exim": lambda replies: _plain_bounce(
        "Mail Delivery System <Mailer-Daemon@mail.acme.example>",
        "Mail delivery failed: returning message to sender",
        "This is a permanent error. The following address(es) failed:\n\n"
        + "\n\n".join(
            f"  {a}\n    host mx.example.org [192.0.2.9]\n"
            f"    SMTP error from remote mail server after RCPT TO:<{a}>:\n    {r}"
            for a, r in replies.items()
        ),
    ),
    "qmail": lambda replies: _plain_bounce(
        "MAILER-DAEMON@mail.acme.example",
        "failure notice",
        "Hi. This is the qmail-send program at mail.acme.example.\n\n"
        + "\n\n".join(
            f"<{a}>:\n192.0.2.9 does not like recipient.\nRemote host said: {r}"
            for a, r in replies.items()
        ),
    ),
    # sendmail lists every address first and quotes the whole session after.
    "sendmail": lambda replies: sendmail_report({a: [r] for a, r in replies.items()}),
}
PERMANENT = [
    row
    for row in ROWS
    if not (_status(row).startswith("4") or str(row["code"] or 5).startswith("4"))
    and "domain" not in row
]


@settings(max_examples=150, deadline=None)
@given(rows=st.lists(st.sampled_from(PERMANENT), min_size=2, max_size=3))
def test_each_recipient_of_a_report_keeps_its_own_replys_meaning(rows):
    # Another recipient's reply must never decide this one's class: in sendmail's layout the
    # last address listed used to take in the whole session, other recipients' unknown users
    # included, and could be blocked everywhere for a reply that named no dead mailbox.
    addresses = [f"user{i}@host{i}.example" for i in range(len(rows))]
    replies = {a: _reply(row, a) for a, row in zip(addresses, rows, strict=True)}
    expected = {
        a: group(judge_documented(row).bounce_class) for a, row in zip(addresses, rows, strict=True)
    }
    for name, report in MULTI_REPORTS.items():
        got = {r.recipient: group(r.bounce_class) for r in parse_report(report(replies)).failed}
        assert got == expected, name


def test_the_documented_figures_in_the_docs_are_the_current_ones():
    docs = (Path(__file__).resolve().parents[2] / "docs" / "bounces.md").read_text()
    out = StringIO()
    call_command("classify_bounce", "--documented", stdout=out)

    table = [line for line in out.getvalue().splitlines() if line.startswith("| ")]
    missing = [line for line in table if line not in docs.splitlines()]
    assert table and not missing, "docs/bounces.md is out of date:\n" + "\n".join(missing)
