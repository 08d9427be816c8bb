"""`Idempotency-Key` for requests that must not act twice (sending mail).

The key's row is inserted in the same transaction as the work it guards: a concurrent
request with the same key waits on the unique index until the first commits, then gets
the stored answer. A failed request rolls its key back, so the client may retry it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from sesconsole.lib.errors import ServiceError
from sesconsole.models import Account

from .models import IdempotentRequest

KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255


def fingerprint(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def answer_once(
    account: Account, key: str, data, act: Callable[[], tuple[int, dict]]
) -> tuple[int, dict]:
    """`act()` once per (account, key) and body within 24 hours; (status, body) every time."""
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise ServiceError(
            "invalid_idempotency_key",
            f"'Idempotency-Key' must be 1 to {MAX_KEY_LENGTH} characters.",
        )
    digest = fingerprint(data)
    with transaction.atomic():
        IdempotentRequest.objects.filter(
            account=account, key=key, created_at__lt=timezone.now() - KEEP
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    account=account, key=key, fingerprint=digest
                )
        except IntegrityError:
            record = IdempotentRequest.objects.get(account=account, key=key)
            if record.fingerprint != digest:
                raise ServiceError(
                    "idempotency_key_reused",
                    "This Idempotency-Key was used with a different request body.",
                    409,
                ) from None
            return record.status_code, record.response
        status, body = act()
        record.status_code, record.response = status, body
        record.save(update_fields=["status_code", "response"])
        return status, body


def prune(now=None) -> int:
    """Delete keys older than 24 hours; returns how many."""
    cutoff = (now or timezone.now()) - KEEP
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=cutoff).delete()
    return deleted
