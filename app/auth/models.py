"""Accounts: users (with embedded addresses) and the token stores.

Opaque tokens (refresh, email verification, password reset) are stored as their SHA-256
(`core.security.token_digest`), never in clear. Expiring rows carry a TTL index, and every
read also checks the expiry itself, because the server's TTL monitor only runs once a minute.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

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
    region: str | None = None
    phone: str | None = None
    is_default: bool = False


class User(Document):
    if TYPE_CHECKING:
        # For the type checker only: a user the services hold has been inserted, so its id
        # is set (Beanie types `id` Optional for documents not yet saved).
        id: PydanticObjectId

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

    if TYPE_CHECKING:
        # For the type checker only: a session the services hold has been inserted, so its id
        # is set (Beanie types `id` Optional for documents not yet saved).
        id: PydanticObjectId

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


class LoginCounter(Document):
    """Sign-in attempts that reached the password check, counted before it (atomically, so
    parallel guesses cannot outrun the limit) and kept for unknown emails too (a lock says
    nothing about whether an account exists). Keys are digests: no email or address in clear.

    - scope "address": one account from one client address; at LOGIN_LOCKOUT_ATTEMPTS that
      address is locked out of that account (`locked_until`).
    - scope "account": one account from every address; past LOGIN_ACCOUNT_ATTEMPTS attempts
      are slowed to one per LOGIN_SLOWDOWN_SECONDS (`next_attempt_at`), never locked.
    """

    key: Annotated[str, Indexed(unique=True)]
    account: str  # digest of the normalised email: every counter of one account
    scope: Literal["address", "account"]
    attempts: int = 0
    expires_at: datetime
    locked_until: datetime | None = None
    next_attempt_at: datetime | None = None

    class Settings:
        name = "login_counters"
        indexes = [
            # An admin clearing an account's lock removes all its counters.
            IndexModel([("account", ASCENDING)]),
            _expires_index(),
        ]


class AccountEmailRequest(Document):
    """A request for a reset or verification link, stored as it arrives and answered 202 at
    once, whoever the email belongs to. The email worker looks the account up later and sends
    the link when there is one: the request path does the same work for every email."""

    purpose: AccountTokenPurpose
    email: str  # normalised
    created_at: datetime = Field(default_factory=utcnow)
    # Left over (no worker ran) is dropped: a link asked for days ago is not wanted any more.
    expires_at: datetime

    class Settings:
        name = "account_email_requests"
        indexes = [IndexModel([("created_at", ASCENDING)]), _expires_index()]
