"""Inserting under a free slug when another insert takes it first (app/catalog/slugs.py)."""

from __future__ import annotations

import pytest
from beanie import PydanticObjectId

from app.catalog import slugs
from app.catalog.models import Category, Product
from app.inventory.models import StockMovement
from tests.admin.test_catalog import CATEGORIES, create

pytestmark = pytest.mark.usefixtures("app")


class SlugThief:
    """Once armed, the next free slug looked up is taken by a concurrent insert before ours
    lands (the lookup answers the taken `base` itself); later lookups are the real ones."""

    def __init__(self) -> None:
        self.armed = False
        self.lookups: list[str] = []


@pytest.fixture
def slug_stolen_once(monkeypatch):
    real = slugs.free_slug
    thief = SlugThief()

    async def stolen(document, base, *, session=None):
        if not thief.armed:
            return await real(document, base, session=session)
        thief.lookups.append(base)
        if len(thief.lookups) == 1:
            return base
        return await real(document, base, session=session)

    monkeypatch.setattr(slugs, "free_slug", stolen)
    return thief


@pytest.fixture(params=[True, False], ids=["transaction", "no-transaction"])
def transactions(request, app):
    if not request.param:
        request.getfixturevalue("no_transactions")
    yield


async def test_a_product_whose_slug_is_taken_meanwhile_gets_the_next_one(
    client, admin, make_category, make_product, slug_stolen_once, transactions
):
    _, headers = admin
    home = await make_category("Home")
    await make_product("Oxford Shirt", home)  # inserted as is: no ledger row
    slug_stolen_once.armed = True

    body = await create(client, headers, home, name="Oxford Shirt")

    assert body["slug"] == "oxford-shirt-2"
    assert slug_stolen_once.lookups == [
        "oxford-shirt",
        "oxford-shirt",
    ]  # the whole insert ran twice
    # The failed attempt left nothing behind: one product more, and its one opening row.
    assert await Product.count() == 2
    rows = await StockMovement.find_all().to_list()
    assert [(row.product_id, row.delta, row.reason) for row in rows] == [
        (PydanticObjectId(body["id"]), 12, "initial")
    ]


async def test_a_category_whose_slug_is_taken_meanwhile_gets_the_next_one(
    client, admin, make_category, slug_stolen_once
):
    _, headers = admin
    await make_category("Shoes")
    slug_stolen_once.armed = True

    response = await client.post(CATEGORIES, json={"name": "Shoes"}, headers=headers)

    assert response.status_code == 201
    assert (await response.get_json())["slug"] == "shoes-2"
    assert slug_stolen_once.lookups == ["shoes", "shoes"]
    assert await Category.count() == 2
