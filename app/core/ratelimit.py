"""Rate limits (quart-rate-limiter) with their state in MongoDB, shared by every worker.

Limits read their count from the settings at request time (`ConfiguredLimit`), so tests and
deployments tune them without code. Keys are hashed: no IP address or email is stored in clear.

quart-rate-limiter reads a bucket, then writes it: two workers racing on one key may both let
a request through. That is acceptable for throttling; the security-relevant counter (failed
logins locking an email) is a separate, atomic `$inc` in the accounts service.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Annotated

from beanie import Document, Indexed
from pymongo import ASCENDING, IndexModel
from quart import Quart, Response, current_app, g, request
from quart_rate_limiter import RateLimit, RateLimiter
from quart_rate_limiter.store import RateLimiterStoreABC

from app.core.clock import as_utc
from app.core.security import bearer_token, decode_access_token
from app.errors import AppError
from config import Settings


class RateLimitBucket(Document):
    key: Annotated[str, Indexed(unique=True)]
    # GCRA's theoretical arrival time; once it has passed the bucket is full again.
    tat: datetime
    expires_at: datetime

    class Settings:
        name = "rate_limit_buckets"
        indexes = [IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0)]


class MongoStore(RateLimiterStoreABC):
    """One small document per key, removed by its TTL index once it no longer limits."""

    async def before_serving(self) -> None:
        pass

    async def after_serving(self) -> None:
        pass

    async def get(self, key: str, default: datetime) -> datetime:
        row = await RateLimitBucket.get_pymongo_collection().find_one({"key": key})
        return as_utc(row["tat"]) if row else default

    async def set(self, key: str, tat: datetime) -> None:
        await RateLimitBucket.get_pymongo_collection().update_one(
            {"key": key}, {"$set": {"tat": tat, "expires_at": tat}}, upsert=True
        )


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def client_network(address: str | None) -> str:
    """The client an address stands for: an IPv4 address, or an IPv6 /64 (one subscriber
    usually holds a whole /64, so counting single IPv6 addresses would be no limit at all)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        return address or "unknown"
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


async def client_ip_key() -> str:
    # `remote_addr`, not X-Forwarded-For (which any client can write): behind trusted proxies
    # (TRUSTED_PROXY_HOPS) the proxy-fix middleware has already made it the real client's.
    return "ip:" + _digest(client_network(request.remote_addr))


Normalise = Callable[[str], str]


def _fold(value: str) -> str:
    return value.strip().lower()


async def _json_field(field: str, normalise: Normalise = _fold) -> str | None:
    try:
        body = await request.get_json(silent=True)
    except AppError:  # not JSON: the route answers 400/415 itself
        return None
    value = body.get(field) if isinstance(body, dict) else None
    return normalise(value) if isinstance(value, str) and value.strip() else None


def json_field_key(field: str, normalise: Normalise = _fold) -> Callable[[], Awaitable[str]]:
    """A key from a string field of the JSON body (e.g. the email), normalised and hashed.
    Normalise it as the service does, so look-alike spellings share one bucket."""

    async def key() -> str:
        return f"{field}:" + _digest(await _json_field(field, normalise) or "")

    return key


def json_field_missing(field: str) -> Callable[[], Awaitable[bool]]:
    """Skip the per-field limit when the body has no such string (validation answers 422)."""

    async def skip() -> bool:
        return await _json_field(field) is None

    return skip


class ConfiguredLimit(RateLimit):
    """A limit of `settings.<setting>` requests per `period`, read at request time."""

    def __init__(
        self,
        setting: str,
        *,
        key_function: Callable[[], Awaitable[str]],
        skip_function: Callable[[], Awaitable[bool]] | None = None,
        period: timedelta = timedelta(minutes=1),
    ) -> None:
        self.setting = setting
        self.key_function = key_function
        self.skip_function = skip_function
        self._period = period

    # RateLimit's fields, read live from the settings: a property over a dataclass field.
    @property
    def count(self) -> int:  # type: ignore[override]
        count: int = getattr(current_app.config["SETTINGS"], self.setting)
        return count

    @property
    def period(self) -> timedelta:  # type: ignore[override]
        return self._period


def per_ip_and_field(setting: str, field: str, normalise: Normalise = _fold) -> list[RateLimit]:
    """The same limit counted per client IP and per value of a body field (e.g. email)."""
    return [
        ConfiguredLimit(setting, key_function=client_ip_key),
        ConfiguredLimit(
            setting,
            key_function=json_field_key(field, normalise),
            skip_function=json_field_missing(field),
        ),
    ]


async def _bearer_account() -> str | None:
    """The account a valid access token names (signature, issuer, expiry checked; no database
    read), or None. The limiter runs before the route authenticates, and asks up to three
    times per request: decode once."""
    if "limited_account" not in g:
        token = bearer_token()
        settings = current_app.config["SETTINGS"]
        try:
            claims = (
                decode_access_token(
                    token, secret=settings.SECRET_KEY, max_lifetime=settings.ACCESS_TOKEN_TTL
                )
                if token
                else None
            )
        except AppError:  # the route answers 401 itself
            claims = None
        g.limited_account = str(claims["sub"]) if claims else None
    account: str | None = g.limited_account
    return account


async def bearer_account_key() -> str:
    return "user:" + _digest(await _bearer_account() or "")


async def bearer_account_unknown() -> bool:
    return await _bearer_account() is None


def per_ip_and_account(setting: str) -> list[RateLimit]:
    """The same limit counted per client IP and per signed-in account (its access token)."""
    return [
        ConfiguredLimit(setting, key_function=client_ip_key),
        ConfiguredLimit(
            setting, key_function=bearer_account_key, skip_function=bearer_account_unknown
        ),
    ]


class ShopRateLimiter(RateLimiter):
    """CORS preflights (OPTIONS) never count: a browser sends one before many real requests,
    and a limit used up by preflights would refuse the request they prepare."""

    async def _before_request(self) -> None:
        if request.method != "OPTIONS":
            await super()._before_request()

    async def _after_request(self, response: Response) -> Response:
        if request.method == "OPTIONS":
            return response
        return await super()._after_request(response)


def init_rate_limiter(app: Quart, settings: Settings) -> RateLimiter:
    return ShopRateLimiter(
        app,
        key_function=client_ip_key,
        store=MongoStore(),
        enabled=settings.RATE_LIMIT_ENABLED,
    )
