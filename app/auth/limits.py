"""The rate limits of the auth routes: per client IP and per account."""

from __future__ import annotations

from quart import g, request
from quart_rate_limiter import RateLimit

from app.auth.common import normalize_email
from app.auth.service import refresh_token_owner
from app.core.ratelimit import ConfiguredLimit, client_ip_key, per_ip_and_field
from app.errors import AppError

# The per-account keys use the service's normal form: `ＢＯＢ@example.com` is bob's bucket.
LOGIN = per_ip_and_field("RATE_LIMIT_LOGIN_PER_MINUTE", "email", normalize_email)
REGISTER = per_ip_and_field("RATE_LIMIT_REGISTER_PER_MINUTE", "email", normalize_email)
FORGOT_PASSWORD = per_ip_and_field(
    "RATE_LIMIT_FORGOT_PASSWORD_PER_MINUTE", "email", normalize_email
)
RESEND_VERIFICATION = per_ip_and_field(
    "RATE_LIMIT_RESEND_VERIFICATION_PER_MINUTE", "email", normalize_email
)


async def _refresh_owner() -> str | None:
    # The limiter asks for the key up to three times per request: look it up once.
    if "refresh_owner" not in g:
        try:
            body = await request.get_json(silent=True)
        except AppError:  # not JSON: the route answers that itself
            body = None
        token = body.get("refresh_token") if isinstance(body, dict) else None
        g.refresh_owner = await refresh_token_owner(token) if isinstance(token, str) else None
    return g.refresh_owner


async def _refresh_account_key() -> str:
    return f"user:{await _refresh_owner()}"


async def _refresh_owner_unknown() -> bool:
    return await _refresh_owner() is None


# Refresh bodies carry no email: the per-account limit keys on the token's owner.
REFRESH: list[RateLimit] = [
    ConfiguredLimit("RATE_LIMIT_REFRESH_PER_MINUTE", key_function=client_ip_key),
    ConfiguredLimit(
        "RATE_LIMIT_REFRESH_PER_MINUTE",
        key_function=_refresh_account_key,
        skip_function=_refresh_owner_unknown,
    ),
]
