"""API key authentication: `Authorization: Bearer <key>`."""

from __future__ import annotations

from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, get_authorization_header

from .models import ApiKey, hash_api_key
from .tenancy import set_current_account
from .throttling import FailedAuthenticationThrottle


class ApiKeyUser:
    """The principal behind an API key: authenticated, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.username = f"api-key:{api_key.prefix}"

    def __str__(self) -> str:
        return self.username


class ApiKeyAuthentication(BaseAuthentication):
    keyword = b"bearer"

    def authenticate(self, request):
        parts = get_authorization_header(request).split()
        if not parts or parts[0].lower() != self.keyword:
            return None
        throttle = FailedAuthenticationThrottle(request)
        wait = throttle.wait()
        if wait is not None:
            raise exceptions.Throttled(wait)
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Send the key as 'Authorization: Bearer <key>'.")
        try:
            raw_key = parts[1].decode()
        except UnicodeDecodeError:
            throttle.record_failure()
            raise exceptions.AuthenticationFailed("Invalid API key.") from None
        key = (
            ApiKey.objects.select_related("account").filter(key_hash=hash_api_key(raw_key)).first()
        )
        if key is None:
            throttle.record_failure()
            raise exceptions.AuthenticationFailed("Invalid API key.")
        if not key.is_active:
            throttle.record_failure()
            raise exceptions.AuthenticationFailed("This API key has been revoked.")
        now = timezone.now()
        # Record use at most once a minute: no write on every request.
        if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 60:
            ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        set_current_account(request, key.account)
        return ApiKeyUser(key), key

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="api"'
