"""Blocklist services: the one `check` sending obeys, and every change to blocks.

Views, the API, the admin, the jobs and the tests all call these functions. Each change
writes its history rows in the same transaction as the change itself.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from delivery.addresses import MAX_ADDRESS_LENGTH, InvalidAddress, normalize_address
from delivery.models import BounceClass, DeliveryEvent, EventType, Message
from sesconsole.models import Account

from .models import (
    INVALID_BLOCK_DAYS,
    AddressList,
    AutoBlockSetting,
    Block,
    History,
    Whitelist,
)

log = logging.getLogger(__name__)

MAX_UPLOAD_LINES = 100_000
# The largest list of addresses one call (a form, an API request) may name.
MAX_BATCH = 100_000


class BlocklistError(ValueError):
    """A refused change, with a stable code for the API and a message for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user, an API key, or the system."""

    user: object | None = None
    label: str = "system"

    @classmethod
    def from_request(cls, request) -> Actor:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return cls()
        if getattr(user, "pk", None) is None:  # an API key's principal
            return cls(None, str(user)[:100])
        return cls(user, user.get_username()[:100])


SYSTEM = Actor()


# ---------------------------------------------------------------------------------------
# The check.


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
    Queries: 1 for the blocks; +1 for whitelists when an invalid-address block matched;
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
            verdicts[key] = Verdict(
                address=key,
                blocked=True,
                reason=str(exc),
                reject_reason="invalid_address",
                valid=False,
            )
            continue
        if address not in verdicts:
            verdicts[address] = Verdict(address=address, blocked=False)
            wanted.append(address)
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
            released_at=None,
            address__any=AddressList(wanted),
        )
    )
    whitelisted: dict[int, Whitelist] = {}
    invalid_ids = [b.pk for b in blocks if b.kind == Block.Kind.INVALID]
    if invalid_ids:
        whitelisted = {
            w.block_id: w
            for w in Whitelist.objects.active().filter(account=account, block_id__in=invalid_ids)
        }

    for block in sorted(blocks, key=lambda b: (_PRECEDENCE[b.kind], b.blocked_at)):
        verdict = verdicts[block.address]
        match = Match(
            kind=block.kind,
            id=block.pk,
            reason=block.reason,
            reason_label=block.get_reason_display(),
            since=block.blocked_at,
            until=block.expires_at,
            response_text=block.response_text,
            event_id=block.event.event_id if block.event else "",
            note=block.note,
        )
        if block.kind == Block.Kind.INVALID:
            match.triggered_by_you = block.account_id == account.pk
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
            verdict.reason = block.get_reason_display()
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


# ---------------------------------------------------------------------------------------
# Ingestion: what new events do to blocks.


def apply_events(account: Account, events: Sequence[DeliveryEvent]) -> None:
    """Blocks from newly stored events (called once per event, inside the ingest transaction).

    - bounced/invalid_address → a global invalid-address block triggered by `account`,
      keeping the bounce reply. If the address is already blocked, the first block stands
      (its trigger, reply and 180-day clock are kept). The bounce also ends `account`'s
      own whitelist of that address: its sending has just shown the address is bad.
    - complained / unsubscribed → a reject block for `account`; the first one stands.
    - bounced/mailbox_full → a custom block, only if `account` turned auto-block on
      (the same function the auto-block job runs as a catch-up).
    """
    invalid: dict[str, DeliveryEvent] = {}
    rejects: dict[str, DeliveryEvent] = {}
    full: list[int] = []
    for event in sorted(events, key=lambda e: e.timestamp):
        recipient = event.message.recipient
        if not recipient:
            continue
        if event.type == EventType.BOUNCED:
            if event.bounce_class == BounceClass.INVALID_ADDRESS:
                invalid.setdefault(recipient, event)
            elif event.bounce_class == BounceClass.MAILBOX_FULL:
                full.append(event.pk)
        elif event.type in (EventType.COMPLAINED, EventType.UNSUBSCRIBED):
            rejects.setdefault(recipient, event)

    if invalid:
        _release_due_for(Block.Kind.INVALID, list(invalid), None)
        _insert_blocks(
            [
                Block(
                    kind=Block.Kind.INVALID,
                    address=address,
                    account=account,
                    reason=Block.Reason.INVALID_ADDRESS,
                    response_text=event.response_text,
                    bounce_evidence=event.bounce_evidence,  # what the verdict rests on
                    event=event,
                    blocked_at=event.timestamp,
                    expires_at=event.timestamp + timedelta(days=INVALID_BLOCK_DAYS),
                )
                for address, event in invalid.items()
            ],
            account=account,
            actor=SYSTEM,
            detail="Bounced: invalid address.",
        )
        _end_whitelists(
            Whitelist.objects.active().filter(account=account, address__in=list(invalid)),
            account=account,
            actor=SYSTEM,
            detail="Your sending bounced again: the whitelist ended.",
        )
    if rejects:
        _release_due_for(Block.Kind.REJECT, list(rejects), account)
        _insert_blocks(
            [
                Block(
                    kind=Block.Kind.REJECT,
                    address=address,
                    account=account,
                    reason=(
                        Block.Reason.COMPLAINED
                        if event.type == EventType.COMPLAINED
                        else Block.Reason.UNSUBSCRIBED
                    ),
                    event=event,
                    blocked_at=event.timestamp,
                )
                for address, event in rejects.items()
            ],
            account=account,
            actor=SYSTEM,
            detail="From the recipient's event.",
        )
    if full:
        auto_block_full_inboxes(account=account, event_ids=full)


# ---------------------------------------------------------------------------------------
# Writing blocks and history, set-based.

_BLOCK_COLUMNS = [
    "kind",
    "address",
    "account",
    "reason",
    "note",
    "response_text",
    "bounce_evidence",  # invalid-address blocks: what the bounce verdict rested on
    "event",
    "created_by",
    "blocked_at",
    "expires_at",
    "release_reason",
    "stopped_count",
]


def _insert_blocks(
    blocks: list[Block], *, account: Account | None, actor: Actor, detail: str, chunk: int = 1000
) -> list[tuple[int, str]]:
    """INSERT … ON CONFLICT DO NOTHING, with an 'added' history row for each new block.

    Returns (id, address) of the blocks really inserted: an address that already has an
    active block of that kind (per account where per-account) is skipped, by the
    database's partial unique indexes, even under concurrent writers.
    """
    if not blocks:
        return []
    meta = Block._meta
    qn = connection.ops.quote_name
    fields = [meta.get_field(name) for name in _BLOCK_COLUMNS]
    columns = ", ".join(qn(f.column) for f in fields)
    row_sql = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted: list[tuple[int, str]] = []
    for start in range(0, len(blocks), chunk):
        part = blocks[start : start + chunk]
        params = [
            f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in part for f in fields
        ]
        sql = (
            f"INSERT INTO {qn(meta.db_table)} ({columns}) VALUES "
            f"{', '.join([row_sql] * len(part))} ON CONFLICT DO NOTHING RETURNING id, address"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            inserted.extend(cursor.fetchall())
    _write_history(
        [pk for pk, _ in inserted],
        History.Action.ADDED,
        account=account,
        actor=actor,
        detail=detail,
    )
    return inserted


def _write_history(
    block_ids: Iterable[int],
    action: str,
    *,
    account: Account | None,
    actor: Actor,
    detail: str = "",
    at: datetime | None = None,
) -> None:
    at = at or timezone.now()
    History.objects.bulk_create(
        [
            History(
                block_id=pk,
                action=action,
                at=at,
                account=account,
                actor=actor.user,
                actor_label=actor.label,
                detail=detail[:500],
            )
            for pk in block_ids
        ],
        batch_size=2000,
    )


def _release(
    blocks: QuerySet[Block],
    release_reason: str,
    action: str,
    *,
    account: Account | None,
    actor: Actor,
    detail: str = "",
    now: datetime | None = None,
) -> list[int]:
    """Release the unreleased blocks of `blocks` (locked first), with history. Returns ids."""
    now = now or timezone.now()
    ids = list(
        blocks.filter(released_at=None)
        .select_for_update(skip_locked=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not ids:
        return []
    Block.objects.filter(pk__in=ids, released_at=None).update(
        released_at=now, release_reason=release_reason
    )
    if release_reason in (Block.Release.REMOVED, Block.Release.DELETED, Block.Release.RELEASED):
        # Whitelists of a block that is gone have nothing left to override.
        Whitelist.objects.active().filter(block_id__in=ids).update(removed_at=now)
    _write_history(ids, action, account=account, actor=actor, detail=detail, at=now)
    return ids


def _release_due_for(kind: str, addresses: list[str], account: Account | None) -> None:
    """Release blocks of these addresses whose time is up, so a new block can take their place."""
    qs = Block.objects.due().filter(kind=kind, address__in=addresses)
    if account is not None:
        qs = qs.filter(account=account)
    if kind == Block.Kind.INVALID:
        _release(qs, Block.Release.RELEASED, History.Action.RELEASED, account=None, actor=SYSTEM)
    else:
        _release(qs, Block.Release.EXPIRED, History.Action.EXPIRED, account=None, actor=SYSTEM)


def _end_whitelists(
    whitelists: QuerySet[Whitelist], *, account: Account, actor: Actor, detail: str
) -> int:
    now = timezone.now()
    rows = list(whitelists.filter(removed_at=None).values_list("pk", "block_id"))
    if not rows:
        return 0
    Whitelist.objects.filter(pk__in=[pk for pk, _ in rows]).update(removed_at=now)
    _write_history(
        [block_id for _, block_id in rows],
        History.Action.UNWHITELISTED,
        account=account,
        actor=actor,
        detail=detail,
        at=now,
    )
    return len(rows)


# ---------------------------------------------------------------------------------------
# Invalid-address blocks: listing, remove, whitelist.


def invalid_blocks_visible_to(
    account: Account, start: date | None = None, end: date | None = None, address: str = ""
) -> QuerySet[Block]:
    """Active invalid-address blocks an account may see, blocked within [start, end].

    An account sees the blocks its sending triggered and those of addresses it has
    mailed (or tried to); other tenants' recipients stay private.
    """
    mailed = Message.objects.filter(account=account, recipient=OuterRef("address"))
    qs = (
        Block.objects.invalid()
        .active()
        .filter(Q(account=account) | Exists(mailed))
        .annotate(
            whitelisted=Exists(
                Whitelist.objects.active().filter(account=account, block=OuterRef("pk"))
            )
        )
    )
    if start is not None:
        qs = qs.filter(blocked_at__gte=_day_start(start))
    if end is not None:
        qs = qs.filter(blocked_at__lt=_day_start(end + timedelta(days=1)))
    if address:
        qs = qs.filter(address=_normal_or_raw(address))
    return qs.order_by("-blocked_at", "-pk")


@dataclass
class BatchResult:
    """What happened to each address of a batch change."""

    done: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)  # {"address", "code", "message"}
    not_found: list[str] = field(default_factory=list)
    invalid: list[dict] = field(default_factory=list)

    def as_json(self) -> dict:
        return asdict(self)

    @property
    def count(self) -> int:
        return len(self.done)


def _normalise_many(addresses: Iterable[str], result: BatchResult) -> list[str]:
    out: dict[str, None] = {}
    for raw in addresses:
        try:
            out[normalize_address(raw)] = None
        except InvalidAddress as exc:
            result.invalid.append({"address": str(raw)[:300], "message": str(exc)})
    if len(out) > MAX_BATCH:
        raise BlocklistError(
            "too_many_addresses", f"Name at most {MAX_BATCH} addresses in one request."
        )
    return list(out)


@transaction.atomic
def remove_invalid_blocks(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    """Delete the invalid-address blocks that `account`'s sending triggered.

    A block another account triggered is refused (whitelist it instead): only the
    account that caused a global block may lift it for everyone.
    """
    result = BatchResult()
    wanted = _normalise_many(addresses, result)
    blocks = {b.address: b for b in Block.objects.invalid().active().filter(address__in=wanted)}
    mine = []
    for address in wanted:
        block = blocks.get(address)
        if block is None:
            result.not_found.append(address)
        elif block.account_id != account.pk:
            result.refused.append(
                {
                    "address": address,
                    "code": "triggered_by_another_account",
                    "message": f"{address} was blocked by another account's sending: "
                    "you cannot remove it, but you can whitelist it for your account.",
                }
            )
        else:
            mine.append(block.pk)
    ids = _release(
        Block.objects.filter(pk__in=mine),
        Block.Release.REMOVED,
        History.Action.REMOVED,
        account=account,
        actor=actor,
        detail=note or "Verified valid by the account that triggered it.",
    )
    removed = set(ids)
    result.done = [b.address for b in blocks.values() if b.pk in removed]
    return result


@transaction.atomic
def remove_reject_blocks(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    """Lift `account`'s reject blocks of these addresses (e.g. a recipient who opted back in).

    The history keeps the block, its cause and who lifted it; a new unsubscribe or spam
    report blocks the address again.
    """
    result = BatchResult()
    wanted = _normalise_many(addresses, result)
    blocks = Block.objects.rejects().active().for_account(account).filter(address__in=wanted)
    ids = set(
        _release(
            blocks,
            Block.Release.REMOVED,
            History.Action.REMOVED,
            account=account,
            actor=actor,
            detail=note or "Removed by the account: the recipient opted back in.",
        )
    )
    done = dict(Block.objects.filter(pk__in=ids).values_list("address", "pk"))
    result.done = sorted(done)
    result.not_found = [a for a in wanted if a not in done]
    return result


@transaction.atomic
def whitelist_addresses(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    """Whitelist invalid-address blocks another account triggered, for `account` only.

    A block `account` triggered itself is refused (remove it instead).
    """
    result = BatchResult()
    wanted = _normalise_many(addresses, result)
    blocks = {b.address: b for b in Block.objects.invalid().active().filter(address__in=wanted)}
    new = []
    for address in wanted:
        block = blocks.get(address)
        if block is None:
            result.not_found.append(address)
        elif block.account_id == account.pk:
            result.refused.append(
                {
                    "address": address,
                    "code": "triggered_by_you",
                    "message": f"{address} was blocked by your own sending: remove the block "
                    "instead of whitelisting it.",
                }
            )
        else:
            new.append(Whitelist(account=account, block=block, address=address, note=note[:500]))
    created_at = timezone.now()
    for w in new:
        w.created_at = created_at
        w.created_by = actor.user
    # Already whitelisted: the partial unique index skips it.
    Whitelist.objects.bulk_create(new, ignore_conflicts=True)
    fresh = list(
        Whitelist.objects.filter(
            account=account, block__in=[w.block for w in new], created_at=created_at
        ).values_list("block_id", "address")
    )
    _write_history(
        [block_id for block_id, _ in fresh],
        History.Action.WHITELISTED,
        account=account,
        actor=actor,
        detail=note or "Verified valid: not blocked for this account.",
        at=created_at,
    )
    fresh_addresses = {a for _, a in fresh}
    for w in new:
        if w.address in fresh_addresses:
            result.done.append(w.address)
        else:
            result.refused.append(
                {
                    "address": w.address,
                    "code": "already_whitelisted",
                    "message": f"{w.address} is already whitelisted.",
                }
            )
    return result


@transaction.atomic
def unwhitelist_addresses(
    account: Account, addresses: Iterable[str], *, actor: Actor, note: str = ""
) -> BatchResult:
    result = BatchResult()
    wanted = _normalise_many(addresses, result)
    qs = Whitelist.objects.active().filter(account=account, address__in=wanted)
    found = set(qs.values_list("address", flat=True))
    _end_whitelists(qs, account=account, actor=actor, detail=note or "Whitelist removed.")
    result.done = [a for a in wanted if a in found]
    result.not_found = [a for a in wanted if a not in found]
    return result


# ---------------------------------------------------------------------------------------
# Custom blocks: add, upload, list, update, delete, auto-block.


@dataclass
class AddReport:
    """Tencent's CreateCustomBlacklist counts: Total = Valid + Repeat + Invalid + TooLong."""

    total: int = 0
    valid: int = 0
    repeat: int = 0
    invalid: int = 0
    too_long: int = 0
    problems: list[dict] = field(default_factory=list)  # first few bad lines, for people

    MAX_PROBLEMS = 50

    def problem(self, line: int, value: str, kind: str, message: str) -> None:
        if len(self.problems) < self.MAX_PROBLEMS:
            self.problems.append(
                {"line": line, "value": value[:120], "kind": kind, "message": message}
            )

    def as_json(self) -> dict:
        return asdict(self)


