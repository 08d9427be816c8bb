"""TC3-HMAC-SHA256, the signature of Tencent Cloud API 3.0, verified as Tencent defines it.

1. Canonical request: method, URI, query string, the signed headers (names and values
   lower-cased and trimmed, each `name:value\\n`), the signed header names joined by `;`,
   and the hex SHA-256 of the body (or of `UNSIGNED-PAYLOAD` when the client says so).
2. String to sign: `TC3-HMAC-SHA256`, the timestamp, the credential scope
   `<date>/<service>/tc3_request`, and the hex SHA-256 of the canonical request.
3. Signing key: HMAC-SHA256 chained over `"TC3" + SecretKey`, the date, the service and
   `tc3_request`; the signature is the hex HMAC of the string to sign under it.

Everything here is pure: no database, no clock (the caller passes `now`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime

ALGORITHM = "TC3-HMAC-SHA256"
SERVICE = "ses"
MAX_SKEW_SECONDS = 300  # Tencent rejects timestamps more than five minutes off
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"

_AUTHORIZATION = re.compile(
    r"^TC3-HMAC-SHA256\s+"
    r"Credential=(?P<secret_id>[^/,\s]+)/(?P<date>\d{4}-\d{2}-\d{2})/(?P<service>[^/,\s]+)/tc3_request,\s*"
    r"SignedHeaders=(?P<signed_headers>[a-z0-9;\-]+),\s*"
    r"Signature=(?P<signature>[0-9a-f]{64})\s*$"
)


class SignatureError(Exception):
    """A request that fails authentication, with the Tencent error code to answer."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Authorization:
    secret_id: str
    date: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str


def parse_authorization(header: str) -> Authorization:
    match = _AUTHORIZATION.match(header or "")
    if match is None:
        raise SignatureError(
            "AuthFailure.InvalidAuthorization",
            "The Authorization header does not follow the TC3-HMAC-SHA256 format.",
        )
    signed = tuple(match["signed_headers"].split(";"))
    if "content-type" not in signed or "host" not in signed:
        raise SignatureError(
            "AuthFailure.InvalidAuthorization", "SignedHeaders must include content-type and host."
        )
    return Authorization(
        secret_id=match["secret_id"],
        date=match["date"],
        service=match["service"],
        signed_headers=signed,
        signature=match["signature"],
    )


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def canonical_request(
    *,
    method: str,
    uri: str,
    query: str,
    headers: dict[str, str],
    signed_headers: tuple[str, ...],
    payload: bytes,
    lowercase_values: bool = True,
) -> str:
    """`headers` maps lower-case header names to their values."""
    canonical_headers = "".join(
        f"{name}:{_header_value(headers.get(name, ''), lowercase_values)}\n"
        for name in signed_headers
    )
    if headers.get("x-tc-content-sha256") == UNSIGNED_PAYLOAD:
        payload = UNSIGNED_PAYLOAD.encode()
    return "\n".join(
        [
            method.upper(),
            uri,
            query,
            canonical_headers,
            ";".join(signed_headers),
            hashlib.sha256(payload).hexdigest(),
        ]
    )


def _header_value(value: str, lowercase: bool) -> str:
    value = value.strip()
    return value.lower() if lowercase else value


def sign(
    secret_key: str, *, timestamp: str, date: str, service: str, canonical_request: str
) -> str:
    scope = f"{date}/{service}/tc3_request"
    string_to_sign = "\n".join(
        [ALGORITHM, timestamp, scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key = _hmac(_hmac(_hmac(("TC3" + secret_key).encode(), date), service), "tc3_request")
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def check_timestamp(timestamp: str, now: datetime) -> datetime:
    """The request time from `X-TC-Timestamp`, if within five minutes of `now`."""
    try:
        seconds = int(timestamp)
    except (TypeError, ValueError):
        raise SignatureError(
            "InvalidParameter", "X-TC-Timestamp must be a Unix time in seconds."
        ) from None
    if abs(now.timestamp() - seconds) > MAX_SKEW_SECONDS:
        raise SignatureError(
            "AuthFailure.SignatureExpire",
            "The signature has expired: the timestamp is more than five minutes "
            "from the server time.",
        )
    return datetime.fromtimestamp(seconds, tz=UTC)


def verify(
    authorization: Authorization,
    secret_key: str,
    *,
    method: str,
    uri: str,
    query: str,
    headers: dict[str, str],
    payload: bytes,
    timestamp: str,
    now: datetime,
) -> None:
    """Raise SignatureError unless the request was signed with `secret_key` just now.

    1. The timestamp is within five minutes of `now`.
    2. The credential scope names this service and the timestamp's UTC date.
    3. The signature matches, compared in constant time.
    """
    signed_at = check_timestamp(timestamp, now)
    if authorization.service != SERVICE:
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            f"The credential scope names service '{authorization.service}', not '{SERVICE}'.",
        )
    if authorization.date != signed_at.strftime("%Y-%m-%d"):
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            "The credential scope date is not the UTC date of X-TC-Timestamp.",
        )
    # Tencent lower-cases header values; some SDKs sign them as sent (a Host with capitals,
    # `charset=UTF-8`). Either form is the same request.
    matches = [
        hmac.compare_digest(
            sign(
                secret_key,
                timestamp=timestamp,
                date=authorization.date,
                service=authorization.service,
                canonical_request=canonical_request(
                    method=method,
                    uri=uri,
                    query=query,
                    headers=headers,
                    signed_headers=authorization.signed_headers,
                    payload=payload,
                    lowercase_values=lowercase,
                ),
            ),
            authorization.signature,
        )
        for lowercase in (True, False)
    ]
    if not any(matches):
        raise SignatureError(
            "AuthFailure.SignatureFailure",
            "The request signature we calculated does not match the signature you provided.",
        )
