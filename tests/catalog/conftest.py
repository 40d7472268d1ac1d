"""A small, fully known catalog for the listing and product tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

# name, category, brand, color, size, price, stock, rating average (unique prices, names,
# ratings and creation times, so every sort has exactly one right answer)
ROWS = [
    ("Red Flannel Shirt", "flannel", "Lumber Co", "red", "M", 3000, 10, 4.5),
    ("Blue Oxford Shirt", "shirts", "Oxford Mills", "blue", "L", 4500, 3, 4.0),
    ("White Linen Shirt", "shirts", "Oxford Mills", "white", "M", 5200, 0, 3.5),
    ("Black Jeans", "pants", "Denim Works", "black", "L", 6000, 25, 4.8),
    ("Khaki Chinos", "pants", "Denim Works", "beige", "M", 2500, 5, 2.9),
    ("Trail Runner", "shoes", "Stride", "blue", "42", 9900, 7, 4.2),
    ("Court Sneaker", "shoes", "Stride", "white", "42", 7500, 0, 3.9),
]
ARCHIVED = ("Old Red Shirt", "shirts", "Lumber Co", "red", "M", 1000, 10, 5.0)


@dataclass
class Shop:
    categories: dict  # slug -> Category
    products: dict  # slug -> Product (active ones, in creation order)
    archived: object


@pytest.fixture
async def shop(make_category, make_product) -> Shop:
    clothing = await make_category("Clothing")
    shirts = await make_category("Shirts", parent=clothing)
    categories = {
        "clothing": clothing,
        "shirts": shirts,
        "flannel": await make_category("Flannel", parent=shirts),
        "pants": await make_category("Pants", parent=clothing),
        "shoes": await make_category("Shoes"),
    }

    async def add(row, **extra):
        name, category, brand, color, size, price, stock, rating = row
        return await make_product(
            name,
            categories[category],
            brand=brand,
            attributes={"color": color, "size": size},
            price=price,
            stock=stock,
            rating={"average": rating, "count": 10},
            **extra,
        )

    products = {}
    for row in ROWS:
        product = await add(row)
        products[product.slug] = product
    archived = await add(ARCHIVED, status="archived")
    return Shop(categories=categories, products=products, archived=archived)