def expiry_from_date(expires_on: date | None) -> datetime | None:
    """A block with expiry date D blocks through D (UTC) and lifts at the start of D+1."""
    if expires_on is None:
        return None
    return _day_start(expires_on + timedelta(days=1))


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def add_custom_blocks(
    account: Account,
    addresses: Sequence[str],
    *,
    actor: Actor,
    expires_on: date | None = None,
    reason: str = Block.Reason.MANUAL,
    note: str = "",
) -> AddReport:
    """Add custom blocks, one per line of `addresses`, and report every line's fate.

    Repeat counts both repeats within the request and addresses already blocked.
    """
    if len(addresses) > MAX_UPLOAD_LINES:
        raise BlocklistError(
            "too_many_addresses", f"Add at most {MAX_UPLOAD_LINES:,} addresses at once."
        )
    if expires_on is not None and expires_on < timezone.now().date():
        raise BlocklistError("expiry_in_past", "The expiry date is in the past.")
    report = AddReport(total=len(addresses))
    seen: set[str] = set()
    unique: list[str] = []
    for line, raw in enumerate(addresses, start=1):
        value = (raw or "").strip()
        if len(value) > MAX_ADDRESS_LENGTH:
            report.too_long += 1
            report.problem(line, value, "too_long", f"Longer than {MAX_ADDRESS_LENGTH} characters.")
            continue
        try:
            address = normalize_address(value)
        except InvalidAddress as exc:
            report.invalid += 1
            report.problem(line, value, "invalid", str(exc))
            continue
        if address in seen:
            report.repeat += 1
            report.problem(line, value, "repeat", "Listed earlier in this request.")
            continue
        seen.add(address)
        unique.append(address)
    expires_at = expiry_from_date(expires_on)
    now = timezone.now()
    with transaction.atomic():
        _release_due_for(Block.Kind.CUSTOM, unique, account)
        inserted = _insert_blocks(
            [
                Block(
                    kind=Block.Kind.CUSTOM,
                    address=address,
                    account=account,
                    reason=reason,
                    note=note[:500],
                    created_by=actor.user,
                    blocked_at=now,
                    expires_at=expires_at,
                )
                for address in unique
            ],
            account=account,
            actor=actor,
            detail=note or Block.Reason(reason).label,
        )
    report.valid = len(inserted)
    already = len(unique) - len(inserted)
    report.repeat += already
    if already:
        new = {a for _, a in inserted}
        for address in unique:
            if address not in new:
                report.problem(0, address, "repeat", "Already blocked.")
    return report


