"""The gate: the one `check` sending obeys, and the verdict it gives per address."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime

from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from delivery.addresses import MAX_ADDRESS_LENGTH, InvalidAddress, normalize_address
from sesconsole.models import Account

from .models import AddressList, Block, Whitelist


@dataclass
class Match:
    """One entry that matches an address: a block, or a whitelist that overrides one."""

    kind: str  # "invalid" | "whitelist" | "reject" | "custom"
    id: int
    reason: str
    reason_label: str
    since: datetime
    until: datetime | None
    wins: bool = False
    why: str = ""
    triggered_by_you: bool | None = None
    response_text: str = ""
    event_id: str = ""
    note: str = ""
    bounce_evidence: str = ""  # invalid-address blocks: what the bounce verdict rested on


@dataclass
class Verdict:
    address: str
    blocked: bool
    kind: str | None = None  # "invalid" | "reject" | "custom" | None
    reason: str = ""
    since: datetime | None = None
    until: datetime | None = None
    matches: list[Match] = field(default_factory=list)
    reject_reason: str = ""
    valid: bool = True
    block_id: int | None = None
    # What was given for it, as given: several strings when they are one address
    # (`Bob@Example.com`, `bob@example.com`), so a caller can find each of its own.
    inputs: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return asdict(self)


# An address already in normal form (what the pipeline stores): lower-case ASCII, plain
# local part, valid labels. normalize_address would return it unchanged, only slower.
_NORMAL = re.compile(
    r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@"
    r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
)


def _is_normal(value) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_ADDRESS_LENGTH
        and bool(_NORMAL.fullmatch(value))
    )


# The reasons' labels, looked up once: get_reason_display() rebuilds its table per call,
# which cost more than the rest of a 1,000-address check's Python.
_REASON_LABELS = dict(Block.Reason.choices)

# Which block wins when several match: an address that does not exist is the strongest
# fact, then the recipient's own wish, then the account's rule.
_PRECEDENCE = {Block.Kind.INVALID: 0, Block.Kind.REJECT: 1, Block.Kind.CUSTOM: 2}


def check(
    account: Account,
    addresses: Iterable[str],
    *,
    record_stops: bool = False,
    now: datetime | None = None,
) -> dict[str, Verdict]:
    """Is each address blocked for `account`? Keyed by the normalised address.

    An address that cannot be normalised gets a verdict (keyed by the input, stripped)
    with valid=False, blocked=True and reject_reason "invalid_address".
    Queries: 1 for the blocks; +1 for the whitelists when one overrides a block;
    +1 UPDATE with record_stops when anything is blocked.
    """
    now = now or timezone.now()
    verdicts: dict[str, Verdict] = {}
    wanted: list[str] = []
    for raw in addresses:
        try:
            address = raw if _is_normal(raw) else normalize_address(raw)
        except InvalidAddress as exc:
            key = raw.strip() if isinstance(raw, str) else repr(raw)
            if key not in verdicts:
                verdicts[key] = Verdict(
                    address=key,
                    blocked=True,
                    reason=str(exc),
                    reject_reason="invalid_address",
                    valid=False,
                )
            verdicts[key].inputs.append(raw if isinstance(raw, str) else key)
            continue
        if address not in verdicts:
            verdicts[address] = Verdict(address=address, blocked=False)
            wanted.append(address)
        verdicts[address].inputs.append(raw)
    if not wanted:
        return verdicts

    blocks = list(
        Block.objects.select_related("event")
        .only(
            "kind",
            "address",
            "account_id",
            "reason",
            "note",
            "response_text",
            "bounce_evidence",
            "blocked_at",
            "expires_at",
            "event__event_id",
        )
        .filter(
            Q(kind=Block.Kind.INVALID) | Q(account=account),
            Q(expires_at=None) | Q(expires_at__gt=now),
            # The event is the block's account's own: said in the join, so a database
            # distributed by account (docs/scaling.md) finds it on the block's node.
            Q(event=None) | Q(event__account=F("account")),
            released_at=None,
            address__any=AddressList(wanted),
        )
        # Asked per row in the same query, so the common case (no whitelist) costs no
        # second round trip.
        .annotate(
            whitelisted=Exists(
                Whitelist.objects.active().filter(account=account, block=OuterRef("pk"))
            )
        )
    )
    whitelisted: dict[int, Whitelist] = {}
    # Only an invalid-address block can be overridden by a whitelist.
    whitelisted_ids = [b.pk for b in blocks if b.whitelisted and b.kind == Block.Kind.INVALID]
    if whitelisted_ids:
        whitelisted = {
            w.block_id: w
            for w in Whitelist.objects.active().filter(
                account=account, block_id__in=whitelisted_ids
            )
        }

    for block in sorted(blocks, key=lambda b: (_PRECEDENCE[b.kind], b.blocked_at)):
        verdict = verdicts[block.address]
        # Another account's invalid-address block: that it exists applies to everyone, but
        # what that account's recipient server replied, its event (which names its message)
        # and its note are that account's own.
        own = block.account_id == account.pk
        match = Match(
            kind=block.kind,
            id=block.pk,
            reason=block.reason,
            reason_label=_REASON_LABELS.get(block.reason, block.reason),
            since=block.blocked_at,
            until=block.expires_at,
            response_text=block.response_text if own else "",
            event_id=block.event.event_id if own and block.event else "",
            note=block.note if own else "",
        )
        if block.kind == Block.Kind.INVALID:
            match.triggered_by_you = own
            match.bounce_evidence = block.bounce_evidence
        wl = whitelisted.get(block.pk)
        if wl is not None:
            match.why = "Overridden: you whitelisted this address."
            verdict.matches.append(match)
            verdict.matches.append(
                Match(
                    kind="whitelist",
                    id=wl.pk,
                    reason="whitelisted",
                    reason_label="Whitelisted by you",
                    since=wl.created_at,
                    until=block.expires_at,
                    why="Lets you mail this address despite the invalid-address block.",
                    note=wl.note,
                )
            )
            continue
        if not verdict.blocked:
            verdict.blocked = True
            verdict.kind = block.kind
            verdict.reason = match.reason_label
            verdict.since = block.blocked_at
            verdict.until = block.expires_at
            verdict.reject_reason = block.reject_reason
            verdict.block_id = block.pk
            match.wins = True
            match.why = _why_wins(block.kind)
        else:
            match.why = "Also blocks, but a stronger block wins."
        verdict.matches.append(match)

    if record_stops:
        winners = [v.block_id for v in verdicts.values() if v.block_id is not None]
        if winners:
            Block.objects.filter(pk__in=winners).update(
                stopped_count=F("stopped_count") + 1, last_stopped_at=now
            )
    return verdicts


def _why_wins(kind: str) -> str:
    return {
        Block.Kind.INVALID: "Wins: the address does not exist (applies to every account).",
        Block.Kind.REJECT: "Wins: the recipient asked not to be mailed.",
        Block.Kind.CUSTOM: "Wins: your own blocking rule.",
    }[kind]
