"""quart-schema builds one pydantic TypeAdapter per type, not one per request (issue 16: a
checkout flow's constant cost). Counts, never timings; any engine."""

from __future__ import annotations

import uuid

import pydantic.type_adapter

from app.cart.schemas import CartItemIn
from app.catalog.models import Product
from app.inventory.demo import seed_demo_catalog
from tests.core.test_request_cost import ADDRESS


async def _checkout_flow(client, headers: dict, product_id: str) -> None:
    added = await client.post(
        "/api/v1/cart/items", json={"product_id": product_id, "quantity": 1}, headers=headers
    )
    assert added.status_code in (200, 201), await added.get_json()
    placed = await client.post(
        "/api/v1/orders",
        json={"shipping_address": ADDRESS},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert placed.status_code == 201, await placed.get_json()
    paid = await client.post(
        f"/api/v1/orders/{(await placed.get_json())['id']}/pay",
        json={"payment_method": "pm_card_visa"},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert paid.status_code == 200, await paid.get_json()


async def test_the_checkout_flow_builds_no_type_adapter_once_warm(client, create_user, monkeypatch):
    await seed_demo_catalog()
    product = await Product.find_one({"slug": "trail-running-shoe"})
    _, headers = await create_user()
    await _checkout_flow(client, headers, str(product.id))
    built = []
    real = pydantic.type_adapter.TypeAdapter.__init__

    def counting(self, kind, *args, **kwargs):
        built.append(kind)
        real(self, kind, *args, **kwargs)

    monkeypatch.setattr(pydantic.type_adapter.TypeAdapter, "__init__", counting)
    await _checkout_flow(client, headers, str(product.id))
    # Three request bodies validated (the cart line, the address, the payment), none rebuilt.
    assert built == [], built


def test_one_adapter_per_type_and_a_new_one_for_other_options():
    from app.core import validation

    assert validation.cached_type_adapter(CartItemIn) is validation.cached_type_adapter(CartItemIn)
    assert validation.cached_type_adapter(list[int]).validate_python(["1"]) == [1]
    assert validation.cached_type_adapter(int, config=None) is not validation.cached_type_adapter(
        int, config=None
    )