def read_upload(data: bytes) -> list[str]:
    """The lines of an uploaded CSV (first column) or one-per-line text file.

    UTF-8 with or without a BOM; blank lines are skipped, and so is a header row whose
    first cell is 'email', 'address' or 'email address'.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BlocklistError(
            "bad_encoding", "The file must be UTF-8 text (CSV or one per line)."
        ) from None
    lines: list[str] = []
    for row in csv.reader(io.StringIO(text)):
        if not row or not any(cell.strip() for cell in row):
            continue
        lines.append(row[0].strip())
        if len(lines) > MAX_UPLOAD_LINES + 1:
            break
    if lines and lines[0].strip().lower() in ("email", "address", "email address", "e-mail"):
        lines = lines[1:]
    if len(lines) > MAX_UPLOAD_LINES:
        raise BlocklistError(
            "too_many_lines", f"A file holds at most {MAX_UPLOAD_LINES:,} addresses; split it."
        )
    if not lines:
        raise BlocklistError("empty_file", "The file has no addresses.")
    return lines


def upload_custom_blocks(
    account: Account, data: bytes, *, actor: Actor, expires_on: date | None = None, note: str = ""
) -> AddReport:
    return add_custom_blocks(
        account,
        read_upload(data),
        actor=actor,
        expires_on=expires_on,
        reason=Block.Reason.UPLOAD,
        note=note,
    )


def custom_blocks(account: Account, status: str = "all", address: str = "") -> QuerySet[Block]:
    """An account's custom blocks by status: 'active', 'expired' or 'all' (Tencent 1/0/2)."""
    qs = Block.objects.custom().for_account(account).listed()
    now = timezone.now()
    if status == "active":
        qs = qs.active(now)
    elif status == "expired":
        qs = qs.filter(Q(released_at__isnull=False) | Q(expires_at__lte=now))
    if address:
        qs = qs.filter(address=_normal_or_raw(address))
    return qs.order_by("-blocked_at", "-pk")


