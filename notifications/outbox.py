"""Event notifications: the outbox written with the events, and its delivery.

1. `enqueue_events(account, events)` runs inside ingestion's transaction: one indexed
   lookup of the account's endpoints, then one INSERT of an outbox row per (event,
   endpoint). No endpoint, no further query.
2. `deliver_due(endpoint_id)` (the Celery task on the `notifications` queue) takes the
   endpoint's lease, so one task at a time serves an endpoint, claims due rows, POSTs them
   signed (Standard Webhooks) with at most WEBHOOKS_MAX_IN_FLIGHT requests in flight, and
   records every attempt. A failure pauses the endpoint (a circuit breaker) and schedules
   the row's retry with exponential backoff and jitter, for WEBHOOKS_RETRY_HOURS.
3. `dispatch_due()` (beat) wakes endpoints with due rows, disables endpoints that have
   failed for WEBHOOKS_DISABLE_AFTER_DAYS, and prunes old log rows.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

import urllib3
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from delivery.addresses import InvalidAddress, normalize_address
from delivery.models import DeliveryEvent, EventType, OutboundRecipient
from sesconsole.models import Account

from .models import EVENT_IDS, EVENT_NAMES, Attempt, Endpoint, EventName, Notification, new_secret
from .urlsafety import Target, UnsafeURL, resolve, validate_url

logger = logging.getLogger(__name__)

EXCERPT_CHARS = 1000
USER_AGENT = "SES-Console-Webhooks/1.0"
# A task gives the endpoint back after this long, so one busy endpoint cannot hold a worker.
TASK_SECONDS = 20
LEASE_SECONDS = 120
ROUND_REQUESTS = 40


class EndpointError(ValueError):
    def __init__(self, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


# ---------------------------------------------------------------------------------------
# Endpoints.


def clean_endpoint_fields(
    url: str | None = None,
    sender_address: str | None = None,
    events: Iterable[str] | None = None,
    batch_size: int | None = None,
) -> dict:
    """Validate what a customer sends for an endpoint; raises EndpointError per field."""
    data: dict = {}
    if url is not None:
        try:
            data["url"] = validate_url(url)
        except UnsafeURL as exc:
            raise EndpointError(exc.code, exc.message, "url") from None
    if sender_address is not None:
        sender_address = sender_address.strip()
        if sender_address:
            try:
                sender_address = normalize_address(sender_address)
            except InvalidAddress as exc:
                raise EndpointError("invalid_address", str(exc), "sender_address") from None
        data["sender_address"] = sender_address
    if events is not None:
        names = list(dict.fromkeys(events))
        unknown = [n for n in names if n not in EventName.values]
        if unknown:
            raise EndpointError(
                "invalid_event",
                f"Unknown event {unknown[0]!r}; use: {', '.join(EventName.values)}.",
                "events",
            )
        data["events"] = names
    if batch_size is not None:
        if not 1 <= batch_size <= settings.WEBHOOKS_MAX_BATCH:
            raise EndpointError(
                "invalid_batch_size",
                f"batch_size must be 1 to {settings.WEBHOOKS_MAX_BATCH}.",
                "batch_size",
            )
        data["batch_size"] = batch_size
    return data


def create_endpoint(account: Account, url: str, **fields) -> tuple[Endpoint, str]:
    """A new endpoint and its signing secret (shown once)."""
    data = clean_endpoint_fields(url=url, **fields)
    endpoint = Endpoint(account=account, **data)
    secret = new_secret()
    endpoint.set_secret(secret)
    try:
        with transaction.atomic():
            endpoint.save()
    except IntegrityError:
        scope = f"sender {endpoint.sender_address}" if endpoint.sender_address else "the account"
        raise EndpointError(
            "endpoint_exists", f"There is already an endpoint for {scope}.", "sender_address"
        ) from None
    return endpoint, secret


def update_endpoint(endpoint: Endpoint, **fields) -> Endpoint:
    enabled = fields.pop("enabled", None)
    data = clean_endpoint_fields(**fields)
    for name, value in data.items():
        setattr(endpoint, name, value)
    if enabled is not None:
        _set_enabled_fields(endpoint, enabled)
    try:
        with transaction.atomic():
            endpoint.save()
    except IntegrityError:
        raise EndpointError(
            "endpoint_exists", "There is already an endpoint for that sender.", "sender_address"
        ) from None
    return endpoint


def _set_enabled_fields(endpoint: Endpoint, enabled: bool) -> None:
    endpoint.enabled = enabled
    if enabled:
        endpoint.disabled_at = None
        endpoint.disabled_reason = ""
        endpoint.failing_since = None
        endpoint.consecutive_failures = 0
        endpoint.paused_until = None
    elif endpoint.disabled_at is None:
        endpoint.disabled_at = timezone.now()
        endpoint.disabled_reason = "Disabled by the account."


def set_enabled(endpoint: Endpoint, enabled: bool) -> Endpoint:
    _set_enabled_fields(endpoint, enabled)
    endpoint.save()
    if enabled:
        wake(endpoint.pk)
    return endpoint


def rotate_secret(endpoint: Endpoint) -> str:
    """A new signing secret, effective for the next request; returned once."""
    secret = new_secret()
    endpoint.set_secret(secret)
    endpoint.save(update_fields=["secret_encrypted"])
    return secret


# ---------------------------------------------------------------------------------------
# The outbox: written in ingestion's transaction.


def enqueue_events(account: Account, events: Sequence[DeliveryEvent]) -> int:
    """Queue a notification per newly stored event for the endpoint that covers its sender.

    Called by `delivery.ingest` in the transaction that stores the events, with their
    messages attached. One query when the account has no endpoint; two otherwise.
    """
    if not events:
        return 0
    endpoints = list(Endpoint.objects.filter(account=account))
    if not endpoints:
        return 0
    by_sender = {e.sender_address: e for e in endpoints}
    account_wide = by_sender.get("")
    pairs: list[tuple[int, int]] = []
    for event in events:
        name = EVENT_NAMES.get(event.type)
        if name is None:
            continue
        endpoint = by_sender.get(event.message.from_address, account_wide)
        if endpoint is None or not endpoint.enabled or not endpoint.wants(name):
            continue
        pairs.append((endpoint.pk, event.pk))
    if not pairs:
        return 0
    now = timezone.now()
    _insert_outbox(pairs, now)
    paused = {e.pk for e in endpoints if e.paused_until is not None and e.paused_until > now}
    for endpoint_id in {endpoint_id for endpoint_id, _ in pairs} - paused:
        # A paused (failing) endpoint is woken by the beat job when its pause ends.
        transaction.on_commit(lambda pk=endpoint_id: wake(pk))
    return len(pairs)


def _insert_outbox(pairs: list[tuple[int, int]], now: datetime) -> None:
    """One INSERT for the batch. On PostgreSQL from two arrays: building a model instance
    per row would cost ingestion more than the insert itself."""
    if connection.vendor != "postgresql":
        Notification.objects.bulk_create(
            [
                Notification(
                    endpoint_id=endpoint_id,
                    event_id=event_id,
                    created_at=now,
                    queued_at=now,
                    next_attempt_at=now,
                )
                for endpoint_id, event_id in pairs
            ],
            ignore_conflicts=True,
        )
        return
    meta = Notification._meta
    qn = connection.ops.quote_name
    columns = ", ".join(
        qn(meta.get_field(name).column)
        for name in ("endpoint", "event", "status", "attempts", "created_at", "queued_at")
    )
    due = qn(meta.get_field("next_attempt_at").column)
    endpoint_ids, event_ids = zip(*pairs, strict=True)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(meta.db_table)} ({columns}, {due}) "
            "SELECT t.endpoint_id, t.event_id, %s, 0, %s, %s, %s "
            "FROM unnest(%s::bigint[], %s::bigint[]) AS t(endpoint_id, event_id) "
            "ON CONFLICT DO NOTHING",
            [Notification.Status.PENDING, now, now, now, list(endpoint_ids), list(event_ids)],
        )


def wake(endpoint_id: int) -> None:
    """Ask a worker to deliver an endpoint's due rows (harmless when one already is)."""
    from .tasks import deliver_notifications

    try:
        deliver_notifications.delay(endpoint_id)
    except Exception:  # the broker is down: the beat job picks the rows up later
        logger.warning("could not enqueue delivery for endpoint %s", endpoint_id, exc_info=True)


