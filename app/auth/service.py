"""Accounts service: registration, login, tokens, password reset, admin user management.

Token model:
- An access token is a short-lived JWT. Those issued by `/login` and `/refresh` carry the
  `sid` of their AuthSession; the user loader rejects them once that session is revoked, once
  their `jti` is on the denylist (logout), or when issued before `tokens_valid_after`.
- Refresh tokens are opaque, stored as SHA-256, single use. Each rotation issues the next one
  in the same family (the AuthSession). A refresh token presented twice means one copy was
  stolen: the whole family is revoked.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.auth.models import (
    AccountToken,
    Address,
    AuthSession,
    LoginThrottle,
    RefreshToken,
    RevokedAccessToken,
    User,
)
from app.auth.passwords import password_problem
from app.core import db
from app.core.clock import as_utc, utcnow
from app.core.pagination import Page, PageQuery
from app.core.security import (
    create_access_token,
    hash_password,
    new_opaque_token,
    token_digest,
    verify_password,
)
from app.email import service as email_service
from app.errors import (
    AppError,
    Conflict,
    ErrorCode,
    Invalid,
    NotFound,
    RateLimited,
    Unauthenticated,
)
from config import Settings

log = logging.getLogger("app.auth")


def _settings() -> Settings:
    return current_app.config["SETTINGS"]


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _invalid_token() -> Unauthenticated:
    return Unauthenticated("The access token is invalid.", code=ErrorCode.INVALID_TOKEN)


async def _in_transaction(work, session):
    """Join the caller's transaction, or run `work` in a new one (retrying transient errors)."""
    if session is not None:
        return await work(session)
    return await db.run_in_transaction(work)


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
    if await RevokedAccessToken.find_one(RevokedAccessToken.jti == claims["jti"]):
        raise _invalid_token()
    subject = claims.get("sub", "")
    user = await User.get(PydanticObjectId(subject)) if PydanticObjectId.is_valid(subject) else None
    if user is None:
        raise _invalid_token()
    if not user.is_active:
        raise Unauthenticated("This account is disabled.", code=ErrorCode.ACCOUNT_DISABLED)
    if (
        user.tokens_valid_after
        and float(claims["iat"]) < as_utc(user.tokens_valid_after).timestamp()
    ):
        raise _invalid_token()
    session_id = claims.get("sid")
    if session_id is not None and not await _session_alive(session_id):
        raise _invalid_token()
    return user


async def _session_alive(session_id: str) -> bool:
    if not PydanticObjectId.is_valid(session_id):
        return False
    auth_session = await AuthSession.get(PydanticObjectId(session_id))
    return (
        auth_session is not None
        and auth_session.revoked_at is None
        and as_utc(auth_session.expires_at) > utcnow()
    )


# -- registration and email verification -----------------------------------------------------


async def register(
    *,
    email: str,
    password: str,
    name: str,
    phone: str | None = None,
    address: dict | None = None,
    session=None,
) -> User:
    """Create a customer and queue the verification email (one transaction).

    Raises Conflict(email_taken) when the email is registered (case-insensitively), also when
    two registrations race. Password strength is the schema's job (RegisterIn).
    """
    email = normalize_email(email)
    if await User.find_one(User.email == email, session=session):
        raise _email_taken()
    password_hash = await hash_password(password)
    addresses = [Address(**{**address, "is_default": True})] if address else []
    settings = _settings()

    async def work(s) -> User:
        user = User(
            email=email,
            name=name,
            phone=phone,
            password_hash=password_hash,
            addresses=addresses,
        )
        await user.insert(session=s)
        await _send_account_email(
            user,
            purpose="verify_email",
            ttl_seconds=settings.EMAIL_VERIFY_TOKEN_TTL,
            path="/verify-email",
            session=s,
        )
        return user

    try:
        return await _in_transaction(work, session)
    except DuplicateKeyError:
        raise _email_taken() from None


def _email_taken() -> Conflict:
    return Conflict("An account with this email already exists.", code=ErrorCode.EMAIL_TAKEN)


async def _send_account_email(
    user: User, *, purpose: str, ttl_seconds: int, path: str, session
) -> None:
    """Store a single-use token (hashed) and queue the email carrying it."""
    token = new_opaque_token()
    await AccountToken(
        token_hash=token_digest(token),
        purpose=purpose,
        user_id=user.id,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    ).insert(session=session)
    settings = _settings()
    await email_service.enqueue(
        to=user.email,
        kind=purpose,
        context={
            "name": user.name,
            "link": f"{settings.FRONTEND_URL.rstrip('/')}{path}?token={token}",
            "valid_hours": max(1, round(ttl_seconds / 3600)),
        },
        session=session,
    )


