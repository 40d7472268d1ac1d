"""Reviews fixtures: a product to review, orders inserted directly, a review poster."""

from __future__ import annotations

import itertools

import pytest

from app.catalog.models import Product
from app.orders.models import Order, OrderItem, Payment, ShippingAddress


@pytest.fixture
async def category(make_category):
    return await make_category("Kitchen")


@pytest.fixture
async def product(make_product, category) -> Product:
    return await make_product("Cast Iron Pan", category, price=3900)


@pytest.fixture
async def other_product(make_product, category) -> Product:
    return await make_product("Wooden Spoon", category, price=500)


@pytest.fixture
def make_order(app):
    """`await make_order(user, product, ..., status="delivered")` -> Order, inserted as is (as
    if it had been through checkout and the status changes)."""
    numbers = itertools.count(1)

    async def factory(user, *products: Product, status: str = "delivered") -> Order:
        items = [
            OrderItem(
                product_id=p.id,
                name=p.name,
                slug=p.slug,
                unit_price=p.price,
                quantity=1,
                line_total=p.price,
            )
            for p in products
        ]
        total = sum(item.line_total for item in items)
        order = Order(
            number=f"T-{next(numbers):06d}",
            user_id=user.id,
            email=user.email,
            status=status,
            items=items,
            subtotal=total,
            total=total,
            currency="usd",
            shipping_address=ShippingAddress(
                line1="1 Test Street", city="Testville", postal_code="12345", country="US"
            ),
            payment=Payment(provider="dev", status="succeeded"),
        )
        await order.insert()
        return order

    return factory


@pytest.fixture
def post_review(client):
    """`await post_review(headers, product, rating=4, ...)` -> the response."""

    async def post(headers, product, **body):
        body = {"rating": 4, "title": "Does the job", "body": "Heats evenly.", **body}
        return await client.post(
            f"/api/v1/products/{product.id}/reviews", json=body, headers=headers
        )

    return post


@pytest.fixture
def review_of(post_review):
    """`await review_of(headers, product, rating=5)` -> the created review's body (201 checked)."""

    async def create(headers, product, **body) -> dict:
        response = await post_review(headers, product, **body)
        assert response.status_code == 201, await response.get_data(as_text=True)
        return await response.get_json()

    return create