def _normal_or_raw(value: str) -> str:
    try:
        return normalize_address(value)
    except InvalidAddress:
        return value.strip().lower()


@transaction.atomic
def update_custom_block(
    account: Account,
    block_id: int,
    *,
    actor: Actor,
    address: str | None = None,
    expires_on: date | str | None = "unchanged",
) -> Block:
    """Change a custom block's address and/or expiry date (None = permanent).

    An expired block given a new future date becomes active again.
    """
    block = (
        Block.objects.custom()
        .for_account(account)
        .listed()
        .select_for_update()
        .filter(pk=block_id)
        .first()
    )
    if block is None:
        raise BlocklistError("not_found", "No such custom block.")
    changes = []
    if address is not None:
        try:
            new_address = normalize_address(address)
        except InvalidAddress as exc:
            raise BlocklistError("invalid_address", str(exc)) from None
        if new_address != block.address:
            clash = (
                Block.objects.custom()
                .for_account(account)
                .filter(address=new_address, released_at=None)
                .exclude(pk=block.pk)
            )
            if clash.exists():
                raise BlocklistError(
                    "already_blocked", f"{new_address} already has a custom block."
                )
            changes.append(f"address {block.address} → {new_address}")
            block.address = new_address
    if expires_on != "unchanged":
        new_expiry = expiry_from_date(expires_on)
        if new_expiry != block.expires_at:
            if expires_on is not None and expires_on < timezone.now().date():
                raise BlocklistError("expiry_in_past", "The expiry date is in the past.")
            changes.append(f"expiry {_fmt_expiry(block.expires_at)} → {_fmt_expiry(new_expiry)}")
            block.expires_at = new_expiry
            if block.released_at is not None:
                # Given a future date, an expired block takes effect again.
                if (
                    Block.objects.custom()
                    .for_account(account)
                    .filter(address=block.address, released_at=None)
                    .exclude(pk=block.pk)
                    .exists()
                ):
                    raise BlocklistError(
                        "already_blocked", f"{block.address} already has an active custom block."
                    )
                block.released_at = None
                block.release_reason = ""
    if changes:
        block.save(update_fields=["address", "expires_at", "released_at", "release_reason"])
        _write_history(
            [block.pk],
            History.Action.EDITED,
            account=account,
            actor=actor,
            detail="; ".join(changes),
        )
    return block