async def _consume_account_token(token: str, *, purpose: str, session=None) -> AccountToken:
    """Spend a single-use token atomically. Raises Invalid(invalid_token) when it is unknown,
    spent or expired."""
    now = utcnow()
    row = await AccountToken.get_pymongo_collection().find_one_and_update(
        {
            "token_hash": token_digest(token),
            "purpose": purpose,
            "used_at": None,
            "expires_at": {"$gt": now},
        },
        {"$set": {"used_at": now}},
        session=session,
    )
    if row is None:
        raise _bad_account_token()
    return AccountToken.model_validate(row)


def _bad_account_token() -> Invalid:
    return Invalid("The token is invalid, used or expired.", code=ErrorCode.INVALID_TOKEN)


async def verify_email(*, token: str, session=None) -> User:
    """Mark the token's user as verified. Raises Invalid(invalid_token)."""

    async def work(s) -> User:
        row = await _consume_account_token(token, purpose="verify_email", session=s)
        updated = await User.get_pymongo_collection().find_one_and_update(
            {"_id": row.user_id},
            {"$set": {"email_verified": True, "updated_at": utcnow()}},
            return_document=ReturnDocument.AFTER,
            session=s,
        )
        if updated is None:
            raise _bad_account_token()
        return User.model_validate(updated)

    return await _in_transaction(work, session)


# -- login, refresh, logout ------------------------------------------------------------------


async def login(*, email: str, password: str) -> TokenPair:
    """Check the credentials and start a session.

    Raises Unauthenticated(invalid_credentials) for an unknown email or a wrong password
    alike (the same work is done for both), Unauthenticated(account_disabled) for a
    deactivated account, RateLimited(account_locked) while the email is locked out.
    """
    email = normalize_email(email)
    await _check_lockout(email)
    user = await User.find_one(User.email == email)
    if not await verify_password(password, user.password_hash if user else None):
        await _record_login_failure(email)
        raise Unauthenticated(
            "The email or password is incorrect.", code=ErrorCode.INVALID_CREDENTIALS
        )
    if not user.is_active:
        raise Unauthenticated("This account is disabled.", code=ErrorCode.ACCOUNT_DISABLED)
    await _clear_login_failures(email)
    return await _start_session(user)


async def _start_session(user: User) -> TokenPair:
    settings = _settings()
    auth_session = AuthSession(
        user_id=user.id, expires_at=utcnow() + timedelta(seconds=settings.REFRESH_TOKEN_TTL)
    )
    await auth_session.insert()
    refresh_token = await _new_refresh_token(user.id, auth_session.id)
    return _token_pair(user, auth_session.id, refresh_token)


async def _new_refresh_token(user_id: PydanticObjectId, family_id: PydanticObjectId) -> str:
    token = new_opaque_token()
    await RefreshToken(
        token_hash=token_digest(token),
        family_id=family_id,
        user_id=user_id,
        expires_at=utcnow() + timedelta(seconds=_settings().REFRESH_TOKEN_TTL),
    ).insert()
    return token


