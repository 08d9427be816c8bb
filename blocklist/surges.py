"""Surges of invalid-address verdicts at one recipient domain: held at ingest, judged by staff.

An invalid-address block is global and lasts 180 days, so a receiver's fault that answers
"550 5.1.1 user unknown" for every mailbox would block a whole provider's users for every
account. The reply alone cannot show it (it is the strongest evidence a bounce carries);
the count can. When one domain's verdicts in a window reach `min_verdicts` and `factor`
times its usual number (its verdicts in the `baseline` before, or in the history there
is, scaled to the window; with less than a window of history, no judgement), and, where
there are several accounts, at least two accounts' sending met them, a surge opens: that batch's and later verdicts for the domain are held, not blocked, until staff
decide (staff are mailed) or `hold` runs out. The verdicts themselves are kept as events, so nothing
is lost: deciding "blocked" makes the blocks they would have made. docs/blocklist.md.
"""

from __future__ import annotations

import copy
import logging
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Value
from django.db.models.functions import StrIndex, Substr
from django.urls import reverse
from django.utils import timezone

from delivery.models import BounceClass, DeliveryEvent, EventType, Message
from sesconsole.models import Account

from . import actions
from .changes import Actor, insert_invalid_blocks
from .models import INVALID_BLOCK_DAYS, Block, InvalidSurge

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limits:
    window: timedelta
    min_verdicts: int  # 0 turns surge holds off
    factor: float
    baseline: timedelta
    hold: timedelta

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            window=timedelta(minutes=settings.INVALID_SURGE_WINDOW_MINUTES),
            min_verdicts=settings.INVALID_SURGE_MIN_VERDICTS,
            factor=settings.INVALID_SURGE_FACTOR,
            baseline=timedelta(days=settings.INVALID_SURGE_BASELINE_DAYS),
            hold=timedelta(hours=settings.INVALID_SURGE_HOLD_HOURS),
        )


def domain_of(event: DeliveryEvent) -> str:
    return recipient_domain_of(event.message)


def recipient_domain_of(message: Message) -> str:
    return message.recipient_domain or message.recipient.rpartition("@")[2]


def held_domains(invalid: dict[str, DeliveryEvent]) -> set[str]:
    """The domains of these new invalid-address verdicts (address → event) whose verdicts
    are held: a surge holds there already, or these verdicts make one."""
    limits = Limits.from_settings()
    if limits.min_verdicts <= 0:
        return set()
    by_domain: dict[str, list[DeliveryEvent]] = {}
    for event in invalid.values():
        by_domain.setdefault(domain_of(event), []).append(event)
    now = timezone.now()
    held = set(
        InvalidSurge.objects.filter(
            decision="", hold_until__gt=now, domain__in=list(by_domain)
        ).values_list("domain", flat=True)
    )
    candidates = {d: events for d, events in by_domain.items() if d not in held}
    for domain, (start, verdicts, usual) in _surging(candidates, limits).items():
        # Holding begins with this batch: its verdicts were stored a moment ago.
        opened_at = min(e.received_at for e in by_domain[domain])
        _open(domain, start, opened_at, now + limits.hold, verdicts, usual)
        held.add(domain)
    for domain in held:
        InvalidSurge.objects.filter(domain=domain, decision="").update(
            held=F("held") + len(by_domain[domain])
        )
    return held


