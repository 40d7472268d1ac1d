"""The payment gateway factory: the one gateway of an app, chosen by `PAYMENT_PROVIDER`.

Every call to a payment provider goes through a `PaymentGateway` (`app.payments.types`); the
orders make theirs from one module (`app.orders.provider`). No gateway call is ever made inside
a database transaction.
"""

from __future__ import annotations

from quart import Quart, current_app

from app.payments.dev import DevGateway
from app.payments.stripe_gateway import StripeGateway
from app.payments.types import PaymentGateway
from config import Settings

_EXTENSION = "payment_gateway"


def build_gateway(settings: Settings) -> PaymentGateway:
    if settings.PAYMENT_PROVIDER == "stripe":
        return StripeGateway(settings)
    return DevGateway(settings)


def gateway() -> PaymentGateway:
    """The app's gateway (created once per app)."""
    extensions = current_app.extensions
    if _EXTENSION not in extensions:
        extensions[_EXTENSION] = build_gateway(current_app.config["SETTINGS"])
    created: PaymentGateway = extensions[_EXTENSION]
    return created


async def close_gateway(app: Quart) -> None:
    """Close the app's gateway (its HTTP connections), if it was created."""
    created = app.extensions.pop(_EXTENSION, None)
    close = getattr(created, "aclose", None)
    if close is not None:
        await close()
