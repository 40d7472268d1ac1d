"""GET /api/v1/products: filters, sorts, pagination, item shape, bad query values."""

from __future__ import annotations

import pytest

from app.catalog.models import Category, stock_status
from tests.secantus import LTE_DROPS_BOUND

URL = "/api/v1/products"
LIST_FIELDS = {
    "id",
    "slug",
    "name",
    "price",
    "currency",
    "brand",
    "category",
    "images",
    "rating",
    "stock_status",
}


async def slugs(client, **params) -> list[str]:
    response = await client.get(URL, query_string={"per_page": 100, **params})
    assert response.status_code == 200, await response.get_json()
    return [item["slug"] for item in (await response.get_json())["items"]]


@pytest.mark.parametrize(
    "params, expected",
    [
        ({}, "all"),
        ({"category": "clothing"}, ["red-flannel-shirt", "blue-oxford-shirt",
                                    "white-linen-shirt", "black-jeans", "khaki-chinos"]),
        ({"category": "shirts"}, ["red-flannel-shirt", "blue-oxford-shirt", "white-linen-shirt"]),
        ({"category": "flannel"}, ["red-flannel-shirt"]),
        ({"category": "shoes"}, ["trail-runner", "court-sneaker"]),
        ({"category": "no-such-category"}, []),
        ({"brand": "Stride"}, ["trail-runner", "court-sneaker"]),
        ({"brand": "oxford MILLS"}, ["blue-oxford-shirt", "white-linen-shirt"]),
        ({"brand": "Nobody"}, []),
        ({"color": "red"}, ["red-flannel-shirt"]),
        ({"color": "Blue"}, ["blue-oxford-shirt", "trail-runner"]),
        ({"size": "m"}, ["red-flannel-shirt", "white-linen-shirt", "khaki-chinos"]),
        ({"size": "42"}, ["trail-runner", "court-sneaker"]),
        ({"min_price": 6000}, ["black-jeans", "trail-runner", "court-sneaker"]),
        pytest.param({"max_price": 3000}, ["red-flannel-shirt", "khaki-chinos"],
                     marks=pytest.mark.secantus_bug(LTE_DROPS_BOUND)),
        pytest.param({"min_price": 4500, "max_price": 6000},
                     ["blue-oxford-shirt", "white-linen-shirt", "black-jeans"],
                     marks=pytest.mark.secantus_bug(LTE_DROPS_BOUND)),
        pytest.param({"min_price": 5200, "max_price": 5200}, ["white-linen-shirt"],
                     marks=pytest.mark.secantus_bug(LTE_DROPS_BOUND)),
        ({"in_stock": "true"}, ["red-flannel-shirt", "blue-oxford-shirt", "black-jeans",
                                "khaki-chinos", "trail-runner"]),
        ({"in_stock": "false"}, "all"),  # false is no filter, like an unticked checkbox
        ({"q": "shirt"}, ["red-flannel-shirt", "blue-oxford-shirt", "white-linen-shirt"]),
        ({"brand": ""}, "all"),  # a blank value is no filter
    ],
)  # fmt: skip
async def test_each_filter_alone(client, shop, params, expected):
    expected = list(shop.products) if expected == "all" else expected
    assert sorted(await slugs(client, **params)) == sorted(expected)


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"category": "shirts", "in_stock": "true"}, ["red-flannel-shirt", "blue-oxford-shirt"]),
        ({"category": "clothing", "color": "red"}, ["red-flannel-shirt"]),
        ({"category": "clothing", "size": "M", "in_stock": "true"},
         ["red-flannel-shirt", "khaki-chinos"]),
        ({"brand": "denim works", "max_price": 3000}, ["khaki-chinos"]),
        ({"category": "shoes", "color": "white"}, ["court-sneaker"]),
        ({"category": "shoes", "brand": "Stride", "min_price": 8000}, ["trail-runner"]),
        ({"brand": "Stride", "category": "clothing"}, []),
        ({"color": "blue", "size": "L", "brand": "Oxford Mills"}, ["blue-oxford-shirt"]),
        ({"q": "shirt", "color": "blue"}, ["blue-oxford-shirt"]),
        ({"q": "shirt", "in_stock": "true", "max_price": 4500},
         ["red-flannel-shirt", "blue-oxford-shirt"]),
        ({"q": "shirt", "category": "flannel", "brand": "lumber co", "size": "m",
          "color": "RED", "min_price": 1, "max_price": 9999, "in_stock": "true"},
         ["red-flannel-shirt"]),
    ],
)  # fmt: skip
async def test_filters_combined(client, shop, params, expected):
    assert sorted(await slugs(client, **params)) == sorted(expected)


def _ordered(shop, key, reverse=False) -> list[str]:
    return [p.slug for p in sorted(shop.products.values(), key=key, reverse=reverse)]


@pytest.mark.parametrize(
    "sort, key, reverse",
    [
        ("price", lambda p: p.price, False),
        ("-price", lambda p: p.price, True),
        ("name", lambda p: p.name, False),
        ("-created_at", lambda p: p.created_at, True),
        ("-rating", lambda p: p.rating.average, True),
    ],
)
async def test_each_sort(client, shop, sort, key, reverse):
    expected = _ordered(shop, key, reverse)
    assert await slugs(client, sort=sort) == expected
    # The order holds inside a filter too.
    in_clothing = [
        s for s in expected if shop.products[s].category_path[0] == shop.categories["clothing"].id
    ]
    assert await slugs(client, sort=sort, category="clothing") == in_clothing


async def test_default_sort_is_newest_first(client, shop):
    assert await slugs(client) == await slugs(client, sort="-created_at")
    assert (await slugs(client))[0] == "court-sneaker"  # created last