def send_test_event(endpoint: Endpoint) -> Notification:
    now = timezone.now()
    notification = Notification.objects.create(
        endpoint=endpoint, created_at=now, queued_at=now, next_attempt_at=now
    )
    transaction.on_commit(lambda: wake(endpoint.pk))
    return notification


def redeliver(endpoint: Endpoint, *, ids: Iterable[int] = (), start=None, end=None) -> int:
    """Queue notifications again: the given ones, or every failed one created in [start, end).

    Returns how many were queued.
    """
    now = timezone.now()
    qs = Notification.objects.filter(endpoint=endpoint).exclude(status=Notification.Status.PENDING)
    if ids:
        qs = qs.filter(pk__in=list(ids))
    else:
        qs = qs.filter(status=Notification.Status.FAILED)
        if start is not None:
            qs = qs.filter(created_at__gte=start)
        if end is not None:
            qs = qs.filter(created_at__lt=end)
    n = qs.update(
        status=Notification.Status.PENDING, attempts=0, queued_at=now, next_attempt_at=now
    )
    if n:
        transaction.on_commit(lambda: wake(endpoint.pk))
    return n


# ---------------------------------------------------------------------------------------
# Payload: Tencent's event-notification format, plus our own fields under `ses_console`.


def _unix(ts: datetime | None) -> int:
    return int(ts.timestamp()) if ts is not None else 0


