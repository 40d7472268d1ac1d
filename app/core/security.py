"""Password hashing (off the event loop), access tokens, and the auth decorators.

`core` knows no user model: the accounts domain registers a *user loader* with
`set_user_loader()`, which turns verified token claims into the current user (or raises).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import bcrypt
import jwt
from quart import Quart, current_app, g, request
from quart_schema.extension import QUART_SCHEMA_SECURITY_ATTRIBUTE

from app.errors import ErrorCode, Forbidden, Unauthenticated

JWT_ALGORITHM = "HS256"
JWT_ISSUER = "shop-api"
BEARER_SCHEME: list[dict[str, list[str]]] = [{"bearerAuth": []}]

# bcrypt is CPU-bound (~240 ms at cost 12): run it in its own small thread pool, so a burst
# of logins neither freezes the loop nor takes every thread of the default executor. One core
# stays with the event loop (bcrypt releases the GIL): with as many hashing threads as cores,
# 16 concurrent logins took /health's p99 from 10 ms to 190 ms on two cores (make bench).
_HASH_POOL = ThreadPoolExecutor(
    max_workers=max(1, len(os.sched_getaffinity(0)) - 1), thread_name_prefix="bcrypt"
)


_R = TypeVar("_R")
_P = ParamSpec("_P")


async def _off_loop(fn: Callable[..., _R], *args: Any) -> _R:
    return await asyncio.get_running_loop().run_in_executor(_HASH_POOL, fn, *args)


def _rounds() -> int:
    rounds: int = current_app.config["SETTINGS"].BCRYPT_ROUNDS
    return rounds


async def hash_password(password: str, *, rounds: int | None = None) -> str:
    salt = bcrypt.gensalt(rounds or _rounds())
    hashed = await _off_loop(bcrypt.hashpw, password.encode(), salt)
    return hashed.decode()


async def verify_password(password: str, password_hash: str | None) -> bool:
    """Constant-time check; with no hash (unknown user) it still spends the same time."""
    candidate = (password_hash or await _dummy_hash()).encode()
    ok = await _off_loop(bcrypt.checkpw, password.encode(), candidate)
    return ok and password_hash is not None


_DUMMY_HASHES: dict[int, str] = {}


async def _dummy_hash() -> str:
    rounds = _rounds()
    if rounds not in _DUMMY_HASHES:
        hashed = await _off_loop(bcrypt.hashpw, secrets.token_bytes(16), bcrypt.gensalt(rounds))
        _DUMMY_HASHES[rounds] = hashed.decode()
    return _DUMMY_HASHES[rounds]


def new_opaque_token() -> str:
    """A random URL-safe token for refresh, verification and reset links."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What we store of an opaque token: its SHA-256, so a database leak reveals no token."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_access_token(
    *, subject: str, role: str, secret: str, ttl_seconds: int, extra: dict[str, Any] | None = None
) -> tuple[str, dict[str, Any]]:
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role,
        "jti": uuid.uuid4().hex,
        # Sub-second precision (a JWT NumericDate may be fractional): a token issued just
        # after a password reset must not look older than the reset.
        "iat": now.timestamp(),
        "nbf": now,
        "exp": now + timedelta(seconds=ttl_seconds),
        "iss": JWT_ISSUER,
        "typ": "access",
        **(extra or {}),
    }
    return jwt.encode(claims, secret, algorithm=JWT_ALGORITHM), claims


# Access tokens already verified in this process, by (token, secret, max lifetime): a client
# sends the same token with every request until it expires, and its signature, algorithm,
# issuer and fixed claims give the same answer every time (about 40 µs of PyJWT a request).
# Only the expiry depends on the moment, so it is checked again on every use; whatever else
# may end a token (logout, its session, a password reset) is the user loader's, per request.
_VERIFIED: OrderedDict[tuple[str, str, int | None], tuple[int, dict[str, Any]]] = OrderedDict()
_VERIFIED_MAX = 4096


