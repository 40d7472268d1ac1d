"""Accounts: users (with embedded addresses) and the token stores.

Opaque tokens (refresh, email verification, password reset) are stored as their SHA-256
(`core.security.token_digest`), never in clear. Expiring rows carry a TTL index, and every
read also checks the expiry itself, because the server's TTL monitor only runs once a minute.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from app.core.clock import utcnow

Role = Literal["customer", "admin"]
AccountTokenPurpose = Literal["verify_email", "password_reset"]


def _expires_index() -> IndexModel:
    # TTL: the server deletes a row once `expires_at` has passed.
    return IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)


class Address(BaseModel):
    id: PydanticObjectId = Field(default_factory=PydanticObjectId)
    line1: str
    line2: str | None = None
    city: str
    postal_code: str
    country: str
    phone: str | None = None
    is_default: bool = False


class User(Document):
    # Stored normalised (trimmed, lower case), so the unique index is case-insensitive.
    email: Annotated[str, Indexed(unique=True)]
    name: str
    phone: str | None = None
    role: Role = "customer"
    email_verified: bool = False
    is_active: bool = True
    password_hash: str = Field(repr=False)
    addresses: list[Address] = Field(default_factory=list)
    # Bumped on every address-book write: the guard of its optimistic concurrency.
    addresses_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    # Bumped by password reset: access tokens issued before it stop working.
    tokens_valid_after: datetime | None = None

    class Settings:
        name = "users"
        indexes = [
            # Admin user listing: filter by role, newest first.
            IndexModel([("role", ASCENDING), ("created_at", DESCENDING)]),
            IndexModel([("created_at", DESCENDING)]),
        ]


class AuthSession(Document):
    """One login: the family of refresh tokens rotated from it, and its access tokens
    (which carry its id as the `sid` claim). Revoking it ends all of them at once."""

    user_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    class Settings:
        name = "auth_sessions"
        indexes = [
            # "Revoke every session of this user" (password reset/change, deactivation).
            IndexModel([("user_id", ASCENDING), ("revoked_at", ASCENDING)]),
            _expires_index(),
        ]


class RefreshToken(Document):
    token_hash: Annotated[str, Indexed(unique=True)]
    family_id: PydanticObjectId  # the AuthSession it belongs to
    user_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    # Set when rotated (or revoked): presenting it again is reuse.
    used_at: datetime | None = None

    class Settings:
        name = "refresh_tokens"
        indexes = [
            IndexModel([("family_id", ASCENDING)]),
            _expires_index(),
        ]


class RevokedAccessToken(Document):
    """The access-token denylist (logout): kept until the token would have expired anyway."""

    jti: Annotated[str, Indexed(unique=True)]
    expires_at: datetime

    class Settings:
        name = "revoked_access_tokens"
        indexes = [_expires_index()]


class AccountToken(Document):
    """A single-use emailed token: email verification or password reset."""

    token_hash: Annotated[str, Indexed(unique=True)]
    purpose: AccountTokenPurpose
    user_id: PydanticObjectId
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None

    class Settings:
        name = "account_tokens"
        indexes = [
            # "Spend every outstanding reset token of this user" after a reset.
            IndexModel([("user_id", ASCENDING), ("purpose", ASCENDING)]),
            _expires_index(),
        ]


class LoginThrottle(Document):
    """Failed logins for one email (known or not, so it reveals nothing), keyed by the
    email's digest; `locked_until` is set once the failures reach the configured limit."""

    email_digest: Annotated[str, Indexed(unique=True)]
    failures: int = 0
    expires_at: datetime
    locked_until: datetime | None = None

    class Settings:
        name = "login_throttles"
        indexes = [_expires_index()]