def expiry_date_of(block: Block) -> date | None:
    """The last day a block with an expiry date applies (the inverse of expiry_from_date)."""
    if block.expires_at is None:
        return None
    return (block.expires_at - timedelta(days=1)).astimezone(UTC).date()


def _fmt_expiry(expires_at: datetime | None) -> str:
    if expires_at is None:
        return "permanent"
    return (expires_at - timedelta(days=1)).astimezone(UTC).date().isoformat()


@transaction.atomic
def delete_custom_blocks(
    account: Account,
    addresses: Iterable[str] = (),
    *,
    actor: Actor,
    ids: Iterable[int] = (),
    note: str = "",
) -> BatchResult:
    """Delete an account's custom blocks, named by address and/or by id."""
    result = BatchResult()
    wanted = _normalise_many(addresses, result)
    ids = list(ids)
    qs = Block.objects.custom().for_account(account).filter(Q(address__in=wanted) | Q(pk__in=ids))
    found = dict(qs.filter(released_at=None).values_list("pk", "address"))
    # Expired blocks (already released by the job) can be deleted from the list too.
    expired = dict(qs.filter(release_reason=Block.Release.EXPIRED).values_list("pk", "address"))
    _release(
        Block.objects.filter(pk__in=list(found)),
        Block.Release.DELETED,
        History.Action.DELETED,
        account=account,
        actor=actor,
        detail=note or "Deleted.",
    )
    if expired:
        Block.objects.filter(pk__in=list(expired)).update(release_reason=Block.Release.DELETED)
        _write_history(
            list(expired), History.Action.DELETED, account=account, actor=actor, detail=note
        )
    done = set(found.values()) | set(expired.values())
    result.done = sorted(done)
    result.not_found = [a for a in wanted if a not in done]
    return result