def _surging(
    by_domain: dict[str, list[DeliveryEvent]], limits: Limits
) -> dict[str, tuple[datetime, int, float]]:
    """Of these domains (with their new verdicts), those whose verdicts make a surge:
    domain → (start of the window, verdicts in it, usual number in a window).

    Verdicts count by the bounces' own time, so a replayed backlog is judged as it
    happened: each domain's window is its busiest one ending at one of its new verdicts,
    as a batch may span hours. One grouped count bounds them all first; only a domain
    that could reach `min_verdicts` has its stored verdicts' times read."""
    if not by_domain:
        return {}
    new = {
        d: sorted((e.timestamp, e.account_id) for e in events) for d, events in by_domain.items()
    }
    span_start = min(times[0][0] for times in new.values()) - limits.window
    span_end = max(times[-1][0] for times in new.values())
    stored_in_span = _verdicts_by_domain(new, span_start, span_end)
    crowded = [d for d in new if stored_in_span.get(d, 0) + len(new[d]) >= limits.min_verdicts]
    if not crowded:
        return {}
    stored = _verdict_times(crowded, span_start, span_end)
    # Staff's decision on a surge covers the verdicts before it: count only those after.
    decided = dict(
        InvalidSurge.objects.filter(domain__in=crowded, decided_at__gt=span_start)
        .values("domain")
        .annotate(last=Max("decided_at"))
        .values_list("domain", "last")
    )
    several_accounts = Account.objects.count() > 1
    windows: dict[str, tuple[datetime, int]] = {}
    for domain in crowded:
        verdicts = sorted(new[domain] + stored.get(domain, []))
        times = [at for at, _ in verdicts]
        best = None
        for end, _ in new[domain]:
            start = end - limits.window
            since = max(start, decided.get(domain, start))
            inside = verdicts[bisect_left(times, since) : bisect_right(times, end)]
            # A receiver's fault reaches every account that mails it; one account's
            # verdicts alone are its own list's, and must not hold every other account's.
            if several_accounts and len({account for _, account in inside}) < 2:
                continue
            if best is None or len(inside) > best[1]:
                best = (start, len(inside))
        if best is not None and best[1] >= limits.min_verdicts:
            windows[domain] = best
    if not windows:
        return {}
    # The usual number comes from the history there is, up to `baseline`; with less than
    # a window's worth of it there is none, so no judgement and no hold.
    # The usual numbers are counted (and cached) per ten minutes of window start: the
    # domains whose windows start in the same ten minutes share one count.
    first = _first_verdict_at()
    groups: dict[int, list[str]] = {}
    for domain, (start, _) in windows.items():
        groups.setdefault(_ten_minutes(start), []).append(domain)
    surging = {}
    for domains in groups.values():
        start = min(windows[d][0] for d in domains)
        observed = start - max(first or start, start - limits.baseline)
        if observed < limits.window:
            continue
        usual = _usual_verdicts(set(domains), start, observed)
        for domain in sorted(domains):
            verdicts = windows[domain][1]
            per_window = usual[domain] * (limits.window / observed)
            if verdicts >= limits.factor * per_window:
                surging[domain] = (windows[domain][0], verdicts, per_window)
    return dict(sorted(surging.items()))  # surges open in one order: no lock cycles


def _verdict_blocks(domains: Iterable[str], start: datetime, end: datetime):
    """Invalid-address blocks made from bounces between start and end at these recipient
    domains (released ones too: they were verdicts all the same), each with its `domain`."""
    return (
        Block.objects.filter(
            kind=Block.Kind.INVALID,
            reason=Block.Reason.INVALID_ADDRESS,
            blocked_at__gte=start,
            blocked_at__lte=end,
        )
        .annotate(domain=Substr("address", StrIndex("address", Value("@")) + 1))
        .filter(domain__in=list(domains))
    )


def _verdicts_by_domain(domains: Iterable[str], start: datetime, end: datetime) -> dict[str, int]:
    """The number of those blocks per domain."""
    domains = list(domains)
    if not domains:
        return {}
    rows = _verdict_blocks(domains, start, end).values("domain").annotate(n=Count("pk")).order_by()
    return {row["domain"]: row["n"] for row in rows}


def _verdict_times(domains: Iterable[str], start: datetime, end: datetime) -> dict:
    """Those blocks' (time, account) per domain."""
    rows = _verdict_blocks(domains, start, end).values_list("domain", "blocked_at", "account_id")
    times: dict[str, list[tuple[datetime, int]]] = {}
    for domain, at, account_id in rows:
        times.setdefault(domain, []).append((at, account_id))
    return times


