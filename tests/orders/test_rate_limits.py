"""Checkout and cancel are rate limited per account and per client address (429 with
Retry-After): a loop of checkout -> cancel queues two emails and two stock moves a turn."""

from __future__ import annotations

import pytest

from tests.auth.test_rate_limits import assert_limited, from_ip
from tests.support.orders import ADDRESS, stock_of

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def settings_overrides():
    return {"RATE_LIMIT_CHECKOUT_PER_MINUTE": 2, "RATE_LIMIT_CANCEL_PER_MINUTE": 2}


async def place(client, headers, ip):
    return await client.post(
        "/api/v1/orders", json={"shipping_address": ADDRESS}, headers=headers, **from_ip(ip)
    )


async def cancel(client, order_id, headers, ip):
    return await client.post(f"/api/v1/orders/{order_id}/cancel", headers=headers, **from_ip(ip))


async def test_checkout_is_limited_per_account_across_addresses(
    client, customer, create_user, stock, fill_cart
):
    user, headers = customer
    for ip in ("10.0.0.1", "10.0.0.2"):
        await fill_cart(user, (stock.shirt, 1))
        assert (await place(client, headers, ip)).status_code == 201
    await fill_cart(user, (stock.shirt, 1))

    await assert_limited(await place(client, headers, "10.0.0.3"))

    # Another account is not affected, and the refused checkout changed nothing.
    other, other_headers = await create_user()
    await fill_cart(other, (stock.mug, 1))
    assert (await place(client, other_headers, "10.0.0.3")).status_code == 201
    assert await stock_of(stock.shirt) == 8


async def test_checkout_is_limited_per_address_across_accounts(client, create_user, stock):
    shoppers = [await create_user() for _ in range(3)]
    for _, headers in shoppers[:2]:
        # An empty cart is refused (422), and still counts: the limit is on requests.
        assert (await place(client, headers, "10.0.0.9")).status_code == 422
    await assert_limited(await place(client, shoppers[2][1], "10.0.0.9"))
    assert (await place(client, shoppers[2][1], "10.0.0.10")).status_code == 422


@pytest.mark.parametrize("settings_overrides", [{"RATE_LIMIT_CANCEL_PER_MINUTE": 2}])
async def test_cancel_is_limited_per_account_and_per_address(
    client, customer, create_user, placed_order
):
    _, headers = customer
    orders = [await placed_order() for _ in range(3)]
    for order, ip in zip(orders[:2], ("10.0.1.1", "10.0.1.2"), strict=True):
        assert (await cancel(client, order["id"], headers, ip)).status_code == 200
    await assert_limited(await cancel(client, orders[2]["id"], headers, "10.0.1.3"))

    strangers = [await create_user() for _ in range(3)]
    for _, stranger in strangers[:2]:
        assert (await cancel(client, orders[2]["id"], stranger, "10.0.2.1")).status_code == 404
    await assert_limited(await cancel(client, orders[2]["id"], strangers[2][1], "10.0.2.1"))


async def test_requests_without_a_valid_token_count_per_address_only(client):
    for token in ("not-a-jwt", "still-not"):
        response = await place(client, {"Authorization": f"Bearer {token}"}, "10.0.3.1")
        assert response.status_code == 401
    await assert_limited(await place(client, {}, "10.0.3.1"))
    assert (await place(client, {}, "10.0.3.2")).status_code == 401


@pytest.mark.parametrize("settings_overrides", [{"RATE_LIMIT_ENABLED": False}])
async def test_the_limits_are_off_with_rate_limiting(client, customer, stock, fill_cart):
    user, headers = customer
    for _ in range(3):
        await fill_cart(user, (stock.shirt, 1))
        assert (await place(client, headers, "10.0.0.1")).status_code == 201


async def test_the_limited_routes_document_429(client):
    document = await (await client.get("/openapi.json")).get_json()
    for path in ("/api/v1/orders", "/api/v1/orders/{order_id}/cancel"):
        assert "429" in document["paths"][path]["post"]["responses"]
    assert "unpaid_limit_reached" in document["paths"]["/api/v1/orders"]["post"]["description"]