@transaction.atomic
def release_blocks(
    blocks: QuerySet[Block], *, actor: Actor, account: Account | None = None, note: str = ""
) -> int:
    """Release any blocks by staff decision (the admin's 'remove'/'expire' actions)."""
    removed = _release(
        blocks,
        Block.Release.REMOVED,
        History.Action.REMOVED,
        account=account,
        actor=actor,
        detail=note or "Removed by staff.",
    )
    return len(removed)


@transaction.atomic
def set_expiry(
    blocks: QuerySet[Block], expires_at: datetime | None, *, actor: Actor, note: str = ""
) -> int:
    """Move the expiry of unreleased blocks (staff 'extend' and 'expire now')."""
    ids = list(blocks.filter(released_at=None).values_list("pk", flat=True))
    Block.objects.filter(pk__in=ids).update(expires_at=expires_at)
    label = expires_at.isoformat() if expires_at else "permanent"
    _write_history(
        ids, History.Action.EDITED, account=None, actor=actor, detail=note or f"expiry → {label}"
    )
    return len(ids)


@transaction.atomic
def extend_blocks(blocks: QuerySet[Block], days: int, *, actor: Actor, note: str = "") -> int:
    """Push the expiry of unreleased, expiring blocks `days` days later (staff 'extend')."""
    ids = list(
        blocks.filter(released_at=None, expires_at__isnull=False).values_list("pk", flat=True)
    )
    Block.objects.filter(pk__in=ids).update(expires_at=F("expires_at") + timedelta(days=days))
    _write_history(
        ids,
        History.Action.EDITED,
        account=None,
        actor=actor,
        detail=note or f"extended {days} days",
    )
    return len(ids)