def event_payload(event: DeliveryEvent, account: Account, smtp_message_id: str = "") -> dict:
    message = event.message
    name = EVENT_NAMES[event.type]
    payload = {
        "event": name.value,
        "eventid": EVENT_IDS[name],
        "email": message.recipient,
        "link": event.url if event.type == EventType.CLICKED else "",
        "bulkId": message.message_id,
        "timestamp": _unix(event.timestamp),
        "reason": event.response_text or event.reason,
        "bounceType": "",
        "username": account.name,
        "from": message.from_address,
        "fromDomain": message.sender_domain,
        "useragent": event.user_agent,
        "subject": message.subject,
        "messageId": smtp_message_id,
        "sentTimestamp": _unix(message.sent_at),
        "ses_console": {
            "event_id": event.event_id,
            "type": event.type,
            "account": account.name,
            "machine": event.is_machine,
            "bounce_class": event.bounce_class,
            "test": False,
        },
    }
    if event.type == EventType.BOUNCED:
        # As everywhere in the console: only an invalid address is a hard bounce.
        payload["bounceType"] = (
            "hard_bounce" if event.bounce_class == "invalid_address" else "soft_bounce"
        )
    return payload


def test_payload(endpoint: Endpoint, at: datetime) -> dict:
    sender = endpoint.sender_address or f"noreply@{endpoint.account.name}.example.com"
    return {
        "event": "delivered",
        "eventid": 1,
        "email": "test@example.com",
        "link": "",
        "bulkId": "test-message",
        "timestamp": _unix(at),
        "reason": "250 2.0.0 OK (test event from the console)",
        "bounceType": "",
        "username": endpoint.account.name,
        "from": sender,
        "fromDomain": sender.rpartition("@")[2],
        "useragent": "",
        "subject": "Test event",
        "messageId": "",
        "sentTimestamp": _unix(at),
        "ses_console": {
            "event_id": "",
            "type": "delivered",
            "account": endpoint.account.name,
            "machine": False,
            "bounce_class": "",
            "test": True,
        },
    }


# ---------------------------------------------------------------------------------------
# HTTP: one signed POST to a checked address, reading at most a small part of the answer.


@dataclass(slots=True)
class Answer:
    ok: bool
    status_code: int | None = None
    latency_ms: int = 0
    excerpt: str = ""
    error: str = ""


