"""Email address normalisation: done once, on the way in.

An address is trimmed, a display name is dropped, the domain is lower-cased and
IDNA-encoded, and the local part is lower-cased too, so addresses compare with plain
equality (and plain B-tree indexes) everywhere: blocks, filters, exports.
"""

from __future__ import annotations

import re
from email.utils import getaddresses

import idna

MAX_ADDRESS_LENGTH = 254
MAX_LOCAL_LENGTH = 64

# An address inside free text (a bounce's explanation, a header's value): the common shape, a
# dot-atom local part and a dotted domain, not RFC 5322's whole grammar. ADDRESS_PATTERN is for
# patterns that put something before it ("from:", "<"); ADDRESS_IN_TEXT finds one anywhere. It
# starts only where no address character comes before, so a long run of them with no "@" in it
# is read once, not once from each of its characters: without that, finding addresses in 100 KB
# of digits took ten seconds.
ADDRESS_CHARS = r"[\w.!#$%&'*+/=?^`{|}~-]"
ADDRESS_PATTERN = ADDRESS_CHARS + r"+@[\w-]+(?:\.[\w-]+)+"
ADDRESS_IN_TEXT = re.compile(rf"(?<!{ADDRESS_CHARS}){ADDRESS_PATTERN}", re.ASCII)

# An address as a reply or an explanation shows it, to be taken out of the words before they
# are read (a local part "spam@" or "mailbox-full@" says nothing about the failure). Besides
# the common shape: an address in angle brackets or in a DSN's address field, whatever its
# characters, and one whose domain has U-labels (RFC 6531: "用户@例子.中国",
# "spam@example.中国"). Text glued to an ASCII domain stays words ("kijitora@example.jp您好"):
# the ASCII shape stops where the script changes. For text that is not all ASCII (ASCII text
# needs only ADDRESS_IN_ASCII_WORDING). Possessive runs: hostile text must not be read from
# every position (see ADDRESS_IN_TEXT).
# The common shape, or at a host with no dot ("kijitora@localhost": local delivery).
ADDRESS_OR_LOCAL_HOST = ADDRESS_CHARS + r"+@[\w-]++(?:\.[\w-]++)*+"
_U_LABEL = r"[A-Za-z0-9_-]*+[^\W\x00-\x7f][\w-]*+"
_U_DOMAIN = (
    rf"(?:[A-Za-z0-9_-]++\.)*+{_U_LABEL}(?:\.[\w-]++)++"  # a U-label before the last dot
    r"|(?:[A-Za-z0-9_-]++\.)++[^\W\x00-\x7f]++"  # or only the top-level one: "example.中国"
)
ADDRESS_IN_WORDING_PATTERN = (
    r"(?<=<)[^\s<>@]++@[^\s<>@]++(?=>)"
    # A DSN's address field ("Final-Recipient: utf-8; 用户@example.com", RFC 6533).
    r"|(?i:(?<=rfc822;)|(?<=utf-8;))[ \t]*+[^\s<>@;]++@[^\s<>@;]++"
    rf"|(?<![\w.!#$%&'*+/=?^`{{|}}~-])[\w.!#$%&'*+/=?^`{{|}}~-]++@(?:{_U_DOMAIN})"
    rf"|(?a:(?<!{ADDRESS_CHARS}){ADDRESS_OR_LOCAL_HOST})"
)
ADDRESS_IN_WORDING = re.compile(ADDRESS_IN_WORDING_PATTERN)
# The same for text that is all ASCII, where the common shape is all there is. A host with no
# dot is a domain too ("kijitora@localhost", "bob@sims-ms-daemon": local delivery), though no
# recipient we send to has one.
ADDRESS_IN_ASCII_WORDING = re.compile(rf"(?<!{ADDRESS_CHARS}){ADDRESS_OR_LOCAL_HOST}", re.ASCII)


class InvalidAddress(ValueError):
    pass


def normalize_domain(domain: str) -> str:
    domain = domain.strip().rstrip(".").lower()
    if not domain:
        raise InvalidAddress("The domain is empty.")
    if domain.isascii():
        labels = domain.split(".")
        if len(labels) < 2 or any(not label or len(label) > 63 for label in labels):
            raise InvalidAddress(f"'{domain}' is not a valid domain.")
        if any(not all(c.isalnum() or c == "-" for c in label) for label in labels):
            raise InvalidAddress(f"'{domain}' is not a valid domain.")
        if any(label.startswith("-") or label.endswith("-") for label in labels):
            raise InvalidAddress(f"'{domain}' is not a valid domain.")
        return domain
    try:
        encoded = idna.encode(domain, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidAddress(f"'{domain}' is not a valid domain: {exc}") from None
    return normalize_domain(encoded)


def normalize_address(value: str) -> str:
    """Return the normal form of an address, or raise InvalidAddress with a reason."""
    if not isinstance(value, str):
        raise InvalidAddress("An address must be a string.")
    value = value.strip()
    if "<" in value:
        # A display name and its address ("Bob <bob@example.com>"); never the first of
        # several, which would drop the others without a word.
        parts = getaddresses([value])
        if sum("@" in address.strip("@") for _, address in parts) > 1:
            raise InvalidAddress(f"'{value}' holds several addresses: give one at a time.")
        if len(parts) != 1:
            raise InvalidAddress(f"'{value}' is not an email address.")
        value = parts[0][1]
    local, sep, domain = value.rpartition("@")
    if not sep or not local:
        raise InvalidAddress(f"'{value}' is not an email address.")
    if len(local) > MAX_LOCAL_LENGTH:
        raise InvalidAddress("The part before @ is longer than 64 characters.")
    if any(c.isspace() for c in local) or '"' in local:
        raise InvalidAddress(f"'{value}' is not an email address.")
    address = f"{local.lower()}@{normalize_domain(domain)}"
    if len(address) > MAX_ADDRESS_LENGTH:
        raise InvalidAddress("The address is longer than 254 characters.")
    return address


def domain_of(address: str) -> str:
    """The domain of an already-normalised address."""
    return address.rpartition("@")[2]