def set_auto_block(account: Account, *, enabled: bool, days: int, actor: Actor) -> AutoBlockSetting:
    if not 1 <= days <= 365:
        raise BlocklistError("invalid_days", "The duration must be 1 to 365 days.")
    setting, _ = AutoBlockSetting.objects.get_or_create(account=account)
    now = timezone.now()
    if enabled and not setting.enabled:
        setting.enabled_at = now
    setting.enabled = enabled
    setting.days = days
    setting.updated_at = now
    setting.save()
    log.info("auto-block for %s set to %s, %d days by %s", account, enabled, days, actor.label)
    return setting


def auto_block_setting(account: Account) -> AutoBlockSetting:
    """The account's setting (unsaved default when never set). One query."""
    return AutoBlockSetting.objects.filter(account=account).first() or AutoBlockSetting(
        account=account
    )


# ---------------------------------------------------------------------------------------
# Jobs: set-based, idempotent, safe to run twice at once.


def release_invalid_blocks(now: datetime | None = None, chunk: int = 500_000) -> int:
    """Release invalid-address blocks 180 days old. Returns how many were released."""
    n = _release_due_all(
        Block.Kind.INVALID, Block.Release.RELEASED, History.Action.RELEASED, now, chunk
    )
    log.info("released %d invalid-address block(s) after %d days", n, INVALID_BLOCK_DAYS)
    return n


def lift_expired_custom_blocks(now: datetime | None = None, chunk: int = 500_000) -> int:
    """Mark custom blocks past their expiry as expired. Returns how many were lifted."""
    n = _release_due_all(
        Block.Kind.CUSTOM, Block.Release.EXPIRED, History.Action.EXPIRED, now, chunk
    )
    log.info("lifted %d expired custom block(s)", n)
    return n


def _release_due_all(kind: str, release_reason: str, action: str, now, chunk: int) -> int:
    """Release due blocks of one kind in chunks; each chunk is one transaction.

    On PostgreSQL each chunk is one statement: pick due rows, release those still
    unreleased (the UPDATE is guarded by the old state, so a second worker running at the
    same time waits on the first one's rows, then finds them released and skips them), end
    their whitelists, and write their history from the UPDATE's RETURNING — exactly one
    history row per released block. Elsewhere the same steps run through the ORM.
    """
    now = now or timezone.now()
    total = 0
    while True:
        with transaction.atomic():
            if connection.vendor == "postgresql":
                n = _release_chunk_pg(kind, release_reason, action, now, chunk)
            else:
                qs = Block.objects.due(now).filter(kind=kind)
                ids = list(qs.order_by("pk").values_list("pk", flat=True)[:chunk])
                n = len(
                    _release(
                        Block.objects.filter(pk__in=ids),
                        release_reason,
                        action,
                        account=None,
                        actor=SYSTEM,
                        now=now,
                    )
                )
        total += n
        # Stop on an empty chunk, not a short one: a worker running at the same time may
        # have taken part of this chunk while due blocks remain.
        if n == 0:
            return total


def _release_chunk_pg(kind: str, release_reason: str, action: str, now, chunk: int) -> int:
    block = Block._meta.db_table
    history = History._meta.db_table
    whitelist = Whitelist._meta.db_table
    sql = f"""
        WITH released AS (
            -- ARRAY(…) keeps the chunk an index lookup; a join invites a scan of every block.
            UPDATE {block} SET released_at = %(now)s, release_reason = %(reason)s
            WHERE id = ANY(ARRAY(
                SELECT id FROM {block}
                WHERE kind = %(kind)s AND released_at IS NULL AND expires_at <= %(now)s
                LIMIT %(chunk)s
            )) AND released_at IS NULL
            RETURNING id
        ), ended AS (
            UPDATE {whitelist} w SET removed_at = %(now)s
            FROM released WHERE w.block_id = released.id AND w.removed_at IS NULL
        )
        INSERT INTO {history} (block_id, action, at, account_id, actor_id, actor_label, detail)
        SELECT id, %(action)s, %(now)s, NULL, NULL, 'system', '' FROM released
    """
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            {"kind": kind, "now": now, "chunk": chunk, "reason": release_reason, "action": action},
        )
        return cursor.rowcount