async def test_equal_sort_keys_paginate_without_gaps_or_repeats(
    client, make_category, make_product
):
    category = await make_category("Mugs")
    for n in range(7):
        await make_product(f"Mug {n}", category, price=500)  # all the same price
    for sort in ("price", "-price"):
        seen = []
        for page in range(1, 5):
            seen += await slugs(client, sort=sort, per_page=2, page=page)
        assert sorted(seen) == sorted(f"mug-{n}" for n in range(7)), sort


@pytest.mark.parametrize(
    "page, per_page, expected_count, pages",
    [
        (1, 3, 3, 3),  # first page
        (3, 3, 1, 3),  # last page, partial
        (4, 3, 0, 3),  # beyond the last page: empty items, same totals
        (50, 3, 0, 3),
        (1, 7, 7, 1),  # exactly one full page
        (1, 100, 7, 1),  # the cap itself is fine
    ],
)
async def test_pagination(client, shop, page, per_page, expected_count, pages):
    response = await client.get(URL, query_string={"page": page, "per_page": per_page})
    assert response.status_code == 200
    body = await response.get_json()
    assert len(body["items"]) == expected_count
    assert (body["page"], body["per_page"], body["total"], body["pages"]) == (
        page,
        per_page,
        7,
        pages,
    )


async def test_pages_cover_the_list_in_order(client, shop):
    whole = await slugs(client, sort="name")
    pieces = []
    for page in (1, 2, 3):
        pieces += await slugs(client, sort="name", per_page=3, page=page)
    assert pieces == whole


async def test_empty_catalog_is_an_empty_page(client):
    response = await client.get(URL)
    assert response.status_code == 200
    body = await response.get_json()
    assert body == {
        "items": [],
        "page": 1,
        "per_page": 20,
        "total": 0,
        "pages": 0,
        "facets": None,
    }


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sort": "price_desc"}, "sort"),
        ({"sort": "created_at"}, "sort"),
        ({"sort": "-name"}, "sort"),
        ({"per_page": 101}, "per_page"),
        ({"per_page": 0}, "per_page"),
        ({"page": 0}, "page"),
        ({"page": "two"}, "page"),
        ({"min_price": -1}, "min_price"),
        ({"min_price": "cheap"}, "min_price"),
        ({"max_price": "9.99"}, "max_price"),
        ({"min_price": 500, "max_price": 100}, "max_price"),
        ({"in_stock": "maybe"}, "in_stock"),
        ({"q": "x" * 201}, "q"),
        ({"brand": "b" * 101}, "brand"),
        # Not a parameter of the list, nor named like an option (`?colour=` is an option
        # filter: tests/catalog/test_option_filters.py).
        ({"Colour": "red"}, "Colour"),
        ({"colour-x": "red"}, "colour-x"),
        ({"material": "m" * 101}, "material"),  # an option filter's value, like `brand`'s
    ],
)
async def test_bad_query_values_are_422(client, params, field):
    response = await client.get(URL, query_string=params)
    assert response.status_code == 422
    body = await response.get_json()
    assert body["code"] == "validation_error"
    assert [field] in [error["loc"] for error in body["errors"]]


async def test_repeated_parameter_is_422(client):
    response = await client.get(f"{URL}?brand=a&brand=b")
    assert response.status_code == 422


async def test_items_carry_only_list_fields(client, shop):
    response = await client.get(URL, query_string={"category": "flannel"})
    (item,) = (await response.get_json())["items"]
    assert set(item) == LIST_FIELDS  # no description, attributes, stock, _id...
    flannel = shop.categories["flannel"]
    assert item["category"] == {"id": str(flannel.id), "slug": "flannel", "name": "Flannel"}
    assert item["id"] == str(shop.products["red-flannel-shirt"].id)
    assert (item["price"], item["currency"], item["brand"]) == (3000, "usd", "Lumber Co")
    assert item["rating"] == {"average": 4.5, "count": 10}
    assert item["stock_status"] == "in_stock"


@pytest.mark.parametrize(
    "slug, status",
    [
        ("red-flannel-shirt", "in_stock"),  # 10 > threshold 5
        ("blue-oxford-shirt", "low_stock"),  # 3
        ("khaki-chinos", "low_stock"),  # 5: at the threshold counts as low
        ("white-linen-shirt", "out_of_stock"),  # 0
    ],
)
async def test_stock_status_in_list(client, shop, slug, status):
    response = await client.get(URL, query_string={"per_page": 100})
    items = {i["slug"]: i for i in (await response.get_json())["items"]}
    assert items[slug]["stock_status"] == status


@pytest.mark.parametrize(
    "stock, threshold, status",
    [(0, 5, "out_of_stock"), (-1, 5, "out_of_stock"), (1, 5, "low_stock"), (5, 5, "low_stock"),
     (6, 5, "in_stock"), (1, 0, "in_stock"), (0, 0, "out_of_stock")],
)  # fmt: skip
def test_stock_status_rule(stock, threshold, status):
    assert stock_status(stock, threshold) == status


async def test_archived_products_are_hidden(client, shop):
    assert shop.archived.slug not in await slugs(client)
    assert shop.archived.slug not in await slugs(client, color="red", category="shirts")
    assert shop.archived.slug not in await slugs(client, q="shirt")


async def test_category_names_resolved_in_one_query(client, shop, monkeypatch):
    collection = Category.get_pymongo_collection()
    calls = []
    original = collection.find

    def counting_find(*args, **kwargs):
        calls.append(args)
        return original(*args, **kwargs)

    monkeypatch.setattr(collection, "find", counting_find)
    response = await client.get(URL)
    body = await response.get_json()
    assert len({item["category"]["slug"] for item in body["items"]}) == 4
    assert len(calls) == 1
