"""GET /api/v1/products/{id or slug} and GET /api/v1/categories."""

from __future__ import annotations

import pytest

URL = "/api/v1/products"


@pytest.mark.parametrize("by", ["id", "slug"])
async def test_product_page_by_id_or_slug(client, shop, by):
    product = shop.products["blue-oxford-shirt"]
    response = await client.get(f"{URL}/{getattr(product, by)}")
    assert response.status_code == 200
    body = await response.get_json()
    assert "_id" not in body and body["id"] == str(product.id)
    assert body["slug"] == "blue-oxford-shirt"
    assert body["description"] == "Blue Oxford Shirt, a fine product."
    assert body["attributes"] == {"color": "blue", "size": "L"}
    assert (body["stock"], body["low_stock_threshold"], body["stock_status"]) == (
        3,
        5,
        "low_stock",
    )
    assert body["category"] == {
        "id": str(shop.categories["shirts"].id),
        "slug": "shirts",
        "name": "Shirts",
    }
    assert (body["price"], body["currency"], body["status"]) == (4500, "usd", "active")
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert "facets" not in body and "revision_id" not in body and "category_path" not in body


@pytest.mark.parametrize(
    "reference",
    ["no-such-product", "0123456789abcdef01234567", "not an id", "ZZZ"],
)
async def test_unknown_product_is_404(client, shop, reference):
    response = await client.get(f"{URL}/{reference}")
    assert response.status_code == 404
    assert (await response.get_json())["code"] == "not_found"


@pytest.mark.parametrize("by", ["id", "slug"])
async def test_archived_product_is_404(client, shop, by):
    response = await client.get(f"{URL}/{getattr(shop.archived, by)}")
    assert response.status_code == 404


async def test_category_tree(client, shop):
    response = await client.get("/api/v1/categories")
    assert response.status_code == 200
    tree = await response.get_json()

    def shape(nodes):
        return [(n["slug"], shape(n["children"])) for n in nodes]

    assert shape(tree) == [
        ("clothing", [("pants", []), ("shirts", [("flannel", [])])]),
        ("shoes", []),
    ]
    assert tree[0]["id"] == str(shop.categories["clothing"].id)
    assert tree[0]["name"] == "Clothing" and "_id" not in tree[0]


async def test_empty_category_tree(client):
    response = await client.get("/api/v1/categories")
    assert response.status_code == 200
    assert await response.get_json() == []
