"""Tenancy: accounts (customers), their members and their API keys."""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from timezone_field import TimeZoneField

API_KEY_PREFIX = "ses_"


class AccountQuerySet(models.QuerySet["Account"]):
    def for_user(self, user) -> AccountQuerySet:
        """Accounts a user may act for: every account for staff, memberships otherwise."""
        if user.is_staff:
            return self.all()
        if getattr(user, "pk", None) is None:  # anonymous, or an API key (a page it renders)
            return self.none()
        return self.filter(memberships__user=user)


class Account(models.Model):
    """A customer of the sending service. Everything a tenant sees hangs off one of these."""

    name = models.SlugField(
        max_length=64,
        unique=True,
        validators=[RegexValidator(r"^[a-z0-9][a-z0-9-]*$", "Lower-case letters, digits, dashes.")],
        help_text="Short unique name, e.g. 'acme'.",
    )
    display_name = models.CharField(max_length=200, blank=True)
    time_zone = TimeZoneField(default="UTC", help_text="Days and chart axes follow this zone.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AccountQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.display_name or self.name


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", "Owner"
        MEMBER = "member", "Member"

    account = models.ForeignKey(Account, models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role, default=Role.MEMBER)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "user"], name="membership_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.account}"


def hash_api_key(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough: no stretching needed,
    # and every request can look its key up by an indexed equality.
    return hashlib.sha256(raw_key.encode()).hexdigest()


class CredentialQuerySet(models.QuerySet):
    def active(self) -> CredentialQuerySet:
        return self.filter(revoked_at=None)


class Credential(models.Model):
    """What every per-account credential has: a name, who made it, use and revocation."""

    name = models.CharField(max_length=100, default="default")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    objects = CredentialQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def revoke(self) -> None:
        if self.revoked_at is None:
            self.revoked_at = timezone.now()
            self.save(update_fields=["revoked_at"])


class ApiKey(Credential):
    """A per-account key for programs. Only its hash is stored; the key is shown once."""

    account = models.ForeignKey(Account, models.CASCADE, related_name="api_keys")
    prefix = models.CharField(
        max_length=16, editable=False, help_text="First characters, to tell keys apart."
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta(Credential.Meta):
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, account: Account, name: str = "default", created_by=None) -> tuple[ApiKey, str]:
        """Create a key and return it with the raw key, which is never stored."""
        raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
        key = cls.objects.create(
            account=account,
            name=name,
            prefix=raw_key[:12],
            key_hash=hash_api_key(raw_key),
            created_by=created_by,
        )
        return key, raw_key