class Sender:
    """Connection pools for one task run, keyed by the checked address."""

    def __init__(self) -> None:
        self._pools: dict[tuple, urllib3.HTTPConnectionPool] = {}
        # Checked targets, kept for this task run (at most TASK_SECONDS): one DNS lookup and
        # one check per run, and every request of the run goes to the address checked.
        self._targets: dict[str, Target] = {}
        self._lock = threading.Lock()
        self.timeout = urllib3.Timeout(
            connect=min(settings.WEBHOOKS_TIMEOUT_SECONDS, 3),
            read=settings.WEBHOOKS_TIMEOUT_SECONDS,
        )

    def _pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        key = (target.scheme, target.host, target.addresses[0], target.port)
        with self._lock:
            pool = self._pools.get(key)
            if pool is None:
                pool = self._pools[key] = self._new_pool(target)
            return pool

    def _new_pool(self, target: Target) -> urllib3.HTTPConnectionPool:
        kwargs = {
            "maxsize": settings.WEBHOOKS_MAX_IN_FLIGHT,
            "retries": False,
            "timeout": self.timeout,
        }
        if target.scheme == "https":
            return urllib3.HTTPSConnectionPool(
                target.addresses[0],
                target.port,
                server_hostname=target.host,
                assert_hostname=target.host,
                cert_reqs="CERT_REQUIRED",
                **kwargs,
            )
        return urllib3.HTTPConnectionPool(target.addresses[0], target.port, **kwargs)

    def post(self, url: str, body: str, headers: dict[str, str]) -> Answer:
        started = time.monotonic()
        try:
            target = self._targets.get(url)
            if target is None:
                target = self._targets[url] = resolve(url)
        except UnsafeURL as exc:
            return Answer(False, error=f"refused: {exc.message}"[:200])
        cap = settings.WEBHOOKS_MAX_RESPONSE_BYTES
        try:
            response = self._pool(target).urlopen(
                "POST",
                target.path,
                body=body.encode(),
                headers={
                    "Host": target.host_header,
                    "Content-Type": "application/json",
                    "User-Agent": USER_AGENT,
                    **headers,
                },
                redirect=False,
                retries=False,
                preload_content=False,
                assert_same_host=False,
            )
            data = response.read(cap + 1)
            if len(data) > cap:
                response.close()  # drop the connection rather than read a long answer
            response.release_conn()
        except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout
            return Answer(False, latency_ms=_ms(started), error=f"connection error: {exc}"[:200])
        except urllib3.exceptions.TimeoutError:
            return Answer(False, latency_ms=_ms(started), error="timeout")
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            return Answer(False, latency_ms=_ms(started), error=f"connection error: {exc}"[:200])
        status = response.status
        excerpt = data[:cap].decode("utf-8", "replace")[:EXCERPT_CHARS]
        ok = 200 <= status < 300
        error = "" if ok else ("redirect not followed" if 300 <= status < 400 else "")
        return Answer(ok, status, _ms(started), excerpt, error)

    def close(self) -> None:
        for pool in self._pools.values():
            pool.close()
        self._pools.clear()


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def sign(secret: str, webhook_id: str, at: datetime, body: str) -> dict[str, str]:
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, at, body),
    }


# ---------------------------------------------------------------------------------------
# Delivery (worker side).


def take_lease(endpoint_id: int, now: datetime) -> bool:
    """Guarded UPDATE: only one task at a time serves an endpoint."""
    return bool(
        Endpoint.objects.filter(pk=endpoint_id, enabled=True)
        .filter(Q(lease_until=None) | Q(lease_until__lt=now))
        .filter(Q(paused_until=None) | Q(paused_until__lte=now))
        .update(lease_until=now + timedelta(seconds=LEASE_SECONDS))
    )


def claim(endpoint: Endpoint, limit: int, now: datetime) -> list[Notification]:
    """Due rows, oldest first, pushed out of reach of other claimers until the lease ends."""
    with transaction.atomic():
        ids = list(
            Notification.objects.due(now)
            .filter(endpoint=endpoint)
            .order_by("next_attempt_at", "pk")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:limit]
        )
        if not ids:
            return []
        Notification.objects.filter(pk__in=ids).update(
            next_attempt_at=now + timedelta(seconds=LEASE_SECONDS)
        )
    rows = list(
        Notification.objects.filter(pk__in=ids).select_related("event__message").order_by("pk")
    )
    return rows


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: base * 2^(n-1), capped, times a random 0.5 to 1."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    capped = min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOKS_RETRY_MAX_SECONDS)
    return timedelta(seconds=capped * random.uniform(0.5, 1.0))


