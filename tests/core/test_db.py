"""db.transaction() and run_in_transaction() through Beanie documents (any engine)."""

import asyncio

import pytest
from beanie import PydanticObjectId
from beanie.odm.utils.dump import get_dict
from pymongo.errors import OperationFailure

from app.cart.models import Cart, CartLine, GuestCart
from app.catalog.models import Product
from app.core import db
from app.core.clock import utcnow
from app.email.models import OutboxEmail
from app.inventory.models import StockMovement
from app.inventory.stock import set_stock
from app.orders.models import (
    HistoryEntry,
    Order,
    OrderItem,
    Payment,
    PaymentDispute,
    Refund,
    ShippingAddress,
)


def _email(to: str) -> OutboxEmail:
    return OutboxEmail(to=to, kind="test", subject="s", text="t")


async def test_transaction_commits_beanie_writes(app):
    async with db.transaction() as session:
        await _email("a@x.test").insert(session=session)
        await _email("b@x.test").insert(session=session)
    assert await OutboxEmail.find_all().count() == 2


async def test_transaction_rolls_back_on_error(app):
    await _email("kept@x.test").insert()
    with pytest.raises(ValueError):
        async with db.transaction() as session:
            await _email("gone@x.test").insert(session=session)
            await OutboxEmail.find(OutboxEmail.to == "kept@x.test", session=session).update(
                {"$set": {"subject": "changed"}}, session=session
            )
            raise ValueError("boom")
    if not db.get_db().supports_transactions:
        pytest.skip("this server has no transactions")
    emails = await OutboxEmail.find_all().to_list()
    assert [(e.to, e.subject) for e in emails] == [("kept@x.test", "s")]


async def test_run_in_transaction_retries_transient_errors(app):
    attempts = []

    async def work(session):
        attempts.append(1)
        await _email(f"try{len(attempts)}@x.test").insert(session=session)
        if len(attempts) < 3:
            raise OperationFailure(
                "write conflict", code=112, details={"errorLabels": ["TransientTransactionError"]}
            )
        return "done"

    assert await db.run_in_transaction(work) == "done"
    assert len(attempts) == 3
    if db.get_db().supports_transactions:
        assert [e.to for e in await OutboxEmail.find_all().to_list()] == ["try3@x.test"]


async def test_run_in_transaction_does_not_retry_other_errors(app):
    attempts = []

    async def work(session):
        attempts.append(1)
        raise OperationFailure("bad query", code=2)

    with pytest.raises(OperationFailure):
        await db.run_in_transaction(work)
    assert len(attempts) == 1


async def test_ping(app):
    assert await db.ping() is True


async def test_conflicting_transactions_both_land(app, make_category, make_product):
    """Two transactions read the same product and both write its stock + 1 (a read-modify-write
    that would lose one increment without isolation). On a server the second writer hits a
    write conflict labelled TransientTransactionError and run_in_transaction re-runs it on
    fresh data; the embedded engine runs one transaction after the other. Both land either way.
    """
    product = await make_product("Tent", await make_category("Gear"), stock=10)
    # On a server, force the conflict instead of hoping for it: both read before either
    # writes, the second writes after the first has (uncommitted), and the first commits only
    # after that. The embedded engine cannot interleave: the second starts when the first ends.
    interleaved = not db.get_db().embedded
    both_read = asyncio.Barrier(2)
    first_wrote, second_wrote = asyncio.Event(), asyncio.Event()
    attempts = {"first": 0, "second": 0}
    conflicts: list[OperationFailure] = []

    def increment(name: str):
        async def work(session) -> None:
            attempts[name] += 1
            forced = interleaved and attempts[name] == 1
            found = await Product.get(product.id, session=session)
            if forced:
                await both_read.wait()
                if name == "second":
                    await first_wrote.wait()
            try:
                await set_stock(
                    product_id=found.id, stock=found.stock + 1, reason="test", session=session
                )
            except OperationFailure as error:
                conflicts.append(error)
                raise
            finally:
                if forced and name == "second":
                    second_wrote.set()
            if forced and name == "first":
                first_wrote.set()
                await second_wrote.wait()

        return db.run_in_transaction(work)

    async with asyncio.timeout(60):
        await asyncio.gather(increment("first"), increment("second"))

    assert (await Product.get(product.id)).stock == 12
    if interleaved:
        assert attempts == {"first": 1, "second": 2}
        [conflict] = conflicts
        assert conflict.has_error_label("TransientTransactionError"), conflict.details
    else:
        assert attempts == {"first": 1, "second": 1} and not conflicts


async def test_the_database_handle_is_the_apps_own(app, settings):
    """The handle lives on its app (`app.extensions`), not in a module: another app has none
    until it starts serving, and the app in context is the one asked."""
    from app import create_app

    handle = db.get_db()
    assert handle is db.get_db(app) is app.extensions[db.EXTENSION]
    assert handle.embedded is (settings.MONGODB_URI is None)
    with pytest.raises(RuntimeError, match="no database"):
        db.get_db(create_app(settings))


async def test_no_transactions_fixture_runs_writes_alone(app, no_transactions):
    """The one way tests run as on a server without transactions: the app's handle says so,
    and `db.transaction()` yields no session (the writes below stand alone)."""
    assert db.get_db().supports_transactions is False
    async with db.transaction() as session:
        assert session is None
        await _email("alone@x.test").insert(session=session)
    assert await OutboxEmail.find_all().count() == 1


