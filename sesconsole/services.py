"""Tenancy operations that views, commands and tests share."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction

from .models import Account, ApiKey, Membership


@transaction.atomic
def create_account(
    name: str,
    *,
    display_name: str = "",
    time_zone: str = "UTC",
    username: str | None = None,
    password: str | None = None,
) -> tuple[Account, ApiKey, str]:
    """Create an account, optionally an owner user, and a first API key (returned raw)."""
    account = Account(name=name, display_name=display_name, time_zone=time_zone)
    account.full_clean()
    account.save()
    if username:
        User = get_user_model()
        user, created = User.objects.get_or_create(username=username)
        if created or password:
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
        Membership.objects.create(account=account, user=user, role=Membership.Role.OWNER)
    key, raw_key = ApiKey.issue(account, name="default")
    return account, key, raw_key