def _first_verdict_at() -> datetime | None:
    """When the installation's first invalid-address verdict was blocked (cached an hour)."""
    first = cache.get("surge-first-verdict")
    if first is None:
        first = (
            Block.objects.filter(kind=Block.Kind.INVALID, reason=Block.Reason.INVALID_ADDRESS)
            .order_by("blocked_at")
            .values_list("blocked_at", flat=True)
            .first()
        )
        if first is not None:
            cache.set("surge-first-verdict", first, timeout=3600)
    return first


def _ten_minutes(at: datetime) -> int:
    return int(at.timestamp() // 600)


def _usual_verdicts(domains: set[str], start: datetime, observed: timedelta) -> dict[str, int]:
    """Each domain's verdicts in the `observed` time before `start`. A big provider's week
    is tens of thousands of rows and it moves slowly, so it is counted once per domain per
    ten minutes (bench/blocklist.py measures both)."""
    bucket = _ten_minutes(start)
    keys = {d: f"surge-usual:{observed // timedelta(minutes=10)}:{bucket}:{d}" for d in domains}
    cached = cache.get_many(list(keys.values()))
    missing = [d for d, key in keys.items() if key not in cached]
    counted = _verdicts_by_domain(missing, start - observed, start)
    cache.set_many({keys[d]: counted.get(d, 0) for d in missing}, timeout=900)
    return {d: cached[key] if key in cached else counted.get(d, 0) for d, key in keys.items()}


def _open(
    domain: str, start, opened_at, hold_until, verdicts: int, usual_per_window: float
) -> None:
    """Open a surge at `domain`, or make its undecided one hold again (one per domain)."""
    for _ in range(2):  # a concurrent writer may open it between our read and our insert
        surge = InvalidSurge.objects.select_for_update().filter(domain=domain, decision="").first()
        if surge is not None:
            surge.hold_until = max(surge.hold_until, hold_until)
            surge.save(update_fields=["hold_until"])
            return
        try:
            with transaction.atomic():
                surge = InvalidSurge.objects.create(
                    domain=domain,
                    window_start=start,
                    opened_at=opened_at,
                    hold_until=hold_until,
                    verdicts_at_opening=verdicts,
                    usual_per_window=usual_per_window,
                )
        except IntegrityError:
            continue
        logger.warning(
            "Invalid-address verdicts at %s are held: %d in the window, usually %.1f.",
            domain,
            verdicts,
            usual_per_window,
        )
        transaction.on_commit(partial(_ask_staff, surge.pk))
        return


def _ask_staff(surge_id: int) -> None:
    from .tasks import tell_staff_of_surge

    try:
        tell_staff_of_surge.apply_async((surge_id,), retry=False)
    except Exception:  # the broker is down: the admin lists the surge all the same
        logger.warning("could not ask staff about surge %s", surge_id, exc_info=True)


def tell_staff(surge_id: int) -> int:
    """Mail the active staff users who have an address: a surge waits for their judgement,
    and holds only until `hold_until`. Returns the number of staff mailed."""
    surge = InvalidSurge.objects.get(pk=surge_id)
    staff = list(
        get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", flat=True)
    )
    if not staff or surge.decision:
        return 0
    # The console's public address (the one tracking links in sent mail point at).
    base = settings.SENDING_TRACKING_BASE_URL.rstrip("/")
    link = base + reverse("admin:blocklist_invalidsurge_change", args=[surge.pk])
    send_mail(
        f"Invalid-address verdicts at {surge.domain} are held for your review",
        f"{surge.verdicts_at_opening} invalid-address verdicts at {surge.domain} came in "
        f"within an hour (from {surge.window_start:%Y-%m-%d %H:%M} UTC), against "
        f"{surge.usual_per_window:.1f} in a usual hour. That many at once is more often a fault at the "
        "receiver than addresses that are gone, and a block would stop mail to each of them "
        "for every account for 180 days.\n\n"
        f"New verdicts for {surge.domain} block nothing until you decide, or until "
        f"{surge.hold_until:%Y-%m-%d %H:%M} UTC.\n\n"
        f"Judge them: {link}\n"
        "- Block the held addresses, if they really do not exist;\n"
        "- Dismiss, if the receiver was at fault (this also lifts the blocks made at "
        f"{surge.domain} in the hour before the surge opened).\n",
        None,
        staff,
    )
    return len(staff)


class AlreadyDecided(Exception):
    pass


def block_held(surge_id: int, *, actor: Actor) -> int:
    """Staff judged the verdicts true: block every address the surge held, as the bounces
    would have (each triggered by its own account, from its bounce's time). Returns the
    number of new blocks; safe to run again (an address blocked already keeps its block)."""
    with transaction.atomic():
        surge = _undecided(surge_id)
        by_account: dict[int, dict[str, DeliveryEvent]] = {}
        accounts = {}
        for event in held_events(surge):
            accounts[event.account_id] = event.account
            by_account.setdefault(event.account_id, {}).setdefault(event.message.recipient, event)
        count = sum(
            insert_invalid_blocks(
                accounts[account_id],
                invalid,
                actor=actor,
                detail=f"Bounced: invalid address (held in a surge at {surge.domain}, then "
                f"judged by {actor.label}).",
            )
            for account_id, invalid in by_account.items()
        )
        _decide(surge, InvalidSurge.Decision.BLOCKED, actor, count)
    return count


def dismiss(surge_id: int, *, actor: Actor) -> int:
    """Staff judged the verdicts a receiver's fault: block none of the held ones, and lift
    the blocks bounces made at the domain in the surge's window before it opened.
    Returns the number of blocks lifted."""
    with transaction.atomic():
        surge = _undecided(surge_id)
        lifted = actions.release_blocks(
            _verdict_blocks([surge.domain], surge.window_start, surge.hold_until),
            actor=actor,
            note=f"Lifted: part of a surge at {surge.domain} that {actor.label} judged "
            "a fault at the receiver.",
        )
        _decide(surge, InvalidSurge.Decision.DISMISSED, actor, lifted)
    return lifted


@dataclass(frozen=True)
class DecisionPreview:
    """What each decision on an undecided surge would do now (the admin asks before it runs)."""

    verdicts: int  # held invalid-address verdicts
    addresses: int  # their distinct recipients
    accounts: int  # the accounts whose mail they were
    to_block: int  # "block held": the addresses not blocked already (the new blocks)
    to_lift: int  # "dismiss": the window's blocks still in force, lifted


def decision_preview(surge: InvalidSurge) -> DecisionPreview:
    """Counted on the same rows `block_held` and `dismiss` act on."""
    held = held_events(surge).order_by()
    totals = held.aggregate(
        verdicts=Count("pk"),
        addresses=Count("message__recipient", distinct=True),
        accounts=Count("account", distinct=True),
    )
    recipients = held.values("message__recipient")
    blocked_already = (
        Block.objects.active()
        .filter(kind=Block.Kind.INVALID, address__in=recipients)
        .values("address")
        .distinct()
        .count()
    )
    to_lift = (
        _verdict_blocks([surge.domain], surge.window_start, surge.hold_until)
        .filter(released_at=None)
        .count()
    )
    return DecisionPreview(
        **totals, to_block=totals["addresses"] - blocked_already, to_lift=to_lift
    )


def held_events(surge: InvalidSurge):
    """The invalid-address verdicts for the surge's domain stored while it held (the
    verdicts before blocked as always, and an account may have removed those since)."""
    return (
        DeliveryEvent.objects.filter(
            type=EventType.BOUNCED,
            bounce_class=BounceClass.INVALID_ADDRESS,
            message__recipient_domain=surge.domain,
            received_at__gte=surge.opened_at,
            received_at__lte=surge.hold_until,
            # Partitions are by event time: a bounce is stored within hours of its time, so
            # a day either side reads only the partitions of the surge's days.
            timestamp__gte=surge.window_start - timedelta(days=1),
            timestamp__lte=surge.hold_until + timedelta(days=1),
        )
        .exclude(message__recipient="")
        .select_related("message", "account")
        .order_by("timestamp", "pk")
    )


def surge_that_held(
    message: Message, events: Iterable[DeliveryEvent] | None = None
) -> InvalidSurge | None:
    """The surge that held this message's invalid-address verdict, so that it blocked
    nothing, or whose dismissal lifted the block the verdict made just before the surge
    opened (then `surge.lifted` is True), or None. `events`: the message's events, if
    loaded already (its page has them); one query with them, two without."""
    if not message.recipient:
        return None
    if events is None:
        events = DeliveryEvent.objects.filter(
            account_id=message.account_id,
            message=message,
            type=EventType.BOUNCED,
            bounce_class=BounceClass.INVALID_ADDRESS,
        )
    verdicts = [
        e
        for e in events
        if e.type == EventType.BOUNCED and e.bounce_class == BounceClass.INVALID_ADDRESS
    ]
    if not verdicts:
        return None
    return _the_surge_that_held(
        InvalidSurge.objects.filter(domain=recipient_domain_of(message)), verdicts
    )


def surges_that_held_each(events: Iterable[DeliveryEvent]) -> dict[int, InvalidSurge]:
    """For these bounces (their messages loaded), by event pk: the surge that held each
    invalid-address verdict among them, or whose dismissal lifted its block. For a list of
    bounces such as the Bounced report's page; one query, the surges at their domains."""
    verdicts = [
        e
        for e in events
        if e.type == EventType.BOUNCED
        and e.bounce_class == BounceClass.INVALID_ADDRESS
        and e.message.recipient
    ]
    if not verdicts:
        return {}
    # A surge that held a verdict or lifted its block held until after it was received.
    at_domain = _surges_at(
        {recipient_domain_of(e.message) for e in verdicts},
        held_since=min(e.received_at for e in verdicts),
    )
    found = {}
    for event in verdicts:
        surge = _the_surge_that_held(at_domain.get(recipient_domain_of(event.message), []), [event])
        if surge is not None:
            found[event.pk] = surge
    return found


@dataclass(frozen=True)
class HeldVerdict:
    """An address's latest invalid-address verdict for an account's mail, and the surge
    that held it (or lifted its block): what the blocking query says of a clear address."""

    surge: InvalidSurge
    message_id: str
    bounced_at: datetime

    @property
    def state(self) -> str:
        """holding | ran_out | dismissed | blocked (by staff, since removed) | lifted"""
        if self.surge.decision == InvalidSurge.Decision.BLOCKED:
            return "blocked"
        if self.surge.lifted:
            return "lifted"
        if self.surge.decision == InvalidSurge.Decision.DISMISSED:
            return "dismissed"
        return "holding" if self.surge.holding else "ran_out"

    def as_json(self) -> dict:
        return {
            "domain": self.surge.domain,
            "state": self.state,
            "surge_opened_at": self.surge.opened_at,
            "hold_until": self.surge.hold_until,
            "decided_at": self.surge.decided_at,
            "message_id": self.message_id,
            "bounced_at": self.bounced_at,
        }


def verdicts_held(account: Account, addresses: Iterable[str]) -> dict[str, HeldVerdict]:
    """Of these normalised addresses, those whose latest invalid-address verdict for the
    account's own mail a surge held (or whose block its dismissal lifted). For the blocking
    query, of addresses no block matches: it says why a bounce blocked nothing. One query
    (the surges at their domains) when no surge was ever there, two otherwise."""
    by_domain: dict[str, list[str]] = {}
    for address in dict.fromkeys(addresses):
        by_domain.setdefault(address.rpartition("@")[2], []).append(address)
    if not by_domain:
        return {}
    # A verdict held longer ago than a block lasts would have been released by now.
    recent = timezone.now() - timedelta(days=INVALID_BLOCK_DAYS)
    at_domain = _surges_at(by_domain, held_since=recent)
    if not at_domain:
        return {}
    # A verdict before any surge's window cannot have been held; a day's margin reads
    # only the partitions of the surges' days (as held_events).
    since = min(s.window_start for ss in at_domain.values() for s in ss) - timedelta(days=1)
    rows = (
        DeliveryEvent.objects.filter(
            account=account,
            type=EventType.BOUNCED,
            bounce_class=BounceClass.INVALID_ADDRESS,
            message__account=account,
            message__recipient__in=[a for d in at_domain for a in by_domain[d]],
            timestamp__gte=since,
        )
        .order_by("timestamp", "pk")
        .values_list("message__recipient", "message__message_id", "timestamp", "received_at")
    )
    by_message: dict[tuple[str, str], list[_Verdict]] = {}
    for address, message_id, timestamp, received_at in rows:
        by_message.setdefault((address, message_id), []).append(_Verdict(timestamp, received_at))
    # Per address, the message whose verdict came last: an older one's story is over.
    latest: dict[str, tuple[str, list[_Verdict]]] = {}
    for (address, message_id), verdicts in by_message.items():
        if address not in latest or verdicts[-1].timestamp >= latest[address][1][-1].timestamp:
            latest[address] = (message_id, verdicts)
    found = {}
    for address, (message_id, verdicts) in latest.items():
        surge = _the_surge_that_held(at_domain[address.rpartition("@")[2]], verdicts)
        if surge is not None:
            found[address] = HeldVerdict(surge, message_id, verdicts[-1].timestamp)
    return found


def _surges_at(domains: Iterable[str], held_since: datetime | None = None) -> dict:
    """The surges at these domains (holding until `held_since` or later), by domain."""
    surges = InvalidSurge.objects.filter(domain__in=list(domains))
    if held_since is not None:
        surges = surges.filter(hold_until__gte=held_since)
    at_domain: dict[str, list[InvalidSurge]] = {}
    for surge in surges:
        at_domain.setdefault(surge.domain, []).append(surge)
    return at_domain


@dataclass(frozen=True)
class _Verdict:
    timestamp: datetime
    received_at: datetime


def _the_surge_that_held(surges: Iterable[InvalidSurge], verdicts) -> InvalidSurge | None:
    """Of one domain's surges, the latest that held one of one message's invalid-address
    verdicts or lifted its block, as a copy with `lifted` set (one surge may have held
    one address's verdicts and lifted another's block)."""
    found = max(
        (s for s in surges if any(_held(s, v) for v in verdicts)),
        key=lambda s: s.opened_at,
        default=None,
    )
    if found is not None:
        found = copy.copy(found)
        found.lifted = all(v.received_at < found.opened_at for v in verdicts)
    return found


def _held(surge: InvalidSurge, verdict) -> bool:
    at = verdict.received_at
    # As held_events: stored while the surge held, and before any decision on it.
    if surge.opened_at <= at <= surge.hold_until and (
        surge.decided_at is None or surge.decided_at > at
    ):
        return True
    # As dismiss: the blocks of the window before the surge opened are lifted.
    return (
        surge.decision == InvalidSurge.Decision.DISMISSED
        and surge.window_start <= verdict.timestamp
        and surge.opened_at > at
    )


def _undecided(surge_id: int) -> InvalidSurge:
    surge = InvalidSurge.objects.select_for_update().get(pk=surge_id)
    if surge.decision:
        raise AlreadyDecided(
            f"The surge at {surge.domain} was already decided ({surge.get_decision_display()})."
        )
    return surge


def _decide(surge: InvalidSurge, decision: str, actor: Actor, count: int) -> None:
    surge.decision = decision
    surge.decided_at = timezone.now()
    surge.decided_by = actor.label
    surge.decision_count = count
    surge.save(update_fields=["decision", "decided_at", "decided_by", "decision_count"])
