"""Orders fixtures: the checkout flow's (a stocked shop, carts filled directly, checkout, pay:
tests/support/checkout.py), a provider that refuses refunds, cancel and admin helpers."""

from __future__ import annotations

import pytest

from app.payments.dev import DevGateway
from app.payments.types import RefundResult
from tests.support.checkout import (  # noqa: F401
    checkout,
    fill_cart,
    pay,
    placed_order,
    stock,
)
from tests.support.smtp import smtp_server  # noqa: F401

# -- refunds the provider refuses ---------------------------------------------------------------


@pytest.fixture
def provider(monkeypatch):
    """The dev gateway; `provider.refusing` refuses new refunds (as when the merchant's
    balance cannot cover them), `provider.asked` lists every refund asked of it, and
    `provider.during` runs inside the next refund call, before it answers."""
    real = DevGateway.refund

    class Provider:
        refusing = False
        asked: list[tuple[str, int]] = []
        during = None

    state = Provider()

    async def refund(self, *, intent_id, amount, idempotency_key, reason=None):
        state.asked.append((idempotency_key, amount))
        if state.during is not None:
            during, state.during = state.during, None
            await during()
        if state.refusing:
            return RefundResult(
                id=f"re_refused_{len(state.asked)}",
                amount=amount,
                status="failed",
                reference=idempotency_key,
                failure_reason="insufficient_funds",
            )
        return await real(self, intent_id=intent_id, amount=amount, idempotency_key=idempotency_key)

    monkeypatch.setattr(DevGateway, "refund", refund)
    return state


@pytest.fixture
def cancel(client, customer, admin):
    """`await cancel(order_id)` as the customer, `by="admin"` through the admin's status
    route: (status code, body)."""

    async def ask(order_id: str, by: str = "customer"):
        if by == "customer":
            response = await client.post(f"/api/v1/orders/{order_id}/cancel", headers=customer[1])
        else:
            response = await client.post(
                f"/api/v1/admin/orders/{order_id}/status",
                json={"status": "cancelled"},
                headers=admin[1],
            )
        return response.status_code, await response.get_json()

    return ask


@pytest.fixture
def admin_refund(client, admin):
    async def ask(order_id: str, **body):
        response = await client.post(
            f"/api/v1/admin/orders/{order_id}/refund", json=body, headers=admin[1]
        )
        return response.status_code, await response.get_json()

    return ask
