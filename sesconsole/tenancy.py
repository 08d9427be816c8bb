"""Which account a request acts for. The one home of tenant scoping.

- Programs authenticate with an API key: the key's account is the request's account.
- Console users act for the account chosen in their session, among their memberships.
- Staff may act for any account (the switcher); in the API, for all of them unless they
  name one with `?account=<name>`.

Console views are wrapped in `console_view` (sign-in, and the account resolved once);
viewsets take `AccountScopedMixin`, which narrows their `queryset` with `scope()`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from rest_framework.permissions import BasePermission

from .lib.text import storable
from .models import Account

SESSION_KEY = "account_id"
_UNSET = object()


def _http(request) -> HttpRequest:
    # DRF wraps the HttpRequest; keep the cache on the one object both see.
    return getattr(request, "_request", request)


def set_current_account(request, account: Account | None) -> None:
    _http(request)._sesconsole_account = account


def _session_account(request: HttpRequest) -> Account | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    accounts = Account.objects.for_user(user)
    chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
    if chosen is not None:
        account = accounts.filter(pk=chosen).first()
        if account is not None:
            return account
    return accounts.order_by("name").first()


def current_account(request) -> Account | None:
    """The account a request acts for, or None. Queries once per request."""
    http = _http(request)
    account = getattr(http, "_sesconsole_account", _UNSET)
    if account is _UNSET:
        account = _session_account(http)
        http._sesconsole_account = account
    return account


def switch_account(request: HttpRequest, account_id: int) -> Account | None:
    """Make `account_id` the session's account if the user may act for it."""
    account = Account.objects.for_user(request.user).filter(pk=account_id).first()
    if account is not None:
        request.session[SESSION_KEY] = account.pk
        set_current_account(request, account)
    return account


def is_staff_session(request) -> bool:
    """A staff user signed in with a session (API keys never carry staff rights)."""
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and getattr(user, "is_staff", False)
        and getattr(request, "auth", None) is None
    )


def sees_all_accounts(request) -> bool:
    """Staff using the API without naming an account see every account."""
    params = getattr(request, "query_params", None)
    return params is not None and is_staff_session(request) and not params.get("account")


def require_account(request) -> Account:
    """The account an API write acts for; staff must name it with `?account=<name>`."""
    from .api_support import ApiError

    account = None if sees_all_accounts(request) else current_account(request)
    if account is None:
        raise ApiError(
            "account_required", "Name the account with ?account=<name> or use its API key."
        )
    return account


def scope(queryset: QuerySet, request, field: str = "account") -> QuerySet:
    """Narrow `queryset` to the rows the request may see."""
    if sees_all_accounts(request):
        return queryset
    account = current_account(request)
    if account is None:
        return queryset.none()
    return queryset.filter(**{field: account})


class HasAccountAccess(BasePermission):
    """An API request needs an account to act for: an API key, a member, or staff."""

    message = "This request needs an account: send an API key or sign in as a member."

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        if is_staff_session(request):
            name = request.query_params.get("account")
            if name:
                account = Account.objects.filter(name=name).first()
                if account is None:
                    return False
                set_current_account(request, account)
            return True
        return current_account(request) is not None


def account_context(request: HttpRequest) -> dict:
    """Template context: the current account and the accounts the switcher offers."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "current_account": current_account(request),
        "switchable_accounts": Account.objects.for_user(user).order_by("name"),
    }


def _unstorable(data) -> bool:
    return any(not storable(value) for _, values in data.lists() for value in values)


def console_view(view: Callable) -> Callable:
    """A console page: signed in, acting for an account, which the view gets as an argument.

    `view(request, account, *args, **kwargs)`; a user with no account sees a page saying so.
    """

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        account = current_account(request)
        if account is None:
            return render(request, "console/no_account.html", status=403)
        if request.method == "POST" and _unstorable(request.POST):
            # No text field can store it (Django's forms refuse it too); views that read
            # request.POST directly would otherwise fail in the database.
            return render(
                request,
                "console/bad_input.html",
                {
                    "message": "A field holds a NUL character, which no stored text can contain.",
                    "back": request.path,
                },
                status=400,
            )
        if request.method == "POST" and _sent_for_another_account(request, account):
            return _account_changed(request, account)
        return view(request, account, *args, **kwargs)

    return wrapper


def _sent_for_another_account(request: HttpRequest, account: Account) -> bool:
    """A console form carries the account its page was shown for (`for_account`, from
    templates/console/_for_account.html). The account is the session's, so a user who
    switched in another tab would otherwise act on the other account with this one's form."""
    sent_for = request.POST.get("for_account")
    return sent_for is not None and sent_for != str(account.pk)


def same_site_referer(request: HttpRequest) -> str:
    """The page a request came from, when it is one of ours; else the console's home."""
    referer = request.META.get("HTTP_REFERER", "")
    return referer if url_has_allowed_host_and_scheme(referer, {request.get_host()}) else "/"


def _account_changed(request: HttpRequest, account: Account) -> HttpResponse:
    sent_for = request.POST.get("for_account", "")
    # Named only if the user may act for it: the field is the client's to write.
    accounts = Account.objects.for_user(request.user)
    named = accounts.filter(pk=sent_for).first() if sent_for.isdigit() else None
    return render(
        request,
        "console/account_changed.html",
        {"sent_for": named, "back": same_site_referer(request)},
        status=409,
    )


class AccountScopedMixin:
    """For viewsets: `get_queryset()` is `queryset`'s model narrowed to the request's rows.

    Declare `queryset = Model.objects.none()` (for the schema) and, where the account sits
    elsewhere than `account`, `account_field`.
    """

    account_field = "account"

    def get_queryset(self) -> QuerySet:
        model = self.queryset.model
        return scope(model._default_manager.all(), self.request, self.account_field)