def deliver_due(endpoint_id: int) -> int:
    """Deliver an endpoint's due notifications for up to TASK_SECONDS; returns how many.

    Safe to run at any time and any number of times: without the lease it does nothing.
    Each round claims up to ROUND_REQUESTS requests' worth of rows, sends them with
    WEBHOOKS_MAX_IN_FLIGHT in flight, and stops sending at the first failure.
    """
    now = timezone.now()
    if not take_lease(endpoint_id, now):
        return 0
    endpoint = Endpoint.objects.select_related("account").get(pk=endpoint_id)
    secret = endpoint.secret
    sender = Sender()
    delivered = 0
    more = False
    deadline = time.monotonic() + TASK_SECONDS
    failed = threading.Event()
    try:
        with ThreadPoolExecutor(max_workers=settings.WEBHOOKS_MAX_IN_FLIGHT) as pool:
            while True:
                if time.monotonic() > deadline:
                    more = True
                    break
                size = endpoint.batch_size
                rows = claim(endpoint, ROUND_REQUESTS * size, timezone.now())
                if not rows:
                    break
                chunks = [rows[i : i + size] for i in range(0, len(rows), size)]

                def send(request: tuple[str, str]) -> Answer | None:
                    if failed.is_set():
                        return None  # not tried: the endpoint just failed
                    webhook_id, body = request
                    headers = sign(secret, webhook_id, timezone.now(), body)
                    answer = sender.post(endpoint.url, body, headers)
                    if not answer.ok:
                        failed.set()
                    return answer

                answers = list(pool.map(send, _bodies(endpoint, chunks)))
                delivered += _record(endpoint, chunks, answers)
                if failed.is_set():
                    break  # the endpoint is paused now
    finally:
        sender.close()
        Endpoint.objects.filter(pk=endpoint_id).update(lease_until=None)
    if more or Notification.objects.due().filter(endpoint_id=endpoint_id).exists():
        wake(endpoint_id)
    return delivered


def _bodies(endpoint: Endpoint, chunks: list[list[Notification]]) -> list[tuple[str, str]]:
    """(webhook-id, JSON body) per request: one object, or an array when batching."""
    message_ids = [n.event.message.message_id for chunk in chunks for n in chunk if n.event_id]
    smtp_ids = {}
    if message_ids:
        smtp_ids = dict(
            OutboundRecipient.objects.filter(message_id__in=message_ids).values_list(
                "message_id", "smtp_message_id"
            )
        )
    at = timezone.now()
    out = []
    for chunk in chunks:
        payloads = [
            event_payload(n.event, endpoint.account, smtp_ids.get(n.event.message.message_id, ""))
            if n.event_id
            else test_payload(endpoint, at)
            for n in chunk
        ]
        if endpoint.batch_size == 1:
            out.append((chunk[0].webhook_id, json.dumps(payloads[0], ensure_ascii=False)))
        else:
            webhook_id = f"ntf_{chunk[0].pk}-{chunk[-1].pk}-{len(chunk)}"
            out.append((webhook_id, json.dumps(payloads, ensure_ascii=False)))
    return out


