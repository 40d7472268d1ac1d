"""Concurrent writes to one cart: every add lands, one cart is created, no 5xx.

Requests are gathered on one event loop. To make sure they really overlap between reading
the cart and writing it back (the window a lost update needs), `interleaved` makes every
request wait at the catalog lookup, which sits inside that window, until the others have
read the cart as well.
"""

from __future__ import annotations

import asyncio

import pytest

from app.cart import service
from app.cart.models import Cart
from app.catalog import products as catalog
from tests.support.cart import quantities


@pytest.fixture
def interleaved(monkeypatch):
    """Make every cart write yield to the others between reading and writing the cart."""
    original = catalog.products_by_id

    async def slow(ids, *, session=None):
        found = await original(ids, session=session)
        for _ in range(20):
            await asyncio.sleep(0)
        return found

    monkeypatch.setattr(catalog, "products_by_id", slow)


@pytest.mark.parametrize("overlap", [False, True], ids=["gathered", "interleaved"])
async def test_concurrent_adds_of_one_product_all_land(
    customer, cart_api, product, request, overlap
):
    if overlap:
        request.getfixturevalue("interleaved")
    user, headers = customer
    mug = await product(stock=50)
    await cart_api.add(headers, mug.id, 1)
    results = await asyncio.gather(*(cart_api.add(headers, mug.id, 2) for _ in range(5)))
    assert [status for status, _ in results] == [200] * 5
    cart = await Cart.find_one({"user_id": user.id})
    assert [(line.product_id, line.quantity) for line in cart.lines] == [(mug.id, 11)]
    assert cart.version == 6
    assert quantities((await cart_api.get(headers))[1]) == {str(mug.id): 11}


async def test_concurrent_first_adds_create_one_cart(customer, cart_api, product, interleaved):
    user, headers = customer
    things = [await product(f"Thing {i}", stock=10) for i in range(4)]
    results = await asyncio.gather(*(cart_api.add(headers, item.id, 1) for item in things))
    assert [status for status, _ in results] == [200] * 4
    assert await Cart.find({"user_id": user.id}).count() == 1
    _, body = await cart_api.get(headers)
    assert quantities(body) == {str(item.id): 1 for item in things}


async def test_concurrent_adds_never_exceed_the_stock(customer, cart_api, product, interleaved):
    _, headers = customer
    mug = await product(stock=10)
    results = await asyncio.gather(*(cart_api.add(headers, mug.id, 3) for _ in range(4)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [200, 200, 200, 409]
    refused = next(body for status, body in results if status == 409)
    assert (refused["code"], refused["available"], refused["in_cart"]) == (
        "insufficient_stock",
        10,
        9,
    )
    assert quantities((await cart_api.get(headers))[1]) == {str(mug.id): 9}


async def test_concurrent_edits_of_different_lines_all_land(
    customer, cart_api, product, interleaved
):
    _, headers = customer
    mug, plate, bowl = [await product(name, stock=10) for name in ("Mug", "Plate", "Bowl")]
    for item in (mug, plate, bowl):
        await cart_api.add(headers, item.id, 2)
    results = await asyncio.gather(
        cart_api.set(headers, mug.id, 5),
        cart_api.remove(headers, plate.id),
        cart_api.add(headers, bowl.id, 1),
    )
    assert [status for status, _ in results] == [200, 200, 200]
    _, body = await cart_api.get(headers)
    assert quantities(body) == {str(mug.id): 5, str(bowl.id): 3}


async def test_a_cart_that_keeps_changing_is_409_not_a_5xx(
    customer, cart_api, product, monkeypatch
):
    """Every attempt loses its race: after the last one the answer is a 409, nothing lost."""
    user, headers = customer
    mug = await product(stock=10)
    await cart_api.add(headers, mug.id, 1)
    original = catalog.products_by_id
    attempts = []

    async def meddling(ids, *, session=None):
        attempts.append(1)
        # Another request saves the cart between our read and our write.
        await Cart.get_pymongo_collection().update_one(
            {"user_id": user.id}, {"$inc": {"version": 1}}
        )
        return await original(ids, session=session)

    monkeypatch.setattr(catalog, "products_by_id", meddling)
    status, problem = await cart_api.add(headers, mug.id, 1)
    assert (status, problem["code"]) == (409, "conflict")
    assert len(attempts) == service.WRITE_ATTEMPTS
    cart = await Cart.find_one({"user_id": user.id})
    assert [line.quantity for line in cart.lines] == [1]


async def test_a_write_that_loses_once_is_retried(customer, cart_api, product, monkeypatch):
    user, headers = customer
    mug = await product(stock=10)
    await cart_api.add(headers, mug.id, 1)
    original = catalog.products_by_id
    raced = []

    async def one_race(ids, *, session=None):
        if not raced:
            raced.append(1)
            # A concurrent add of 4 lands between our read and our write.
            await Cart.get_pymongo_collection().update_one(
                {"user_id": user.id}, {"$inc": {"version": 1, "lines.0.quantity": 4}}
            )
        return await original(ids, session=session)

    monkeypatch.setattr(catalog, "products_by_id", one_race)
    status, body = await cart_api.add(headers, mug.id, 2)
    assert status == 200
    assert quantities(body) == {str(mug.id): 7}
    assert quantities((await cart_api.get(headers))[1]) == {str(mug.id): 7}
