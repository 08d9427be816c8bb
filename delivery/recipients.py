"""Which addresses a bounce may name as the failed recipient, and which never.

A bounce's failed recipient comes from the report's own fields (Final-Recipient,
Original-Recipient, X-Failed-Recipients, the recipient lines of MTA formats) and, strongest,
from the sent message it is about. Addresses that only happen to appear in a bounce are not
recipients: the bounce's own From, To and Return-Path, the postmaster and mail daemons, and
mailing lists (RFC 2369 List-* headers, RFC 2919 List-Id, `owner-`/`-request` addresses,
RFC 2142 role names). Blocking one of those would stop mail to someone who never bounced.
"""

from __future__ import annotations

import email
import email.message
import email.utils
import re

from .addresses import ADDRESS_IN_TEXT

# RFC 2142 role mailboxes and the names mail daemons send from.
ROLE_LOCAL_PARTS = frozenset(
    {
        "postmaster",
        "mailer-daemon",
        "mailer_daemon",
        "mailerdaemon",
        "mail-daemon",
        "maildaemon",
        "hostmaster",
        "abuse",
        "daemon",
        "root",
        "mdaemon",
        "mail-delivery-system",
    }
)
# Mailing-list plumbing: owner-list@, list-owner@, list-request@, list-bounces@ (RFC 2142 §4,
# the conventions of Majordomo, Mailman and Sympa).
_LIST_LOCAL_PART = re.compile(r"^owner-|-(owner|request|bounces?|admin)(\+.*)?$", re.I)
_LIST_HEADERS = ("List-Post", "List-Owner", "List-Help", "List-Subscribe", "List-Unsubscribe")
_MAILTO = re.compile(r"<mailto:([^>?]+)", re.I)
_ADDRESS = ADDRESS_IN_TEXT


# Domains whose every address is a discussion group, not a person's mailbox: Google Groups
# (groups.google.com: "groupname@googlegroups.com"). A failure for one of them comes from the
# group's own posting rules (Groups Settings API: whoCanPostMessage, sendMessageDenyNotification).
GROUP_SERVICE_DOMAINS = frozenset({"googlegroups.com"})


def is_group_service_address(address: str | None) -> bool:
    """`address` belongs to a group service (GROUP_SERVICE_DOMAINS), not to a mailbox."""
    if not address or "@" not in address:
        return False
    return address.rsplit("@", 1)[1].lower() in GROUP_SERVICE_DOMAINS


def is_role_or_list(address: str) -> bool:
    local = address.rsplit("@", 1)[0].lower()
    return local in ROLE_LOCAL_PARTS or bool(_LIST_LOCAL_PART.search(local))


def list_addresses(headers: email.message.Message | None) -> set[str]:
    """The mailing-list addresses a message's List-* headers name (RFC 2369, RFC 2919)."""
    found: set[str] = set()
    if headers is None:
        return found
    for name in _LIST_HEADERS:
        for value in headers.get_all(name) or []:
            found.update(a.lower() for a in _MAILTO.findall(str(value)))
    for value in headers.get_all("List-Id") or []:
        # "Name <list.example.org>": the list is list@example.org by convention.
        match = re.search(r"<([^<>.\s]+)\.([^<>\s]+)>", str(value))
        if match:
            found.add(f"{match.group(1)}@{match.group(2)}".lower())
    return found


def own_addresses(message: email.message.Message) -> set[str]:
    """The bounce's own sender and addressees: who sent the report and who it went back to."""
    found = set()
    for name in ("From", "To", "Cc", "Return-Path", "Sender", "Reply-To"):
        for value in message.get_all(name) or []:
            found.update(a.lower() for a in _ADDRESS.findall(str(value)))
    return found


_LIST_PREFIX = re.compile(r"^owner-", re.I)
_LIST_SUFFIX = re.compile(r"-(owner|request|bounces?|admin)(\+.*)?$", re.I)


def lists_of(address: str) -> set[str]:
    """The lists a plumbing address may serve: `owner-x@`, `x-request@`, `x-bounces+…@` → `x@`.
    Both readings of an address that has a prefix and a suffix: `owner-bounces@` is the
    bounce address of a list named "owner" or the owner of one named "bounces"."""
    local, _, domain = address.rpartition("@")
    bases = {pattern.sub("", local) for pattern in (_LIST_PREFIX, _LIST_SUFFIX)}
    return {f"{base}@{domain}" for base in bases if base and base != local}


def untrusted(message: email.message.Message, original: email.message.Message | None) -> set[str]:
    """Addresses a report must never name as its failed recipient (besides role names)."""
    found = own_addresses(message) | list_addresses(message) | list_addresses(original)
    if original is not None:
        for name in ("From", "Return-Path", "Sender", "Reply-To", "Errors-To"):
            for value in original.get_all(name) or []:
                found.update(a.lower() for a in _ADDRESS.findall(str(value)))
    # A list's bounce or request address names the list itself: a bounce that went back to
    # `x-bounces@` is about a member of `x@`, never about the list (Mailman, Majordomo, Sympa).
    found |= {base for address in found for base in lists_of(address)}
    return found


_FIELD = re.compile(
    rb"^(?:Final-Recipient|Original-Recipient|X-Failed-Recipients|Original-Rcpt-To)"
    rb"[ \t]*:[^\n]*",
    re.I | re.M,
)


def named_in_fields(raw: bytes) -> set[str]:
    """Addresses a report names in its own recipient fields (RFC 3464, RFC 5965, Exim's
    X-Failed-Recipients): the strongest evidence a report itself carries."""
    found = set()
    for line in _FIELD.findall(raw):
        found.update(a.lower() for a in _ADDRESS.findall(line.decode("latin-1")))
    return found


def is_untrusted_recipient(address: str, raw: bytes) -> bool:
    """Whether `address` is one no report may blame, judged from the raw report."""
    from .reports import parse_report  # late: reports imports this module

    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"))
    report = parse_report(raw)
    address = address.lower()
    return is_role_or_list(address) or address in untrusted(message, report.original_headers)