async def test_document_ids_are_validated_without_a_new_type_adapter_each_time(app, monkeypatch):
    import pydantic.type_adapter

    from app.auth.models import User

    user = User(email="ids@example.com", name="Ids", password_hash="x")
    await user.insert()
    await User.get(user.id)  # the adapter for the id type is built here, once
    built = []
    real = pydantic.type_adapter.TypeAdapter.__init__

    def counting(self, *args, **kwargs):
        built.append(args)
        real(self, *args, **kwargs)

    monkeypatch.setattr(pydantic.type_adapter.TypeAdapter, "__init__", counting)
    for n in range(5):
        await User(email=f"ids{n}@example.com", name="Ids", password_hash="x").insert()
        assert (await User.get(user.id)).email == "ids@example.com"
        assert await User.get(str(user.id)) is not None  # a string id is still converted
    assert built == []


# -- db.insert: Beanie's row, written with the driver -------------------------------------------


def _full_order() -> Order:
    """An order with every nested kind of field set (items, address, refunds, disputes...)."""
    now = utcnow()
    return Order(
        number="SO-TEST-1",
        user_id=PydanticObjectId(),
        email="a@x.test",
        items=[
            OrderItem(
                product_id=PydanticObjectId(),
                variant_id="v1",
                sku="SKU-1",
                options={"size": "M"},
                name="Shirt",
                slug="shirt",
                unit_price=1999,
                quantity=2,
                line_total=3998,
            )
        ],
        subtotal=3998,
        total=3998,
        currency="EUR",
        shipping_address=ShippingAddress(
            name="A", line1="1 Road", city="Town", postal_code="1000", country="BE"
        ),
        payment=Payment(
            provider="dev",
            intent_id="pi_1",
            refunds=[Refund(amount=100, reason="late")],
            disputes=[
                PaymentDispute(
                    id="dp_1",
                    amount=5,
                    currency="EUR",
                    status="won",
                    created_at=now,
                    updated_at=now,
                )
            ],
        ),
        history=[HistoryEntry(status="pending_payment", actor="customer")],
        idempotency_key="k",
        hold_keys=["h1"],
    )


def _full_movement() -> StockMovement:
    return StockMovement(
        product_id=PydanticObjectId(),
        variant_id="v",
        sku="S",
        delta=-1,
        stock_after=4,
        reason="sale",
        actor=None,
        order_id=PydanticObjectId(),
    )


@pytest.mark.parametrize("make", [_full_order, _full_movement])
async def test_insert_writes_the_row_beanie_writes(app, make):
    ours = make()
    beanies = ours.model_copy(deep=True)
    assert db.plain_insert_row(ours) == get_dict(beanies, to_db=True, keep_nulls=True)
    collection = type(ours).get_pymongo_collection()
    await db.insert(ours)
    assert isinstance(ours.id, PydanticObjectId)
    stored = await collection.find_one({"_id": ours.id})
    await collection.delete_one({"_id": ours.id})  # the order's unique keys, free again
    await beanies.insert()
    theirs = await collection.find_one({"_id": beanies.id})
    assert stored is not None and theirs is not None
    assert list(stored) == list(theirs)  # the same fields, in the same order
    assert {k: v for k, v in stored.items() if k != "_id"} == {
        k: v for k, v in theirs.items() if k != "_id"
    }
    assert type(ours).model_validate(stored) == ours


async def test_insert_leaves_to_beanie_what_it_cannot_write_plainly(app, monkeypatch):
    movement = _full_movement()
    assert db.plain_insert_row(movement) is not None
    monkeypatch.setattr(StockMovement.get_settings(), "use_revision", True)
    assert db.plain_insert_row(movement) is None
    await db.insert(movement)  # Beanie's own insert: a revision id set
    assert movement.revision_id is not None
    assert await StockMovement.find_one(StockMovement.id == movement.id) is not None


async def test_find_one_answers_as_beanie_does(app):
    order = await db.insert(_full_order())
    user_id = PydanticObjectId()
    cart = Cart(user_id=user_id, lines=[CartLine(product_id=PydanticObjectId(), quantity=2)])
    await cart.insert()
    guest = GuestCart(token_hash="h" * 64, lines=[], version=1)
    await guest.insert()
    for model, query in [
        (Order, {"_id": order.id, "user_id": order.user_id}),
        (Cart, {"user_id": user_id}),
        (GuestCart, {"token_hash": "h" * 64}),
    ]:
        ours = await db.find_one(model, query)
        assert ours is not None and ours == await model.find_one(query)
        assert type(ours) is model
    assert await db.find_one(Order, {"_id": PydanticObjectId()}) is None
    assert await db.find_one(Cart, {"user_id": PydanticObjectId()}) is None


async def test_find_all_answers_as_beanie_does(app, make_category, make_product):
    category = await make_category("Shirts")
    made = [await make_product(f"Shirt {n}", category, stock=n) for n in range(3)]
    query = {"_id": {"$in": [product.id for product in made[:2]]}}
    ours = await db.find_all(Product, query)
    assert ours == await Product.find(query).to_list()
    assert {product.id for product in ours} == {made[0].id, made[1].id}
    assert all(type(product) is Product for product in ours)
    assert await db.find_all(Product, {"_id": {"$in": [PydanticObjectId()]}}) == []
