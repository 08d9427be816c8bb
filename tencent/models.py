"""TC3 keys: the credentials of the Tencent Cloud API 3.0 compatible endpoint."""

from __future__ import annotations

import secrets
import string

from django.db import models

from sesconsole.models import Account, Credential

from .crypto import decrypt, encrypt

TC3_ID_PREFIX = "AKID"
_TC3_ALPHABET = string.ascii_letters + string.digits


def _tc3_random(length: int) -> str:
    return "".join(secrets.choice(_TC3_ALPHABET) for _ in range(length))


class Tc3Key(Credential):
    """A SecretId/SecretKey pair for the Tencent Cloud API 3.0 compatible endpoint.

    The SecretKey is stored encrypted, because verifying a TC3-HMAC-SHA256 signature needs
    the key itself; it is shown once, when the pair is created.
    """

    account = models.ForeignKey(Account, models.CASCADE, related_name="tc3_keys")
    secret_id = models.CharField(max_length=64, unique=True, editable=False)
    secret_key_encrypted = models.TextField(editable=False)

    class Meta(Credential.Meta):
        # The table predates this app; keeping its name keeps its rows.
        db_table = "sesconsole_tc3key"
        verbose_name = "TC3 key"

    def __str__(self) -> str:
        return f"{self.name} ({self.secret_id})"

    @classmethod
    def issue(cls, account: Account, name: str = "default", created_by=None) -> tuple[Tc3Key, str]:
        """Create a pair and return it with the SecretKey in clear, which is never shown again."""
        secret_key = _tc3_random(32)
        key = cls.objects.create(
            account=account,
            name=name,
            secret_id=TC3_ID_PREFIX + _tc3_random(32),
            secret_key_encrypted=encrypt(secret_key),
            created_by=created_by,
        )
        return key, secret_key

    def secret_key(self) -> str | None:
        """The SecretKey, decrypted; None if it was stored under another encryption key."""
        return decrypt(self.secret_key_encrypted)
