"""The cap on what one customer holds unpaid: at most UNPAID_ORDERS_MAX orders and
UNPAID_UNITS_MAX units in `pending_payment`, refused at checkout with 409
`unpaid_limit_reached`, exact under concurrency, given back once when an order stops being
unpaid (paid, cancelled by anyone, expired)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from beanie import PydanticObjectId

from app.cart.models import Cart
from app.core import db
from app.core.clock import utcnow
from app.email.models import OutboxEmail
from app.orders import cancellation, holds
from app.orders.models import Order, UnpaidHold
from tests.support.orders import ADDRESS, order_count, stock_of

pytestmark = pytest.mark.usefixtures("app")


@pytest.fixture
def transactions(request):
    """Parametrize a test with `transactions` True/False (False: as without a replica set)."""
    if not request.param:
        request.getfixturevalue("no_transactions")
    return request.param


both_modes = pytest.mark.parametrize(
    "transactions", [True, False], ids=["transaction", "no-transaction"], indirect=True
)


async def hold_of(user) -> tuple[int, int, list[str]]:
    row = await UnpaidHold.find_one({"key": f"user:{user.id}"})
    if row is None:
        return 0, 0, []
    return row.orders, row.units, sorted(str(entry.order_id) for entry in row.held)


async def place(user, headers, fill_cart, checkout, *lines):
    await fill_cart(user, *lines)
    response = await checkout(headers)
    assert response.status_code == 201, await response.get_data(as_text=True)
    return await response.get_json()


@both_modes
async def test_a_fourth_unpaid_order_is_refused_and_changes_nothing(
    customer, stock, fill_cart, checkout, transactions
):
    user, headers = customer
    placed = [await place(user, headers, fill_cart, checkout, (stock.shirt, 1)) for _ in range(3)]
    await fill_cart(user, (stock.shirt, 2))
    emails = await OutboxEmail.find_all().count()

    response = await checkout(headers)

    assert response.status_code == 409
    problem = await response.get_json()
    assert problem["code"] == "unpaid_limit_reached"
    assert problem["limits"] == {"orders": 3, "units": 50}
    assert problem["held"] == {"orders": 3, "units": 3}
    assert problem["requested_units"] == 2
    assert "3 unpaid orders" in problem["detail"]
    assert await stock_of(stock.shirt) == 7
    assert await order_count() == 3
    assert len((await Cart.find_one({"user_id": user.id})).lines) == 1
    assert await OutboxEmail.find_all().count() == emails
    assert await hold_of(user) == (3, 3, sorted(order["id"] for order in placed))


@both_modes
async def test_units_across_unpaid_orders_are_capped(
    create_user, stock, fill_cart, checkout, transactions
):
    await stock.shirt.set({"stock": 200, "variants.0.stock": 200})
    user, headers = await create_user()
    await place(user, headers, fill_cart, checkout, (stock.shirt, 30))

    await fill_cart(user, (stock.shirt, 21))
    over = await checkout(headers)
    assert over.status_code == 409
    problem = await over.get_json()
    assert problem["code"] == "unpaid_limit_reached"
    assert (problem["held"], problem["requested_units"]) == ({"orders": 1, "units": 30}, 21)

    await place(user, headers, fill_cart, checkout, (stock.shirt, 20))  # 50 in all: allowed
    assert await hold_of(user) == (2, 50, (await hold_of(user))[2])
    assert await stock_of(stock.shirt) == 150

    # One order over the maximum on its own is refused even with nothing held.
    other, other_headers = await create_user()
    await fill_cart(other, (stock.shirt, 51))
    alone = await checkout(other_headers)
    assert alone.status_code == 409
    assert (await alone.get_json())["held"] == {"orders": 0, "units": 0}
    assert await stock_of(stock.shirt) == 150 and await order_count() == 2


@pytest.mark.parametrize("settings_overrides", [{"UNPAID_ORDERS_MAX": 1, "UNPAID_UNITS_MAX": 2}])
async def test_the_limits_are_settings(customer, stock, fill_cart, checkout):
    user, headers = customer
    await fill_cart(user, (stock.shirt, 3))
    assert (await (await checkout(headers)).get_json())["limits"] == {"orders": 1, "units": 2}
    await place(user, headers, fill_cart, checkout, (stock.shirt, 2))
    await fill_cart(user, (stock.mug, 1))
    problem = await (await checkout(headers)).get_json()
    assert (problem["code"], problem["held"]) == ("unpaid_limit_reached", {"orders": 1, "units": 2})


async def _pay(order, headers, client, admin):
    response = await client.post(
        f"/api/v1/orders/{order['id']}/pay",
        json={"payment_method": "pm_card_visa"},
        headers=headers,
    )
    assert response.status_code == 200, await response.get_data(as_text=True)


async def _cancel(order, headers, client, admin):
    response = await client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers)
    assert response.status_code == 200, await response.get_data(as_text=True)


async def _admin_cancel(order, headers, client, admin):
    response = await client.post(
        f"/api/v1/admin/orders/{order['id']}/status",
        json={"status": "cancelled", "note": "fraud check"},
        headers=admin[1],
    )
    assert response.status_code == 200, await response.get_data(as_text=True)


async def _expire(order, headers, client, admin):
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order["id"])},
        {"$set": {"created_at": utcnow() - timedelta(hours=1)}},
    )
    assert await cancellation.expire_unpaid_orders(older_than_seconds=1800) == 1


@both_modes
@pytest.mark.parametrize(
    "leave", [_pay, _cancel, _admin_cancel, _expire], ids=["paid", "cancelled", "admin", "expired"]
)
async def test_an_order_that_stops_being_unpaid_frees_its_place(
    customer, admin, stock, fill_cart, checkout, client, leave, transactions
):
    user, headers = customer
    placed = [await place(user, headers, fill_cart, checkout, (stock.shirt, 2)) for _ in range(3)]

    await leave(placed[1], headers, client, admin)

    assert await hold_of(user) == (2, 4, sorted([placed[0]["id"], placed[2]["id"]]))
    fourth = await place(user, headers, fill_cart, checkout, (stock.mug, 1))
    assert await hold_of(user) == (3, 5, sorted([placed[0]["id"], placed[2]["id"], fourth["id"]]))
    assert (await Order.get(fourth["id"])).hold_keys == [f"user:{user.id}"]


@both_modes
async def test_racing_moves_give_a_place_back_once(
    customer, stock, fill_cart, checkout, client, transactions
):
    user, headers = customer
    placed = [await place(user, headers, fill_cart, checkout, (stock.shirt, 1)) for _ in range(2)]
    order = placed[0]
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(order["id"])},
        {"$set": {"created_at": utcnow() - timedelta(hours=1)}},
    )

    await asyncio.gather(
        client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers),
        client.post(f"/api/v1/orders/{order['id']}/cancel", headers=headers),
        cancellation.expire_unpaid_orders(older_than_seconds=1800),
        client.post(
            f"/api/v1/orders/{order['id']}/pay",
            json={"payment_method": "pm_card_visa"},
            headers=headers,
        ),
    )

    assert (await Order.get(order["id"])).status in ("cancelled", "paid")
    assert await hold_of(user) == (1, 1, [placed[1]["id"]])
    # Giving back again (a repeated release) changes nothing.
    await holds.release([f"user:{user.id}"], order_id=PydanticObjectId(order["id"]), units=1)
    assert await hold_of(user) == (1, 1, [placed[1]["id"]])


@both_modes
async def test_simultaneous_checkouts_of_one_customer_never_exceed_the_cap(
    customer, stock, fill_cart, client, transactions
):
    user, headers = customer
    await stock.shirt.set({"stock": 100, "variants.0.stock": 100})
    await fill_cart(user, (stock.shirt, 1))

    responses = await asyncio.gather(
        *(
            client.post("/api/v1/orders", json={"shipping_address": ADDRESS}, headers=headers)
            for _ in range(10)
        )
    )

    statuses = [r.status_code for r in responses]
    placed = statuses.count(201)
    assert 1 <= placed <= 3, statuses
    assert set(statuses) <= {201, 409, 422}, statuses
    assert await order_count() == placed
    assert await stock_of(stock.shirt) == 100 - placed
    orders, units, listed = await hold_of(user)
    assert (orders, units) == (placed, placed)
    assert listed == sorted(str(o.id) for o in await Order.find_all().to_list())


@both_modes
async def test_simultaneous_places_are_taken_up_to_the_cap_exactly(customer, transactions):
    """The guard itself, with checkouts that all have something to order (in the shop one
    cart per customer also stands in the way): ten takes at once, three succeed."""
    user, _ = customer
    key = holds.user_key(user.id)
    await holds.ensure([key])

    async def take():
        try:
            await db.run_in_transaction(
                lambda session: holds.take(
                    [key], order_id=PydanticObjectId(), units=2, session=session
                )
            )
            return True
        except holds.UnpaidLimitReached:
            return False

    results = await asyncio.gather(*(take() for _ in range(10)))

    assert results.count(True) == 3
    row = await UnpaidHold.find_one({"key": key})
    assert (row.orders, row.units, len(row.held)) == (3, 6, 3)


async def test_places_left_behind_by_a_crash_are_given_back(customer, stock, fill_cart, checkout):
    """Without transactions a process can die between an order's move and its release, or
    between a checkout's taking a place and inserting the order: the next refused checkout
    gives back such places (an order no longer unpaid; an order that never came to be and
    is clearly not still being placed) and is judged again."""
    user, headers = customer
    key = holds.user_key(user.id)
    paid = await place(user, headers, fill_cart, checkout, (stock.shirt, 1))
    # It was paid, and the process died before its place was given back.
    await Order.get_pymongo_collection().update_one(
        {"_id": PydanticObjectId(paid["id"])}, {"$set": {"status": "paid"}}
    )
    # A checkout took a place an hour ago and died before inserting its order; another
    # took one just now and is still running.
    dead = PydanticObjectId.from_datetime(datetime.now(UTC) - timedelta(hours=1))
    running = PydanticObjectId()
    for order_id in (dead, running):
        await holds.take([key], order_id=order_id, units=1)
    assert await hold_of(user) == (3, 3, sorted([paid["id"], str(dead), str(running)]))

    fourth = await place(user, headers, fill_cart, checkout, (stock.shirt, 1))

    assert await hold_of(user) == (2, 2, sorted([str(running), fourth["id"]]))
