"""Internationalised domains as people write them.

Addresses and domains are stored with their domains in A-labels (`xn--fsqu00a.xn--fiqs8s`,
delivery.addresses), which compare and index as plain ASCII. The console shows them in
U-labels (`例子.中国`), as their owners write them; the API and CSV keep the stored form.
"""

from __future__ import annotations

import idna


def display_domain(domain: str) -> str:
    """The U-label form of an A-label domain; anything else, and an A-label that does not
    decode, as it is."""
    if "xn--" not in domain:
        return domain
    try:
        return idna.decode(domain)
    except idna.IDNAError:
        return domain


def display_address(address: str) -> str:
    """An address with its domain in U-labels (`用户@例子.中国`)."""
    local, at, domain = (address or "").rpartition("@")
    return f"{local}{at}{display_domain(domain)}" if at else address
