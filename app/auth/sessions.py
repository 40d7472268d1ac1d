"""Sessions: the access-token user loader, login, refresh-token rotation, logout, revocation.

Token model:
- An access token is a short-lived JWT (`exp - iat` at most ACCESS_TOKEN_TTL, checked). Every
  one carries the `sid` of its AuthSession, which must belong to its `sub`; the user loader
  rejects it once that session is revoked or expired (logout revokes it), or when issued
  before `tokens_valid_after`. The signing key alone cannot mint a working token. (No jti
  denylist: every working token names a live session, so ending the session is the
  revocation, and each request makes one read for it, not two.)
- Refresh tokens are opaque, stored as SHA-256, single use. Each rotation issues the next one
  in the same family (the AuthSession). A refresh token presented twice means one copy was
  stolen: the whole family is revoked.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from beanie import PydanticObjectId

from app.auth import lockout
from app.auth.common import invalid_token, normalize_email, settings
from app.auth.models import AuthSession, RefreshToken, User
from app.core.clock import as_utc, utcnow
from app.core.ids import parse_object_id
from app.core.security import (
    create_access_token,
    new_opaque_token,
    token_digest,
    verify_password,
)
from app.errors import ErrorCode, Unauthenticated

log = logging.getLogger("app.auth")


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int
    user: User


# -- the user loader -------------------------------------------------------------------------


async def load_user_from_claims(claims: dict[str, Any]) -> User:
    """The user loader for `core.security`: the active user a verified access token names.

    Raises Unauthenticated when the token was revoked (logout, its session ended, issued
    before a password reset) or the user is unknown or deactivated.
    """
    # The two reads of every authenticated request (its user, its session) take the driver's
    # documents (the fields they test) instead of building Beanie models nobody keeps.
    user_id = parse_object_id(claims.get("sub"))
    if user_id is None:
        raise invalid_token()
    # The user's document straight from the driver, checked before a model is built from it
    # (a Beanie `get` builds its query, projection and model through several layers).
    row = await User.get_pymongo_collection().find_one({"_id": user_id})
    if row is None:
        raise invalid_token()
    if not row.get("is_active", True):
        raise Unauthenticated("This account is disabled.", code=ErrorCode.ACCOUNT_DISABLED)
    valid_after = row.get("tokens_valid_after")
    if valid_after and float(claims["iat"]) < as_utc(valid_after).timestamp():
        raise invalid_token()
    # Every genuine token names a live session of its own subject: a token minted with the
    # signing key alone (no session, or someone else's) is refused.
    session_id = claims.get("sid")
    if not isinstance(session_id, str) or not await session_alive(session_id, user_id=user_id):
        raise invalid_token()
    return User.model_validate(row)


async def session_alive(session_id: str, *, user_id: PydanticObjectId | None = None) -> bool:
    """True when the session exists, is neither revoked nor expired (and is `user_id`'s)."""
    family_id = parse_object_id(session_id)
    if family_id is None:
        return False
    auth_session = await AuthSession.get_pymongo_collection().find_one(
        {"_id": family_id},
        projection={"user_id": 1, "revoked_at": 1, "expires_at": 1},
    )
    return (
        auth_session is not None
        and (user_id is None or auth_session.get("user_id") == user_id)
        and auth_session.get("revoked_at") is None
        and isinstance(auth_session.get("expires_at"), datetime)
        and as_utc(auth_session["expires_at"]) > utcnow()
    )


# -- login, refresh, logout ------------------------------------------------------------------


async def login(*, email: str, password: str, client_address: str | None = None) -> TokenPair:
    """Check the credentials and start a session.

    Raises Unauthenticated(invalid_credentials) for an unknown email or a wrong password
    alike (the same work is done for both), Unauthenticated(account_disabled) for a
    deactivated account, RateLimited(account_locked) while `client_address` is locked out of
    the account, RateLimited(rate_limited) while the account's attempts are slowed down.
    """
    email = normalize_email(email)
    attempt = await lockout.begin_attempt(email, client_address=client_address)
    user = await User.find_one(User.email == email)
    if not await verify_password(password, user.password_hash if user else None):
        raise Unauthenticated(
            "The email or password is incorrect.", code=ErrorCode.INVALID_CREDENTIALS
        )
    await attempt.succeeded()
    assert user is not None  # verify_password is False without a user's hash
    if not user.is_active:
        raise Unauthenticated("This account is disabled.", code=ErrorCode.ACCOUNT_DISABLED)
    return await start_session(user)


async def start_session(user: User) -> TokenPair:
    """A new login for `user`: an AuthSession, its first refresh token and an access token."""
    auth_session = AuthSession(
        user_id=user.id, expires_at=utcnow() + timedelta(seconds=settings().REFRESH_TOKEN_TTL)
    )
    await auth_session.insert()
    refresh_token = await _new_refresh_token(user.id, auth_session.id)
    return _token_pair(user, auth_session.id, refresh_token)


async def issue_access_token(user: User) -> str:
    """An access token in a session of its own, with no refresh token: for tools and tests
    that need a user's token without their password. Revocable like any other session."""
    auth_session = AuthSession(
        user_id=user.id, expires_at=utcnow() + timedelta(seconds=settings().REFRESH_TOKEN_TTL)
    )
    await auth_session.insert()
    return _token_pair(user, auth_session.id, "").access_token


async def _new_refresh_token(user_id: PydanticObjectId, family_id: PydanticObjectId) -> str:
    token = new_opaque_token()
    await RefreshToken(
        token_hash=token_digest(token),
        family_id=family_id,
        user_id=user_id,
        expires_at=utcnow() + timedelta(seconds=settings().REFRESH_TOKEN_TTL),
    ).insert()
    return token


def _token_pair(user: User, session_id: PydanticObjectId, refresh_token: str) -> TokenPair:
    config = settings()
    assert config.SECRET_KEY is not None  # Settings refuses to start without one (config.py)
    access_token, _ = create_access_token(
        subject=str(user.id),
        role=user.role,
        secret=config.SECRET_KEY,
        ttl_seconds=config.ACCESS_TOKEN_TTL,
        extra={"sid": str(session_id)},
    )
    return TokenPair(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=config.ACCESS_TOKEN_TTL,
        user=user,
    )


def _bad_refresh_token(detail: str = "The refresh token is invalid.") -> Unauthenticated:
    return Unauthenticated(detail, code=ErrorCode.INVALID_TOKEN)


async def refresh(*, refresh_token: str) -> TokenPair:
    """Rotate a refresh token: the presented one dies, a new pair is issued in its family.

    Raises Unauthenticated(invalid_token) for an unknown, expired or revoked token; when the
    token was already used, also revokes its whole family (reuse detection).
    """
    digest = token_digest(refresh_token)
    now = utcnow()
    claimed = await RefreshToken.get_pymongo_collection().find_one_and_update(
        {"token_hash": digest, "used_at": None, "expires_at": {"$gt": now}},
        {"$set": {"used_at": now}},
    )
    if claimed is None:
        known = await RefreshToken.find_one(RefreshToken.token_hash == digest)
        if known is not None and known.used_at is not None:
            await revoke_family(known.family_id, reason="refresh_token_reuse")
            log.warning(
                "refresh token reuse: revoked session %s of user %s", known.family_id, known.user_id
            )
            raise _bad_refresh_token(
                "The refresh token was already used; every token of this login is revoked."
            )
        # Unknown and expired look the same: the TTL index may already have removed it.
        raise _bad_refresh_token()
    row = RefreshToken.model_validate(claimed)
    if not await session_alive(str(row.family_id)):
        raise _bad_refresh_token()
    user = await User.get(row.user_id)
    if user is None or not user.is_active:
        await revoke_family(row.family_id, reason="account_disabled")
        raise _bad_refresh_token()
    await AuthSession.get_pymongo_collection().update_one(
        {"_id": row.family_id},
        {"$set": {"expires_at": now + timedelta(seconds=settings().REFRESH_TOKEN_TTL)}},
    )
    new_token = await _new_refresh_token(user.id, row.family_id)
    return _token_pair(user, row.family_id, new_token)


async def refresh_token_owner(refresh_token: str) -> str | None:
    """The user id a refresh token belongs to (for per-account rate limits), or None."""
    row = await RefreshToken.get_pymongo_collection().find_one(
        {"token_hash": token_digest(refresh_token)}, {"user_id": 1}
    )
    return str(row["user_id"]) if row else None


async def revoke_family(family_id: PydanticObjectId, *, reason: str, session=None) -> None:
    """End one login: its refresh tokens and (via `sid`) its access tokens stop working."""
    now = utcnow()
    await AuthSession.get_pymongo_collection().update_one(
        {"_id": family_id, "revoked_at": None},
        {"$set": {"revoked_at": now, "revoked_reason": reason}},
        session=session,
    )
    await RefreshToken.get_pymongo_collection().update_many(
        {"family_id": family_id, "used_at": None}, {"$set": {"used_at": now}}, session=session
    )


async def revoke_user_sessions(
    user_id: PydanticObjectId,
    *,
    reason: str,
    keep_session_id: str | None = None,
    session=None,
) -> int:
    """Revoke every live session of a user (but `keep_session_id`); returns how many."""
    query: dict[str, Any] = {"user_id": user_id, "revoked_at": None}
    if (keep := parse_object_id(keep_session_id)) is not None:
        query["_id"] = {"$ne": keep}
    sessions = AuthSession.get_pymongo_collection()
    family_ids = [row["_id"] async for row in sessions.find(query, {"_id": 1}, session=session)]
    if not family_ids:
        return 0
    now = utcnow()
    await sessions.update_many(
        {"_id": {"$in": family_ids}},
        {"$set": {"revoked_at": now, "revoked_reason": reason}},
        session=session,
    )
    await RefreshToken.get_pymongo_collection().update_many(
        {"family_id": {"$in": family_ids}, "used_at": None},
        {"$set": {"used_at": now}},
        session=session,
    )
    return len(family_ids)


async def logout(*, user: User, claims: dict[str, Any], refresh_token: str) -> None:
    """End the access token's session (which refuses the token from now on) and the refresh
    token's (when it is the user's; another user's token is left alone)."""
    # The user loader accepted this token, so its `sid` names a live session of this user.
    session_id = parse_object_id(claims.get("sid"))
    if session_id is not None:
        await revoke_family(session_id, reason="logout")
    row = await RefreshToken.find_one(RefreshToken.token_hash == token_digest(refresh_token))
    if row is not None and row.user_id == user.id and row.family_id != session_id:
        await revoke_family(row.family_id, reason="logout")
