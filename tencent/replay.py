"""Each TC3 signature is accepted once.

A signature stays valid for five minutes either side of its timestamp, and the official
SDKs sign only `content-type;host`: without this, a captured request could be sent again
(twice the same mail), or sent again under another `X-TC-Action` (a captured
CreateCustomBlacklist resent as DeleteCustomBlackList). Seen signatures are kept, keyed
by SecretId and signature, for as long as they could still pass the timestamp check.

The store is Django's default cache. It must be shared by every process that serves the
endpoint (Redis in production): the per-process local-memory cache only refuses a replay
that reaches the same process.
"""

from __future__ import annotations

import hashlib

from django.core.cache import cache

from .signature import MAX_SKEW_SECONDS, SignatureError

# A timestamp passes from 5 minutes before to 5 minutes after the server clock: keep a
# signature for the whole window, and a minute more for clocks between processes.
SEEN_FOR_SECONDS = 2 * MAX_SKEW_SECONDS + 60


def _key(secret_id: str, signature: str) -> str:
    digest = hashlib.sha256(f"{secret_id}\n{signature}".encode()).hexdigest()
    return f"tc3:seen:{digest}"


def accept_once(secret_id: str, signature: str) -> None:
    """Record a verified signature; raise SignatureError if it was already used."""
    if not cache.add(_key(secret_id, signature), 1, timeout=SEEN_FOR_SECONDS):
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            "This signature was already used: each signed request is accepted once. "
            "Sign the request again to repeat it.",
        )
