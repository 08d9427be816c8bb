"""Properties of whom a bounce blames, over generated reports (Hypothesis).

Whatever the addresses, and wherever the report mentions its own sender, the list it went
back to, or the address the mail came from, only the failed recipient is ever blamed; and a
report that names where an alias led never proves the alias dead.
"""

from __future__ import annotations

import textwrap

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from delivery.reports import parse_report

_LABEL = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10)
_DOMAIN = st.builds(lambda a, b: f"{a}.{b}", _LABEL, st.sampled_from(["org", "net", "example"]))
_LOCAL = st.builds(
    lambda a, b: f"{a}.{b}" if b else a, _LABEL, st.one_of(st.just(""), _LABEL)
).filter(lambda s: s not in {"postmaster", "root", "abuse", "daemon"})


def distinct_addresses(count: int) -> st.SearchStrategy[list[str]]:
    """`count` addresses with distinct local parts (so distinct addresses)."""
    return st.builds(
        lambda locals_, domains: [f"{a}@{d}" for a, d in zip(locals_, domains, strict=True)],
        st.lists(_LOCAL, min_size=count, max_size=count, unique=True),
        st.lists(_DOMAIN, min_size=count, max_size=count),
    )


@settings(max_examples=150, deadline=None)
@given(
    addresses=distinct_addresses(3),
    list_name=_LABEL,
    layout=st.permutations(["recipient", "sender", "list"]),
    shape=st.sampled_from(
        [
            "<{r}>: host mx.example.net said: {reply}",
            "Sorry, unable to deliver your message to {r} for the following reason: {reply}",
            "{reply} (the account of {r})",
        ]
    ),
    reply=st.sampled_from(
        [
            "550 5.1.1 User unknown",
            "552 5.2.2 Mailbox full",
            "554 5.7.1 Message rejected as spam",
            "550 No such user here",
        ]
    ),
)
def test_only_the_failed_recipient_is_ever_blamed(addresses, list_name, layout, shape, reply):
    recipient, sender, list_domain_address = addresses
    list_domain = list_domain_address.split("@")[1]
    the_list = f"{list_name}@{list_domain}"
    # The list's own address is never blamed: one that is also the recipient's ("0@0.org"
    # for both) is a different question.
    assume(the_list != recipient)
    lines = {
        "recipient": shape.format(r=recipient, reply=reply),
        "sender": f"The mail came from {sender}: MAIL FROM:<{sender}> SIZE=2048",
        "list": f"This message was sent to the {the_list} list.",
    }
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        f"To: {list_name}-bounces@{list_domain}\n"
        "Subject: Undelivered Mail Returned to Sender\n\n"
        "I'm sorry to have to inform you that your message could not be delivered.\n\n"
        + "\n".join(lines[part] for part in layout)
        + "\n"
    ).encode()

    blamed = {o.recipient for o in parse_report(raw).failed}

    assert blamed == {recipient}


@settings(max_examples=100, deadline=None)
@given(
    addresses=distinct_addresses(2),
    status=st.sampled_from(["5.1.1", "5.1.2", "5.1.10", "5.0.0"]),
)
def test_a_forward_s_dead_mailbox_never_proves_the_alias_dead(addresses, status):
    alias, target = addresses
    raw = (
        "From: MAILER-DAEMON@mx.example.net\n"
        "To: news@mail.acme.example\n"
        "Subject: Delivery Status Notification (Failure)\n"
        "MIME-Version: 1.0\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\n\n'
        "--b\nContent-Type: text/plain\n\nDelivery failed.\n\n"
        "--b\nContent-Type: message/delivery-status\n\n"
        "Reporting-MTA: dns; mx.example.net\n\n"
        f"Original-Recipient: rfc822;{alias}\n"
        f"Final-Recipient: rfc822;{target}\n"
        "Action: failed\n"
        f"Status: {status}\n"
        "Diagnostic-Code: smtp; 550 User unknown\n\n"
        "--b--\n"
    ).encode()

    (outcome,) = parse_report(raw).failed

    assert (outcome.recipient, outcome.final_recipient) == (alias, target)
    assert outcome.bounce_class != "invalid_address"
    assert not outcome.hard


@settings(max_examples=200, deadline=None)
@given(
    addresses=distinct_addresses(2),
    prose=st.sampled_from(
        [
            "For further assistance with this problem, please contact <{a}>.",
            "If you think this report is wrong, please write to {a} and quote it in full.",
            "The standard form of an address at this site is {a}, although people may choose"
            " another one to publish.",
            "The address your message was sent to is not the one called {a}, which belongs"
            " to another person.",
        ]
    ),
    width=st.integers(min_value=60, max_value=100),
    indent=st.sampled_from(["", "  "]),
)
def test_a_sentence_wrapped_at_an_address_names_no_recipient(addresses, prose, width, indent):
    """Each MTA wraps its explanation at its own width; where a wrapped sentence happens to put
    another address at the start of a line, that address is still not the failed recipient."""
    recipient, other = addresses
    paragraph = textwrap.fill(
        "I'm sorry to have to inform you that your message could not be delivered"
        f" to one or more recipients. {prose.format(a=other)}",
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )
    raw = (
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\n"
        "To: news@mail.acme.example\n"
        "Subject: Undelivered Mail Returned to Sender\n\n"
        f"{paragraph}\n\n"
        f"<{recipient}>: host mx.example.net said: 550 5.1.1 User unknown\n"
    ).encode()

    outcomes = parse_report(raw).failed

    assert [(o.recipient, o.bounce_class) for o in outcomes] == [(recipient, "invalid_address")]
