"""A guest's `Order-Token`: what opens one order without an account.

The token is HMAC-SHA-256, under the server's SECRET_KEY, of the order's id and a random
128-bit nonce stored on the order (`guest_token_nonce`); the order also stores the token's
SHA-256 (`guest_token_hash`), which is what a request's token is checked against. So the
database alone reveals no token (the nonce is useless without the key), yet every later
status email of the order (paid, shipped, cancelled...) can link to it with its token, as
the confirmation does: the contract's `{FRONTEND_URL}/orders/{id}?token=<order_token>`.
After a SECRET_KEY rotation the derived token no longer matches the stored hash: the email
then links to the order without a token (the confirmation's link keeps working).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from beanie import PydanticObjectId
from quart import current_app

from app.core.security import token_digest
from app.orders.models import Order


def _derive(order_id: PydanticObjectId, nonce: str) -> str:
    secret: str = current_app.config["SETTINGS"].SECRET_KEY
    mac = hmac.new(secret.encode(), f"order-token:{order_id}:{nonce}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def issue(order_id: PydanticObjectId) -> tuple[str, str]:
    """A new order's token and the nonce to store with it (256 bits of HMAC output)."""
    nonce = secrets.token_urlsafe(16)
    return _derive(order_id, nonce), nonce


def recover(order: Order) -> str | None:
    """The token of a guest's order, for its emails; None for an account's order, or when
    the key has changed since checkout (the derived token is no longer the stored one)."""
    if order.guest_token_hash is None or order.guest_token_nonce is None or order.id is None:
        return None
    token = _derive(order.id, order.guest_token_nonce)
    return token if hmac.compare_digest(token_digest(token), order.guest_token_hash) else None
