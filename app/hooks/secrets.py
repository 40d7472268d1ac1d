"""Signing secrets: made here, shown once, kept encrypted.

The Standard Webhooks signature is an HMAC, so the sender needs the secret itself: it cannot
be stored hashed. It is stored encrypted with a key from the environment
(`WEBHOOK_SECRETS_KEY`, or one derived from `SECRET_KEY` under its own label), so a copy of the
database alone does not let anyone sign as the shop.

The cipher is built from the standard library only (the app has no cryptography package):
encrypt-then-MAC with HMAC-SHA256 for both parts: a keystream of HMAC(k_enc, nonce || counter)
blocks (HMAC as a PRF in counter mode) XORed with the secret, then a tag HMAC(k_mac, version ||
nonce || ciphertext), checked in constant time before anything is decrypted. Both keys are
derived from the master key under distinct labels; the nonce is 16 random bytes per secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets as random_source

from config import Settings

PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: between 24 and 64 bytes
_VERSION = b"v1"
_NONCE = 16
_TAG = 32


class SecretUnreadable(Exception):
    """A stored secret that this key cannot open (another key, or altered)."""


def new_secret() -> str:
    """A fresh signing secret as receivers use it: `whsec_` + base64 of 32 random bytes."""
    return PREFIX + base64.b64encode(random_source.token_bytes(SECRET_BYTES)).decode()


def _master_key(settings: Settings) -> bytes:
    if settings.WEBHOOK_SECRETS_KEY:
        return settings.WEBHOOK_SECRETS_KEY.encode()
    assert settings.SECRET_KEY, "config.py sets SECRET_KEY or refuses to start"
    return settings.SECRET_KEY.encode()


def _keys(settings: Settings) -> tuple[bytes, bytes]:
    master = _master_key(settings)
    encryption = hmac.new(master, b"shop webhook secrets: encryption", hashlib.sha256).digest()
    authentication = hmac.new(master, b"shop webhook secrets: mac", hashlib.sha256).digest()
    return encryption, authentication


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + counter.to_bytes(8, "big"), hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def encrypt(secret: str, settings: Settings) -> str:
    encryption, authentication = _keys(settings)
    plain = secret.encode()
    nonce = random_source.token_bytes(_NONCE)
    cipher = bytes(
        a ^ b for a, b in zip(plain, _keystream(encryption, nonce, len(plain)), strict=True)
    )
    tag = hmac.new(authentication, _VERSION + nonce + cipher, hashlib.sha256).digest()
    return _VERSION.decode() + ":" + base64.urlsafe_b64encode(nonce + cipher + tag).decode()


def decrypt(stored: str, settings: Settings) -> str:
    """The secret `encrypt` stored. Raises SecretUnreadable for another key or altered text."""
    version, _, payload = stored.partition(":")
    try:
        raw = base64.urlsafe_b64decode(payload.encode())
    except ValueError:
        raise SecretUnreadable("not an encrypted secret") from None
    if version.encode() != _VERSION or len(raw) <= _NONCE + _TAG:
        raise SecretUnreadable("not an encrypted secret")
    nonce, cipher, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    encryption, authentication = _keys(settings)
    expected = hmac.new(authentication, _VERSION + nonce + cipher, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise SecretUnreadable("the key does not open this secret (WEBHOOK_SECRETS_KEY changed?)")
    plain = bytes(
        a ^ b for a, b in zip(cipher, _keystream(encryption, nonce, len(cipher)), strict=True)
    )
    return plain.decode()