def _token_pair(user: User, session_id: PydanticObjectId, refresh_token: str) -> TokenPair:
    settings = _settings()
    access_token, _ = create_access_token(
        subject=str(user.id),
        role=user.role,
        secret=settings.SECRET_KEY,
        ttl_seconds=settings.ACCESS_TOKEN_TTL,
        extra={"sid": str(session_id)},
    )
    return TokenPair(
        access_token=access_token,
        refresh_token=refresh_token,
        expires_in=settings.ACCESS_TOKEN_TTL,
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
    if not await _session_alive(str(row.family_id)):
        raise _bad_refresh_token()
    user = await User.get(row.user_id)
    if user is None or not user.is_active:
        await revoke_family(row.family_id, reason="account_disabled")
        raise _bad_refresh_token()
    settings = _settings()
    await AuthSession.get_pymongo_collection().update_one(
        {"_id": row.family_id},
        {"$set": {"expires_at": now + timedelta(seconds=settings.REFRESH_TOKEN_TTL)}},
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
    if keep_session_id and PydanticObjectId.is_valid(keep_session_id):
        query["_id"] = {"$ne": PydanticObjectId(keep_session_id)}
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
    """Denylist the access token until it expires and end its session and the refresh
    token's (when it is the user's; another user's token is left alone)."""
    expires_at = datetime.fromtimestamp(float(claims["exp"]), UTC)
    await RevokedAccessToken.get_pymongo_collection().update_one(
        {"jti": claims["jti"]},
        {"$setOnInsert": {"jti": claims["jti"], "expires_at": expires_at}},
        upsert=True,
    )
    row = await RefreshToken.find_one(RefreshToken.token_hash == token_digest(refresh_token))
    if row is not None and row.user_id == user.id:
        await revoke_family(row.family_id, reason="logout")
    session_id = claims.get("sid")
    if session_id and PydanticObjectId.is_valid(session_id):
        await revoke_family(PydanticObjectId(session_id), reason="logout")


# -- failed-login lockout --------------------------------------------------------------------


async def _check_lockout(email: str) -> None:
    row = await LoginThrottle.find_one(LoginThrottle.email_digest == token_digest(email))
    if row is None or row.locked_until is None:
        return
    remaining = (as_utc(row.locked_until) - utcnow()).total_seconds()
    if remaining > 0:
        raise RateLimited(
            retry_after=int(remaining) + 1,
            detail="Too many failed sign-in attempts; try again later.",
            code=ErrorCode.ACCOUNT_LOCKED,
        )


async def _record_login_failure(email: str) -> None:
    """Count a failure (atomically, across workers); lock the email at the threshold.

    Kept for unknown emails too, so a lockout says nothing about whether an account exists.
    """
    settings = _settings()
    collection = LoginThrottle.get_pymongo_collection()
    digest = token_digest(email)
    now = utcnow()
    window = timedelta(seconds=settings.LOGIN_LOCKOUT_SECONDS)
    # A lapsed window or lock starts afresh (the TTL monitor may not have removed it yet).
    await collection.delete_one({"email_digest": digest, "expires_at": {"$lte": now}})
    for attempt in range(2):
        try:
            row = await collection.find_one_and_update(
                {"email_digest": digest},
                {
                    "$inc": {"failures": 1},
                    "$setOnInsert": {"expires_at": now + window, "locked_until": None},
                },
                upsert=True,
                return_document=ReturnDocument.AFTER,
            )
            break
        except DuplicateKeyError:  # two first failures raced on the upsert
            if attempt:
                raise
    if row["failures"] >= settings.LOGIN_LOCKOUT_ATTEMPTS and row.get("locked_until") is None:
        locked_until = now + window
        await collection.update_one(
            {"email_digest": digest, "locked_until": None},
            {"$set": {"locked_until": locked_until, "expires_at": locked_until}},
        )
        log.warning(
            "login locked for %ss after %s failures",
            settings.LOGIN_LOCKOUT_SECONDS,
            row["failures"],
        )


async def _clear_login_failures(email: str, session=None) -> None:
    await LoginThrottle.get_pymongo_collection().delete_one(
        {"email_digest": token_digest(email)}, session=session
    )


# -- password reset and change ---------------------------------------------------------------


async def forgot_password(*, email: str, session=None) -> None:
    """Queue a reset email when the email belongs to an active account; say nothing either way."""
    user = await User.find_one(User.email == normalize_email(email), session=session)
    if user is None or not user.is_active:
        return
    settings = _settings()

    async def work(s) -> None:
        await _send_account_email(
            user,
            purpose="password_reset",
            ttl_seconds=settings.PASSWORD_RESET_TOKEN_TTL,
            path="/reset-password",
            session=s,
        )

    await _in_transaction(work, session)


async def reset_password(*, token: str, password: str, session=None) -> User:
    """Set a new password with a reset token; every session of the user is revoked.

    Raises Invalid(invalid_token) for an unknown, used or expired token, Invalid(weak_password)
    when the password contains the email.
    """
    digest = token_digest(token)
    # Look before hashing, so random tokens cost no bcrypt time; the spend below is atomic.
    pending = await AccountToken.find_one(
        {
            "token_hash": digest,
            "purpose": "password_reset",
            "used_at": None,
            "expires_at": {"$gt": utcnow()},
        },
        session=session,
    )
    user = await User.get(pending.user_id, session=session) if pending else None
    if user is None or not user.is_active:
        raise _bad_account_token()
    _check_strength(password, email=user.email)
    password_hash = await hash_password(password)

    async def work(s) -> User:
        row = await _consume_account_token(token, purpose="password_reset", session=s)
        now = utcnow()
        await User.get_pymongo_collection().update_one(
            {"_id": row.user_id},
            {
                "$set": {
                    "password_hash": password_hash,
                    "tokens_valid_after": now,
                    # The link reached the inbox: the address is proven.
                    "email_verified": True,
                    "updated_at": now,
                }
            },
            session=s,
        )
        await AccountToken.get_pymongo_collection().update_many(
            {"user_id": row.user_id, "purpose": "password_reset", "used_at": None},
            {"$set": {"used_at": now}},
            session=s,
        )
        await revoke_user_sessions(row.user_id, reason="password_reset", session=s)
        await _clear_login_failures(user.email, session=s)
        return user

    return await _in_transaction(work, session)


def _check_strength(password: str, *, email: str) -> None:
    problem = password_problem(password, email=email)
    if problem:
        raise Invalid(problem, code=ErrorCode.WEAK_PASSWORD)


async def change_password(
    *,
    user: User,
    current_password: str,
    new_password: str,
    current_session_id: str | None = None,
) -> None:
    """Change the password; every other session of the user is revoked.

    Raises Invalid(invalid_credentials) for a wrong current password (counted towards the
    lockout), Invalid(weak_password) for a weak or unchanged new one, RateLimited while locked.
    """
    await _check_lockout(user.email)
    if not await verify_password(current_password, user.password_hash):
        await _record_login_failure(user.email)
        raise Invalid("The current password is incorrect.", code=ErrorCode.INVALID_CREDENTIALS)
    if new_password == current_password:
        raise Invalid(
            "The new password must differ from the current one.", code=ErrorCode.WEAK_PASSWORD
        )
    _check_strength(new_password, email=user.email)
    password_hash = await hash_password(new_password)

    async def work(s) -> None:
        await User.get_pymongo_collection().update_one(
            {"_id": user.id},
            {"$set": {"password_hash": password_hash, "updated_at": utcnow()}},
            session=s,
        )
        await revoke_user_sessions(
            user.id, reason="password_change", keep_session_id=current_session_id, session=s
        )

    await _in_transaction(work, None)


# -- administration --------------------------------------------------------------------------


async def list_users(
    *, query: PageQuery, email: str | None = None, role: str | None = None
) -> Page:
    """Users, newest first; `email` matches the start of the address (index-friendly)."""
    filters: dict[str, Any] = {}
    if email:
        filters["email"] = {"$regex": "^" + re.escape(normalize_email(email))}
    if role:
        filters["role"] = role
    find = User.find(filters)
    total = await find.count()
    items = await find.sort(-User.created_at).skip(query.skip).limit(query.per_page).to_list()
    return Page.build(items, query=query, total=total)


async def update_user(
    *,
    actor: User,
    user_id: str,
    role: str | None = None,
    is_active: bool | None = None,
) -> User:
    """Change a user's role or active flag; deactivation ends every session at once.

    Raises NotFound, Conflict(cannot_change_self) when an admin demotes or disables themself.
    """
    if not PydanticObjectId.is_valid(user_id):
        raise NotFound("No such user.")
    target_id = PydanticObjectId(user_id)
    if target_id == actor.id and (role == "customer" or is_active is False):
        raise Conflict(
            "Admins cannot demote or deactivate themselves.", code=ErrorCode.CANNOT_CHANGE_SELF
        )
    changes: dict[str, Any] = {}
    if role is not None:
        changes["role"] = role
    if is_active is not None:
        changes["is_active"] = is_active
    if not changes:
        user = await User.get(target_id)
        if user is None:
            raise NotFound("No such user.")
        return user
    changes["updated_at"] = utcnow()
    updated = await User.get_pymongo_collection().find_one_and_update(
        {"_id": target_id}, {"$set": changes}, return_document=ReturnDocument.AFTER
    )
    if updated is None:
        raise NotFound("No such user.")
    if is_active is False:
        await revoke_user_sessions(target_id, reason="account_disabled")
    return User.model_validate(updated)


async def ensure_admin(*, email: str, password: str, name: str = "Administrator") -> User:
    """Create the admin when absent, or promote (and re-activate) an existing user.

    An existing user's password is left as it is: this runs at every start-up.
    """
    email = normalize_email(email)
    user = await User.find_one(User.email == email)
    if user is None:
        user = User(
            email=email,
            name=name,
            role="admin",
            email_verified=True,
            password_hash=await hash_password(password),
        )
        try:
            await user.insert()
            log.info("created admin account")
            return user
        except DuplicateKeyError:  # another worker created it meanwhile
            user = await User.find_one(User.email == email)
            if user is None:
                raise AppError("The admin account could not be created.") from None
    if user.role != "admin" or not user.is_active:
        await User.get_pymongo_collection().update_one(
            {"_id": user.id},
            {"$set": {"role": "admin", "is_active": True, "updated_at": utcnow()}},
        )
        user.role, user.is_active = "admin", True
        log.info("promoted existing account to admin")
    return user
