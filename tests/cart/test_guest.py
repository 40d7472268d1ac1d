"""Guest carts: a cart without an account, reached with its `Cart-Token`, merged into an
account's cart at login, registration or `POST /cart/merge`."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import timedelta

import pytest
from beanie import PydanticObjectId

from app.cart.models import GUEST_CART_TTL, MAX_LINES, Cart, CartLine, GuestCart
from app.catalog.models import Product
from app.core.clock import utcnow
from tests.support.accounts import TEST_PASSWORD
from tests.support.cart import URL, quantities

pytestmark = pytest.mark.usefixtures("app")


async def new_guest_cart(client, product_id, quantity=1) -> tuple[str, dict]:
    response = await client.post(
        f"{URL}/items", json={"product_id": str(product_id), "quantity": quantity}
    )
    assert response.status_code == 200, await response.get_data(as_text=True)
    body = await response.get_json()
    return body["cart_token"], body


def as_guest(token: str) -> dict[str, str]:
    return {"Cart-Token": token}


# -- the guest's cart ------------------------------------------------------------------------


async def test_an_anonymous_add_creates_a_cart_and_answers_its_token(client, product):
    mug = await product(stock=5)
    token, body = await new_guest_cart(client, mug.id, 2)
    assert quantities(body) == {str(mug.id): 2}
    # 256 random bits, URL-safe: guessing one is hopeless.
    assert len(token) >= 43 and set(token) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    )
    stored = await GuestCart.find_all().to_list()
    assert len(stored) == 1
    # Only the token's hash is stored.
    assert stored[0].token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in str(stored[0].model_dump())
    assert await Cart.find_all().count() == 0  # no account's cart


async def test_every_cart_route_works_with_the_token(client, cart_api, product):
    mug, lamp = await product("Mug", stock=5), await product("Lamp", stock=5)
    token, _ = await new_guest_cart(client, mug.id)
    headers = as_guest(token)
    status, body = await cart_api.add(headers, lamp.id, 2)
    assert status == 200 and body["cart_token"] == token
    assert quantities(body) == {str(mug.id): 1, str(lamp.id): 2}
    status, body = await cart_api.set(headers, mug.id, 3)
    assert status == 200 and quantities(body) == {str(mug.id): 3, str(lamp.id): 2}
    status, body = await cart_api.remove(headers, lamp.id)
    assert status == 200 and quantities(body) == {str(mug.id): 3}
    status, body = await cart_api.get(headers)
    assert status == 200 and body["cart_token"] == token and body["subtotal"] == 3 * mug.price
    status, body = await cart_api.clear(headers)
    assert status == 200 and body["items"] == [] and body["cart_token"] == token
    assert (await cart_api.get(headers))[1]["items"] == []  # still there, empty
    assert await GuestCart.find_all().count() == 1


@pytest.mark.parametrize("token", ["not-a-token", "x" * 43, "a" * 256])
async def test_an_unknown_token_is_404_cart_not_found_on_every_route(
    client, cart_api, product, token
):
    mug = await product(stock=5)
    await new_guest_cart(client, mug.id)
    headers = as_guest(token)
    for status, body in [
        await cart_api.get(headers),
        await cart_api.add(headers, mug.id),
        await cart_api.set(headers, mug.id, 1),
        await cart_api.remove(headers, mug.id),
        await cart_api.clear(headers),
    ]:
        assert status == 404 and body["code"] == "cart_not_found"
    assert await GuestCart.find_all().count() == 1  # an add with a bad token creates nothing


async def test_one_guests_token_never_opens_anothers_cart(client, cart_api, product):
    mug, lamp = await product("Mug", stock=5), await product("Lamp", stock=5)
    alice, _ = await new_guest_cart(client, mug.id, 2)
    bob, _ = await new_guest_cart(client, lamp.id, 1)
    assert alice != bob
    assert quantities((await cart_api.get(as_guest(alice)))[1]) == {str(mug.id): 2}
    assert quantities((await cart_api.get(as_guest(bob)))[1]) == {str(lamp.id): 1}
    assert (await cart_api.set(as_guest(bob), mug.id, 1))[0] == 404  # not in bob's cart


async def test_a_login_wins_over_a_cart_token(client, customer, cart_api, product):
    _, headers = customer
    mug = await product(stock=5)
    token, _ = await new_guest_cart(client, mug.id, 2)
    status, body = await cart_api.get({**headers, **as_guest(token)})
    assert status == 200 and body["items"] == [] and body["cart_token"] is None


async def test_a_cart_unused_for_30_days_is_gone(client, cart_api, product):
    mug = await product(stock=5)
    token, _ = await new_guest_cart(client, mug.id)
    # The TTL index deletes it; until its monitor runs, it is already treated as gone.
    indexes = await GuestCart.get_pymongo_collection().index_information()
    ttl = [spec for spec in indexes.values() if "expireAfterSeconds" in spec]
    assert ttl == [
        {
            "v": ttl[0]["v"],
            "key": [("last_used", 1)],
            "expireAfterSeconds": int(GUEST_CART_TTL.total_seconds()),
        }
    ]
    await GuestCart.get_pymongo_collection().update_many(
        {}, {"$set": {"last_used": utcnow() - GUEST_CART_TTL - timedelta(minutes=1)}}
    )
    status, body = await cart_api.get(as_guest(token))
    assert status == 404 and body["code"] == "cart_not_found"


async def test_reading_keeps_the_cart_alive_with_at_most_one_write_an_hour(
    client, cart_api, product
):
    mug = await product(stock=5)
    token, _ = await new_guest_cart(client, mug.id)
    collection = GuestCart.get_pymongo_collection()
    recent = utcnow() - timedelta(minutes=10)
    await collection.update_many({}, {"$set": {"last_used": recent}})
    await cart_api.get(as_guest(token))
    row = await collection.find_one({})
    assert abs(row["last_used"].replace(tzinfo=None) - recent.replace(tzinfo=None)) < timedelta(
        seconds=1
    )  # not rewritten within the hour
    stale = utcnow() - timedelta(days=20)
    await collection.update_many({}, {"$set": {"last_used": stale}})
    await cart_api.get(as_guest(token))
    row = await collection.find_one({})
    assert row["last_used"].replace(tzinfo=None) > (utcnow() - timedelta(minutes=1)).replace(
        tzinfo=None
    )


async def test_the_line_limits_apply_to_guests(client, cart_api, product):
    mug = await product(stock=500)
    token, _ = await new_guest_cart(client, mug.id, 99)
    status, body = await cart_api.add(as_guest(token), mug.id, 1)
    assert status == 409 and body["code"] == "cart_quantity_limit"
    other = await product("Other")
    await GuestCart.get_pymongo_collection().update_many(
        {},
        {
            "$set": {
                "lines": [
                    CartLine(product_id=mug.id, quantity=1).model_dump() for _ in range(MAX_LINES)
                ]
            }
        },
    )
    status, body = await cart_api.add(as_guest(token), other.id, 1)
    assert status == 409 and body["code"] == "cart_full"


@pytest.mark.parametrize("settings_overrides", [{"RATE_LIMIT_GUEST_CART_PER_MINUTE": 2}])
async def test_creating_guest_carts_is_rate_limited_per_address(client, cart_api, product):
    mug = await product(stock=50)
    token, _ = await new_guest_cart(client, mug.id)
    await new_guest_cart(client, mug.id)
    response = await client.post(f"{URL}/items", json={"product_id": str(mug.id), "quantity": 1})
    assert response.status_code == 429
    assert (await response.get_json())["code"] == "rate_limited"
    assert await GuestCart.find_all().count() == 2
    # Using a cart one has is not creating one.
    for _ in range(3):
        assert (await cart_api.add(as_guest(token), mug.id, 1))[0] == 200


# -- merging -----------------------------------------------------------------------------------


async def merge(client, headers, token):
    response = await client.post(f"{URL}/merge", headers=headers, json={"cart_token": token})
    return response.status_code, await response.get_json()


async def test_merge_adds_the_guest_lines_caps_them_and_deletes_the_guest_cart(
    client, customer, cart_api, product
):
    _, headers = customer
    mug, lamp, vase = (
        await product("Mug", stock=5),
        await product("Lamp", stock=10),
        await product("Vase", stock=3),
    )
    await cart_api.add(headers, mug.id, 4)
    token, _ = await new_guest_cart(client, mug.id, 3)  # 4 + 3 > 5 in stock
    await cart_api.add(as_guest(token), lamp.id, 2)
    await cart_api.add(as_guest(token), vase.id, 3)
    await Product.get_pymongo_collection().update_one(
        {"_id": vase.id}, {"$set": {"status": "archived"}}
    )
    status, body = await merge(client, headers, token)
    assert status == 200
    assert quantities(body) == {str(mug.id): 5, str(lamp.id): 2}
    assert body["cart_token"] is None
    report = body["cart_merge"]
    assert report["merged"] is True and report["lines_added"] == 1
    assert {line["product_id"]: line for line in report["capped"]} == {
        str(mug.id): {
            "product_id": str(mug.id),
            "variant_id": str(mug.id),
            "name": "Mug",
            "requested": 3,
            "added": 1,
            "quantity": 5,
            "reason": "stock",
        },
        str(vase.id): {
            "product_id": str(vase.id),
            "variant_id": str(vase.id),
            "name": "Vase",
            "requested": 3,
            "added": 0,
            "quantity": 0,
            "reason": "unavailable",
        },
    }
    assert await GuestCart.find_all().count() == 0
    status, body = await cart_api.get(as_guest(token))
    assert status == 404 and body["code"] == "cart_not_found"


async def test_a_second_merge_of_one_token_is_404_and_changes_nothing(
    client, customer, cart_api, product
):
    _, headers = customer
    mug = await product(stock=50)
    token, _ = await new_guest_cart(client, mug.id, 3)
    assert (await merge(client, headers, token))[0] == 200
    status, body = await merge(client, headers, token)
    assert status == 404 and body["code"] == "cart_not_found"
    assert quantities((await cart_api.get(headers))[1]) == {str(mug.id): 3}


async def test_two_merges_racing_add_the_quantities_once(client, customer, cart_api, product):
    _, headers = customer
    mug = await product(stock=50)
    token, _ = await new_guest_cart(client, mug.id, 3)
    results = await asyncio.gather(*(merge(client, headers, token) for _ in range(4)))
    assert sorted(status for status, _ in results) == [200, 404, 404, 404]
    assert quantities((await cart_api.get(headers))[1]) == {str(mug.id): 3}


async def test_merge_needs_a_login_and_a_valid_body(client, product):
    mug = await product(stock=5)
    token, _ = await new_guest_cart(client, mug.id)
    assert (await merge(client, as_guest(token), token))[0] == 401
    assert await GuestCart.find_all().count() == 1


async def test_login_with_a_cart_token_merges_it(client, create_user, cart_api, product):
    await create_user(email="shopper@example.com")
    mug = await product(stock=5)
    token, _ = await new_guest_cart(client, mug.id, 2)
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": "shopper@example.com", "password": TEST_PASSWORD, "cart_token": token},
    )
    assert response.status_code == 200
    body = await response.get_json()
    assert body["cart_merge"] == {"merged": True, "lines_added": 1, "capped": []}
    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert quantities((await cart_api.get(headers))[1]) == {str(mug.id): 2}
    assert await GuestCart.find_all().count() == 0
    # A second login with the same (spent) token still signs in, and says nothing merged.
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": "shopper@example.com", "password": TEST_PASSWORD, "cart_token": token},
    )
    assert response.status_code == 200
    assert (await response.get_json())["cart_merge"] == {
        "merged": False,
        "lines_added": 0,
        "capped": [],
    }
    assert quantities((await cart_api.get(headers))[1]) == {str(mug.id): 2}


async def test_login_without_a_cart_token_merges_nothing(client, create_user, product):
    await create_user(email="shopper@example.com")
    mug = await product(stock=5)
    await new_guest_cart(client, mug.id, 2)
    response = await client.post(
        "/api/v1/auth/login", json={"email": "shopper@example.com", "password": TEST_PASSWORD}
    )
    assert (await response.get_json())["cart_merge"] is None
    assert await GuestCart.find_all().count() == 1


async def test_a_wrong_password_merges_nothing(client, create_user, product):
    await create_user(email="shopper@example.com")
    mug = await product(stock=5)
    token, _ = await new_guest_cart(client, mug.id, 2)
    response = await client.post(
        "/api/v1/auth/login",
        json={"email": "shopper@example.com", "password": "wrong-password-1", "cart_token": token},
    )
    assert response.status_code == 401
    assert await GuestCart.find_all().count() == 1


async def test_registration_with_a_cart_token_merges_it(client, cart_api, product):
    mug = await product(stock=5)
    token, _ = await new_guest_cart(client, mug.id, 2)
    response = await client.post(
        "/api/v1/auth/register",
        json={
            "email": "newbie@example.com",
            "password": "Correct-Horse-Battery-9",
            "name": "Newbie",
            "cart_token": token,
        },
    )
    assert response.status_code == 201, await response.get_data(as_text=True)
    body = await response.get_json()
    assert body["cart_merge"] == {"merged": True, "lines_added": 1, "capped": []}
    cart = await Cart.find_one({"user_id": PydanticObjectId(body["user"]["id"])})
    assert cart is not None and [(line.product_id, line.quantity) for line in cart.lines] == [
        (mug.id, 2)
    ]
    assert await GuestCart.find_all().count() == 0
