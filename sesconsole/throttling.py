"""Abuse limits for the API: per-key request rates and failed API-key authentication.

Counts live in the Django cache, in fixed windows (one counter per key and window, raised
with an atomic `incr`), so every web worker must share one cache in production
(`CACHE_URL`). Rates are DRF's `REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]`, set from the
environment in settings.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.settings import api_settings
from rest_framework.throttling import BaseThrottle

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def client_ip(request: HttpRequest) -> str:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXIES = n, the address the
    outermost of n trusted proxies saw (the nth entry from the right of X-Forwarded-For)."""
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = api_settings.NUM_PROXIES or 0
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies <= 0 or not forwarded:
        return remote
    addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
    if not addresses:
        return remote
    return addresses[-min(proxies, len(addresses))]


def parse_rate(rate: str) -> tuple[int, int]:
    """`6000/min` → (6000, 60): requests allowed per period of seconds."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period[0]]


class _Window:
    """A fixed-window counter in the cache for one scope and one client."""

    def __init__(self, scope: str, ident: str):
        self.limit, self.period = parse_rate(api_settings.DEFAULT_THROTTLE_RATES[scope])
        now = time.time()
        window = int(now // self.period)
        self.key = f"throttle:{scope}:{ident}:{window}"
        self.seconds_left = (window + 1) * self.period - now

    def count(self) -> int:
        return cache.get(self.key, 0)

    def hit(self) -> int:
        """Count one more request; the new count."""
        cache.add(self.key, 0, timeout=self.period + 1)
        try:
            return cache.incr(self.key)
        except ValueError:  # expired between add and incr
            cache.set(self.key, 1, timeout=self.period + 1)
            return 1


class ApiKeyRateThrottle(BaseThrottle):
    """Requests per API key (or signed-in user) for views with a `throttle_scope`.

    Any CSV answer counts in the `export` scope instead. Views without a scope are not
    limited here.
    """

    def __init__(self):
        self.window: _Window | None = None

    @staticmethod
    def scope_for(request, view) -> str | None:
        renderer = getattr(request, "accepted_renderer", None)
        if getattr(renderer, "format", None) == "csv":
            return "export"
        return getattr(view, "throttle_scope", None)

    @staticmethod
    def ident_for(request) -> str:
        auth = getattr(request, "auth", None)
        if auth is not None and getattr(auth, "pk", None) is not None:
            return f"key:{auth.pk}"
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.pk is not None:
            return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"

    def allow_request(self, request, view) -> bool:
        scope = self.scope_for(request, view)
        if scope is None:
            return True
        self.window = _Window(scope, self.ident_for(request))
        return self.window.hit() <= self.window.limit

    def wait(self) -> float | None:
        return self.window.seconds_left if self.window else None


class FailedAuthenticationThrottle:
    """Wrong API keys per client address (`auth_failure` rate).

    Once an address has sent that many wrong keys in the period, every request from it that
    carries a key is answered 429 until the period ends, before the key is even looked up:
    guessing gets no answers, right or wrong.
    """

    scope = "auth_failure"

    def __init__(self, request):
        self.window = _Window(self.scope, client_ip(request))

    def wait(self) -> float | None:
        """Seconds until the address may try again, or None when it may now."""
        if self.window.count() >= self.window.limit:
            return self.window.seconds_left
        return None

    def record_failure(self) -> None:
        self.window.hit()


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """The page a locked-out login gets (django-axes' AXES_LOCKOUT_CALLABLE): 429 with
    Retry-After, for the console's and the admin's sign-in alike."""
    seconds = int(settings.AXES_COOLOFF_TIME * 3600)
    response = render(
        request,
        "registration/locked_out.html",
        {"minutes": max(1, round(seconds / 60)), "failure_limit": settings.AXES_FAILURE_LIMIT},
        status=429,
    )
    response["Retry-After"] = str(seconds)
    return response
