"""The rate limit of creating guest carts: per client address, like registrations. Only an
anonymous `POST /cart/items` without a `Cart-Token` creates one; everything else is free."""

from __future__ import annotations

from quart_rate_limiter import RateLimit

from app.core.guest import CART_TOKEN_HEADER, header_token
from app.core.ratelimit import ConfiguredLimit, client_ip_key
from app.core.security import bearer_token


async def _not_creating() -> bool:
    return bearer_token() is not None or header_token(CART_TOKEN_HEADER) is not None


async def _guest_cart_key() -> str:
    return "guest-cart:" + await client_ip_key()


NEW_GUEST_CART: list[RateLimit] = [
    ConfiguredLimit(
        "RATE_LIMIT_GUEST_CART_PER_MINUTE",
        key_function=_guest_cart_key,
        skip_function=_not_creating,
    )
]