def _record(
    endpoint: Endpoint, chunks: list[list[Notification]], answers: list[Answer | None]
) -> int:
    """Store the outcome of one round: rows, attempt log, counters and endpoint health.

    An answer of None is a request not tried because the endpoint failed first: its rows
    wait for the endpoint's pause, with no attempt counted.
    """
    now = timezone.now()
    give_up_before = now - timedelta(hours=settings.WEBHOOKS_RETRY_HOURS)
    all_ok = all(a is not None and a.ok for a in answers)
    pause = timedelta(0)
    if not all_ok:
        pause = retry_delay(endpoint.consecutive_failures + 1)
    delivered_ids: list[int] = []
    untried_ids: list[int] = []
    attempts: list[Attempt] = []
    failed = 0
    retry_updates: list[Notification] = []
    for chunk, answer in zip(chunks, answers, strict=True):
        for n in chunk:
            if answer is None:
                untried_ids.append(n.pk)
                continue
            n.attempts += 1
            next_retry = None
            if answer.ok:
                delivered_ids.append(n.pk)
            elif n.queued_at < give_up_before:
                n.status = Notification.Status.FAILED
                n.next_attempt_at = None
                failed += 1
                retry_updates.append(n)
            else:
                next_retry = now + max(retry_delay(n.attempts), pause)
                n.next_attempt_at = next_retry
                retry_updates.append(n)
            attempts.append(
                Attempt(
                    endpoint=endpoint,
                    notification=n,
                    at=now,
                    ok=answer.ok,
                    status_code=answer.status_code,
                    latency_ms=answer.latency_ms,
                    response_excerpt=answer.excerpt,
                    error=answer.error,
                    next_retry_at=next_retry,
                )
            )
    health: dict = {
        "delivered_count": F("delivered_count") + len(delivered_ids),
        "failed_count": F("failed_count") + failed,
    }
    if all_ok:
        health.update(failing_since=None, consecutive_failures=0, paused_until=None)
    else:
        endpoint.consecutive_failures += 1
        endpoint.failing_since = endpoint.failing_since or now
        health.update(
            consecutive_failures=endpoint.consecutive_failures,
            paused_until=now + pause,
            failing_since=endpoint.failing_since,
        )
    with transaction.atomic():
        if delivered_ids:
            Notification.objects.filter(pk__in=delivered_ids).update(
                status=Notification.Status.DELIVERED,
                delivered_at=now,
                next_attempt_at=None,
                attempts=F("attempts") + 1,
            )
        if retry_updates:
            Notification.objects.bulk_update(
                retry_updates, ["status", "next_attempt_at", "attempts"]
            )
        if untried_ids:
            Notification.objects.filter(pk__in=untried_ids).update(next_attempt_at=now + pause)
        Attempt.objects.bulk_create(attempts)
        Endpoint.objects.filter(pk=endpoint.pk).update(**health)
    return len(delivered_ids)


# ---------------------------------------------------------------------------------------
# The periodic job.


def disable_failing_endpoints(now: datetime | None = None) -> int:
    """Disable endpoints failing for WEBHOOKS_DISABLE_AFTER_DAYS; fail their waiting rows."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.WEBHOOKS_DISABLE_AFTER_DAYS)
    ids = list(
        Endpoint.objects.filter(enabled=True, failing_since__lt=cutoff).values_list("pk", flat=True)
    )
    if not ids:
        return 0
    n = Endpoint.objects.filter(pk__in=ids, enabled=True, failing_since__lt=cutoff).update(
        enabled=False,
        disabled_at=now,
        disabled_reason=(
            f"Disabled automatically: every delivery failed for "
            f"{settings.WEBHOOKS_DISABLE_AFTER_DAYS} days."
        ),
    )
    Notification.objects.filter(endpoint_id__in=ids, status=Notification.Status.PENDING).update(
        status=Notification.Status.FAILED, next_attempt_at=None
    )
    return n


def dispatch_due(now: datetime | None = None) -> int:
    """Wake every endpoint with due rows; returns how many were woken. Safe to re-run."""
    now = now or timezone.now()
    disable_failing_endpoints(now)
    endpoint_ids = list(
        Endpoint.objects.filter(enabled=True)
        .filter(Q(lease_until=None) | Q(lease_until__lt=now))
        .filter(Q(paused_until=None) | Q(paused_until__lte=now))
        .filter(pk__in=Notification.objects.due(now).values("endpoint_id"))
        .values_list("pk", flat=True)
    )
    for pk in endpoint_ids:
        wake(pk)
    return len(endpoint_ids)


def prune(now: datetime | None = None) -> int:
    """Forget attempts and finished notifications older than WEBHOOKS_KEEP_DAYS."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.WEBHOOKS_KEEP_DAYS)
    n, _ = Attempt.objects.filter(at__lt=cutoff).delete()
    m, _ = (
        Notification.objects.filter(created_at__lt=cutoff)
        .exclude(status=Notification.Status.PENDING)
        .delete()
    )
    return n + m