def _now() -> float:
    return datetime.now(UTC).timestamp()


def decode_access_token(
    token: str, *, secret: str, max_lifetime: int | None = None
) -> dict[str, Any]:
    """Verify signature, algorithm, issuer and expiry, and that the token was not issued to
    live longer than `max_lifetime` seconds (the configured access-token TTL); 401 otherwise.
    Returns a copy of the claims (the caller may keep or change it)."""
    cache_key = (token, secret, max_lifetime)
    verified = _VERIFIED.get(cache_key)
    if verified is not None:
        expires, claims = verified
        if expires <= _now():  # PyJWT's rule: expired once `exp` is reached
            del _VERIFIED[cache_key]
            raise _expired()
        return dict(claims)
    claims = _verify(token, secret=secret, max_lifetime=max_lifetime)
    _VERIFIED[cache_key] = (int(claims["exp"]), claims)
    while len(_VERIFIED) > _VERIFIED_MAX:
        _VERIFIED.popitem(last=False)  # the oldest verified first
    return dict(claims)


def _expired() -> Unauthenticated:
    return Unauthenticated("The access token has expired.", code=ErrorCode.TOKEN_EXPIRED)


def _verify(token: str, *, secret: str, max_lifetime: int | None) -> dict[str, Any]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[JWT_ALGORITHM],  # pinned: no alg=none, no key confusion
            issuer=JWT_ISSUER,
            options={"require": ["exp", "iat", "sub", "jti", "iss"]},
        )
    except jwt.ExpiredSignatureError:
        raise _expired() from None
    except jwt.PyJWTError:
        raise Unauthenticated(
            "The access token is invalid.", code=ErrorCode.INVALID_TOKEN
        ) from None
    if claims.get("typ") != "access":
        raise Unauthenticated("The access token is invalid.", code=ErrorCode.INVALID_TOKEN)
    if max_lifetime is not None and _lifetime(claims) > max_lifetime:
        raise Unauthenticated("The access token is invalid.", code=ErrorCode.INVALID_TOKEN)
    return claims


def _lifetime(claims: dict[str, Any]) -> float:
    try:
        return float(claims["exp"]) - float(claims["iat"])
    except (TypeError, ValueError):
        return float("inf")


UserLoader = Callable[[dict[str, Any]], Awaitable[Any]]


def set_user_loader(app: Quart, loader: UserLoader) -> None:
    """Register the coroutine that maps verified claims to the current user (or raises 401)."""
    app.extensions["user_loader"] = loader


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def authenticate() -> Any:
    token = bearer_token()
    if token is None:
        raise Unauthenticated("A bearer access token is required.")
    settings = current_app.config["SETTINGS"]
    claims = decode_access_token(
        token, secret=settings.SECRET_KEY, max_lifetime=settings.ACCESS_TOKEN_TTL
    )
    user = await current_app.extensions["user_loader"](claims)
    g.user, g.token_claims = user, claims
    return user


def _protected(
    func: Callable[_P, Awaitable[_R]], check: Callable[[Any], None] | None
) -> Callable[_P, Awaitable[_R]]:
    @wraps(func)
    async def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        user = await authenticate()
        if check is not None:
            check(user)
        return await func(*args, **kwargs)

    setattr(wrapper, QUART_SCHEMA_SECURITY_ATTRIBUTE, BEARER_SCHEME)
    return wrapper


def login_required(func: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """401 without a valid access token of an active user; sets `g.user`."""
    return _protected(func, None)


def _require_admin(user: Any) -> None:
    if getattr(user, "role", None) != "admin":
        raise Forbidden("This requires an administrator.")


def admin_required(func: Callable[_P, Awaitable[_R]]) -> Callable[_P, Awaitable[_R]]:
    """As `login_required`, and 403 unless the user is an admin."""
    return _protected(func, _require_admin)


def current_user() -> Any:
    """The user `authenticate` loaded (typed Any: core knows no user model)."""
    return g.user