def auto_block_full_inboxes(
    now: datetime | None = None,
    *,
    account: Account | None = None,
    event_ids: Sequence[int] | None = None,
) -> int:
    """Custom-block recipients whose mailbox was full, for accounts with auto-block on.

    One INSERT … SELECT per opted-in account: the mailbox_full bounces of the last `days`
    days (or just `event_ids`), newer than any custom block of that address, received
    after auto-block was turned on. The partial unique index makes concurrent runs
    harmless. Returns how many blocks were made.
    """
    now = now or timezone.now()
    settings_qs = AutoBlockSetting.objects.filter(enabled=True).select_related("account")
    if account is not None:
        settings_qs = settings_qs.filter(account=account)
    total = 0
    for setting in settings_qs:
        events = DeliveryEvent.objects.filter(
            account=setting.account,
            type=EventType.BOUNCED,
            bounce_class=BounceClass.MAILBOX_FULL,
            timestamp__gt=now - timedelta(days=setting.days),
            received_at__gte=setting.enabled_at,
        ).exclude(message__recipient="")
        if event_ids is not None:
            events = events.filter(pk__in=list(event_ids))
        newer_block = Block.objects.filter(
            account=setting.account,
            kind=Block.Kind.CUSTOM,
            address=OuterRef("message__recipient"),
            blocked_at__gte=OuterRef("timestamp"),
        )
        events = events.filter(~Exists(newer_block))
        total += _insert_auto_blocks(setting, events, now)
    log.info("auto-blocked %d full inbox(es)", total)
    return total


def _insert_auto_blocks(setting: AutoBlockSetting, events: QuerySet, now: datetime) -> int:
    # The latest full-inbox bounce per address, as rows for INSERT … SELECT.
    latest = (
        events.values("message__recipient").order_by().annotate(last_id=Max("pk")).values("last_id")
    )
    source = (
        DeliveryEvent.objects.filter(pk__in=latest)
        .annotate(
            b_address=F("message__recipient"),
            b_at=F("timestamp"),
            b_response=F("response_text"),
            b_event=F("pk"),
        )
        .values_list("b_address", "b_at", "b_response", "b_event")
    )
    select_sql, params = source.query.sql_with_params()
    expires_at = now + timedelta(days=setting.days)
    table = Block._meta.db_table
    sql = (
        f"INSERT INTO {table} (kind, address, account_id, reason, note, response_text, event_id, "
        f"blocked_at, expires_at, release_reason, stopped_count) "
        f"SELECT %s, s.b_address, %s, %s, %s, s.b_response, s.b_event, s.b_at, %s, '', 0 "
        f"FROM ({select_sql}) s WHERE true "
        f"ON CONFLICT DO NOTHING RETURNING id"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [
                Block.Kind.CUSTOM,
                setting.account_id,
                Block.Reason.MAILBOX_FULL,
                f"Mailbox full: blocked for {setting.days} days.",
                expires_at,
                *params,
            ],
        )
        ids = [row[0] for row in cursor.fetchall()]
    _write_history(
        ids,
        History.Action.ADDED,
        account=setting.account,
        actor=SYSTEM,
        detail=f"Auto-block: mailbox full, for {setting.days} days.",
        at=now,
    )
    return len(ids)


# ---------------------------------------------------------------------------------------
# Tencent SES shapes, for a Tencent-compatible endpoint.


def tencent_black_address(block: Block) -> dict:
    """ListBlackEmailAddress's BlackEmailAddress: {BounceTime, EmailAddress, IspDesc}."""
    return {
        "BounceTime": block.blocked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "EmailAddress": block.address,
        "IspDesc": block.response_text,
    }


def tencent_custom_entry(block: Block) -> dict:
    """ListCustomBlacklist's BlackAddressDetail; Status 1 active, 0 expired."""
    expires_on = expiry_date_of(block)
    return {
        "Id": block.pk,
        "Email": block.address,
        "CreateTime": block.blocked_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "ExpireDate": expires_on.isoformat() if expires_on else "",
        "Status": 1 if block.is_active() else 0,
    }


def tencent_add_report(report: AddReport) -> dict:
    """CreateCustomBlacklist's counts."""
    return {
        "TotalCount": report.total,
        "ValidCount": report.valid,
        "RepeatCount": report.repeat,
        "InvalidCount": report.invalid,
        "TooLongCount": report.too_long,
    }
