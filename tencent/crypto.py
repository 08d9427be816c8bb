"""Encryption at rest for TC3 secret keys.

TC3-HMAC-SHA256 derives its signing key from the secret key itself, so the server must be
able to read the key back: it cannot keep only a hash as it does for API keys. The key is
stored encrypted (Fernet) under `TC3_ENCRYPTION_KEY`, so a database dump alone reveals no
secret. Secrets stored under a former key (`TC3_ENCRYPTION_KEY_FALLBACKS`) stay readable.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _key(secret: str) -> Fernet:
    material = hashlib.sha256(b"sesconsole-tc3:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(material))


def _fernet() -> MultiFernet:
    """Encrypts under TC3_ENCRYPTION_KEY; decrypts under it or any fallback."""
    keys = [settings.TC3_ENCRYPTION_KEY, *settings.TC3_ENCRYPTION_KEY_FALLBACKS]
    return MultiFernet([_key(k) for k in dict.fromkeys(keys)])


def encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token: str) -> str | None:
    """The secret, or None when the token was made under another encryption key."""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        return None
