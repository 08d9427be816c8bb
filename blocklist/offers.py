"""Act where you look: the change a person may make to a block they are looking at.

The blocking query's results, a bounced event row and a bounced message's page offer the
action that applies (carried out by blocklist.actions, with confirmation and history):

- an invalid-address block this account's sending triggered: remove it (for everyone);
- one another account triggered: whitelist it for this account (or end the whitelist);
- a reject block: remove it (the recipient opted back in);
- a custom block: delete it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from django.urls import reverse

from delivery.addresses import InvalidAddress, normalize_address
from sesconsole.models import Account

from .gate import Match, Verdict, check
from .surges import HeldVerdict


@dataclass(frozen=True)
class Offer:
    action: str  # "remove" | "whitelist" | "unwhitelist" | "delete"
    address: str
    label: str  # the button
    confirm: str  # the question asked before acting
    console_url: str  # POST with `addresses` (or `ids` for custom blocks) and `next`
    api_url: str  # POST with {"addresses": [address]}
    block_id: int | None = None

    def as_json(self) -> dict:
        return {
            "action": self.action,
            "label": self.label,
            "method": "POST",
            "url": self.api_url,
            "body": {"addresses": [self.address]},
        }


def offer_for_match(address: str, match: Match, *, whitelisted: bool = False) -> Offer | None:
    """What may be done to `match`; `whitelisted`: the account has whitelisted the block."""
    if match.kind == "invalid":
        if match.triggered_by_you:
            return Offer(
                "remove",
                address,
                "Remove block",
                f"Remove the block of {address} for every account? Do this only if you know "
                "the address works.",
                reverse("blocklist:invalid_remove"),
                reverse("api:blocklist-invalid-remove"),
            )
        if whitelisted:
            return None  # the whitelist's own match offers to end it
        return Offer(
            "whitelist",
            address,
            "Whitelist",
            f"Whitelist {address} for your account? Another account's sending got it "
            "blocked; your mail to it will be sent.",
            reverse("blocklist:invalid_whitelist"),
            reverse("api:blocklist-invalid-whitelist"),
        )
    if match.kind == "whitelist":
        return Offer(
            "unwhitelist",
            address,
            "End whitelist",
            f"End your whitelist of {address}? Mail to it will be blocked again.",
            reverse("blocklist:invalid_unwhitelist"),
            reverse("api:blocklist-invalid-unwhitelist"),
        )
    if match.kind == "reject":
        return Offer(
            "remove",
            address,
            "Remove block",
            f"Mail {address} again? Only do this if the recipient opted back in.",
            reverse("blocklist:rejects_remove"),
            reverse("api:blocklist-rejects-remove"),
        )
    if match.kind == "custom":
        return Offer(
            "delete",
            address,
            "Delete block",
            f"Delete your custom block of {address}?",
            reverse("blocklist:custom_delete"),
            reverse("api:blocklist-custom-delete-addresses"),
            block_id=match.id,
        )
    return None


def offers_for(verdict: Verdict) -> list[Offer]:
    """One offer per matching entry of a blocking-query verdict."""
    whitelisted = any(m.kind == "whitelist" for m in verdict.matches)
    out = []
    for match in verdict.matches:
        offer = offer_for_match(verdict.address, match, whitelisted=whitelisted)
        if offer is not None:
            out.append(offer)
    return out


def invalid_block_offers(account: Account, addresses: Iterable[str]) -> dict[str, Offer]:
    """For bounced recipients: remove or whitelist the invalid-address block that applies.

    Keyed by the address as given. One query for the blocks (+1 for whitelists); an
    address without an active invalid-address block gets no offer.
    """
    normal: dict[str, str] = {}
    for raw in dict.fromkeys(addresses):
        try:
            normal[raw] = normalize_address(raw)
        except InvalidAddress:
            continue
    verdicts = check(account, list(dict.fromkeys(normal.values())))
    out: dict[str, Offer] = {}
    for raw, address in normal.items():
        verdict = verdicts[address]
        invalid = [m for m in verdict.matches if m.kind in ("invalid", "whitelist")]
        whitelisted = any(m.kind == "whitelist" for m in invalid)
        for match in invalid:
            offer = offer_for_match(address, match, whitelisted=whitelisted)
            if offer is not None:
                out[raw] = offer
    return out


def verdict_json(verdict: Verdict, held: HeldVerdict | None = None) -> dict:
    """A verdict as the API answers it, with the actions that apply and, for an address
    no block matches, the surge that held its latest invalid-address verdict (or null)."""
    data = asdict(verdict)
    data["actions"] = [offer.as_json() for offer in offers_for(verdict)]
    data["held_by_surge"] = held.as_json() if held is not None else None
    return data
