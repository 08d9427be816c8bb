"""`POST /`: the Tencent Cloud API 3.0 compatible endpoint.

Every answer is HTTP 200 with Tencent's envelope, as Tencent's own endpoint does: the SDKs
read the error from `Response.Error`, and treat any other status as a network failure.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from blocklist.changes import Actor
from sesconsole.views import home

from . import replay, signature
from .actions import ACTIONS, KNOWN_ACTIONS, Context
from .models import Tc3Key
from .params import Params, TencentError

logger = logging.getLogger(__name__)

VERSION = "2020-10-02"


def is_tc3_request(request: HttpRequest) -> bool:
    return request.method == "POST" and (
        "HTTP_X_TC_ACTION" in request.META
        or request.META.get("HTTP_AUTHORIZATION", "").startswith(signature.ALGORITHM)
        or _is_old_signature(request)
    )


def _is_old_signature(request: HttpRequest) -> bool:
    """A call signed the pre-TC3 way (HmacSHA1/HmacSHA256), parameters in a form body."""
    return (
        request.content_type == "application/x-www-form-urlencoded"
        and "Action" in request.POST
        and "Signature" in request.POST
    )


@csrf_exempt  # signed API calls carry no session; other requests fall through to `home`
def root(request: HttpRequest) -> HttpResponse:
    if is_tc3_request(request):
        return api(request)
    return home(request)


def api(request: HttpRequest) -> JsonResponse:
    request_id = str(uuid.uuid4())
    try:
        body = _authenticated_call(request)
    except TencentError as exc:
        body = {"Error": {"Code": exc.code, "Message": exc.message}}
    except signature.SignatureError as exc:
        body = {"Error": {"Code": exc.code, "Message": exc.message}}
    except Exception:
        logger.exception("TC3 request %s failed", request_id)
        body = {"Error": {"Code": "InternalError", "Message": "An internal error occurred."}}
    return JsonResponse(
        {"Response": {**body, "RequestId": request_id}}, json_dumps_params={"ensure_ascii": False}
    )


def _authenticated_call(request: HttpRequest) -> dict[str, Any]:
    try:
        payload = request.body
    except RequestDataTooBig:
        raise TencentError("RequestSizeLimitExceeded", "The request body is too large.") from None
    if _is_old_signature(request):
        raise TencentError(
            "AuthFailure.InvalidAuthorization",
            "Only TC3-HMAC-SHA256 signatures are supported: sign with signMethod "
            "'TC3-HMAC-SHA256'.",
        )
    key = authenticate(request, payload)

    version = request.META.get("HTTP_X_TC_VERSION")
    if not version:
        raise TencentError("MissingParameter", "The X-TC-Version header is required.")
    if version != VERSION:
        raise TencentError("NoSuchVersion", f"The API version '{version}' does not exist.")
    action = request.META.get("HTTP_X_TC_ACTION", "")
    if not action:
        raise TencentError("MissingParameter", "The X-TC-Action header is required.")
    handler = ACTIONS.get(action)
    if handler is None:
        if action in KNOWN_ACTIONS:
            raise TencentError(
                "UnsupportedOperation", f"The action '{action}' is not supported here."
            )
        raise TencentError("InvalidAction", f"The action '{action}' does not exist.")

    try:
        data = json.loads(payload or b"{}")
    except ValueError:
        raise TencentError("InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise TencentError("InvalidParameter", "The request body must be a JSON object.")
    ctx = Context(
        account=key.account,
        actor=Actor(None, f"TC3 key {key.secret_id}"[:100]),
        idempotency_key=request.headers.get("Idempotency-Key"),
    )
    return handler(ctx, Params(data))


def authenticate(request: HttpRequest, payload: bytes) -> Tc3Key:
    """The TC3 key that signed this request; raises SignatureError otherwise."""
    auth = signature.parse_authorization(request.META.get("HTTP_AUTHORIZATION", ""))
    key = Tc3Key.objects.active().select_related("account").filter(secret_id=auth.secret_id).first()
    secret_key = key.secret_key() if key is not None else None
    if secret_key is None:
        raise signature.SignatureError(
            "AuthFailure.SecretIdNotFound", "The SecretId does not exist or has been revoked."
        )
    now = timezone.now()
    signature.verify(
        auth,
        secret_key,
        method=request.method or "POST",
        uri=request.path,
        query=request.META.get("QUERY_STRING", ""),
        headers=_signed_header_values(request, auth.signed_headers),
        payload=payload,
        timestamp=request.META.get("HTTP_X_TC_TIMESTAMP", ""),
        now=now,
    )
    # Only a verified signature is recorded: unsigned junk cannot fill the store.
    replay.accept_once(auth.secret_id, auth.signature)
    # Record use at most once a minute: no write on every request.
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
        Tc3Key.objects.filter(pk=key.pk).update(last_used_at=now)
    return key


def _signed_header_values(request: HttpRequest, names: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for name in (*names, "x-tc-content-sha256"):
        meta = name.upper().replace("-", "_")
        if meta not in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            meta = "HTTP_" + meta
        values[name] = request.META.get(meta, "")
    return values
