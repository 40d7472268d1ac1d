"""Cart fixtures: a category to put products in, and the cart's HTTP calls."""

from __future__ import annotations

import pytest

from tests.support.cart import URL


@pytest.fixture
async def category(make_category):
    return await make_category("Things")


@pytest.fixture
def product(make_product, category):
    """`await product("Mug", price=1200, stock=5, ...)` -> an active product in `category`."""

    async def factory(name: str = "Mug", **fields):
        return await make_product(name, category, **fields)

    return factory


@pytest.fixture
def cart_api(client):
    """The cart's endpoints for one shopper's headers; each returns (status, body)."""

    class CartApi:
        async def _call(self, method: str, path: str, headers: dict, **kwargs):
            response = await getattr(client, method)(f"{URL}{path}", headers=headers, **kwargs)
            return response.status_code, await response.get_json()

        async def get(self, headers):
            return await self._call("get", "", headers)

        async def add(self, headers, product_id, quantity=1):
            body = {"product_id": str(product_id), "quantity": quantity}
            return await self._call("post", "/items", headers, json=body)

        async def set(self, headers, product_id, quantity):
            return await self._call(
                "patch", f"/items/{product_id}", headers, json={"quantity": quantity}
            )

        async def remove(self, headers, product_id):
            return await self._call("delete", f"/items/{product_id}", headers)

        async def clear(self, headers):
            return await self._call("delete", "", headers)

    return CartApi()
