"""Option filters (`?size=&color=`: one variant with both values) and facets
(`?facets=true`), on the embedded engine and over the wire (the same expectations: both
engines give the same answer)."""

from __future__ import annotations

import pytest

from app.catalog import facets as facet_module
from app.catalog.models import Product
from app.inventory import stock as inventory

URL = "/api/v1/products"


def tee_variants():
    return [
        {"sku": "TEE-M-BLUE", "options": {"size": "M", "color": "blue"}, "stock": 0},
        {"sku": "TEE-M-RED", "options": {"size": "M", "color": "red"}, "stock": 3},
        {"sku": "TEE-L-BLUE", "options": {"size": "L", "color": "blue"}, "stock": 2, "price": 2400},
    ]


@pytest.fixture
async def store(shop, make_product):
    """The listing tests' shop (products without options, their color and size attributes)
    plus a tee and a runner sold in sizes and colours."""
    tee = await make_product(
        "Cotton Tee",
        shop.categories["shirts"],
        brand="Oxford Mills",
        price=2000,
        stock=None,
        options=[
            {"name": "size", "values": ["S", "M", "L"]},
            {"name": "color", "values": ["blue", "red"]},
        ],
        variants=tee_variants(),
    )
    runner = await make_product(
        "Road Runner",
        shop.categories["shoes"],
        brand="Stride",
        price=8000,
        stock=None,
        options=[{"name": "size", "values": ["42", "43"]}, {"name": "color", "values": ["red"]}],
        variants=[
            {"sku": "RUN-42", "options": {"size": "42", "color": "red"}, "stock": 6},
            {"sku": "RUN-43", "options": {"size": "43", "color": "red"}, "stock": 0},
        ],
    )
    shop.products[tee.slug] = tee
    shop.products[runner.slug] = runner
    return shop


async def listed(client, **params) -> dict:
    response = await client.get(URL, query_string={"per_page": 100, **params})
    assert response.status_code == 200, await response.get_json()
    return await response.get_json()


async def slugs(client, **params) -> set[str]:
    return {item["slug"] for item in (await listed(client, **params))["items"]}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"size": "M"}, {"red-flannel-shirt", "white-linen-shirt", "khaki-chinos", "cotton-tee"}),
        ({"size": "m", "color": "BLUE"}, {"cotton-tee"}),
        # The tee's M/blue is sold out: in stock, it needs a variant that is both.
        ({"size": "M", "color": "blue", "in_stock": "true"}, set()),
        ({"size": "M", "in_stock": "true"}, {"red-flannel-shirt", "khaki-chinos", "cotton-tee"}),
        # M in red and L in blue, but no L in red: the same variant has both values or none.
        ({"size": "L", "color": "red"}, set()),
        ({"size": "L", "color": "blue"}, {"blue-oxford-shirt", "cotton-tee"}),
        ({"color": "red", "in_stock": "true"}, {"red-flannel-shirt", "cotton-tee", "road-runner"}),
        ({"size": "43", "in_stock": "true"}, set()),
    ],
)
async def test_option_filters_match_one_variant(client, store, params, expected):
    assert await slugs(client, **params) == expected


async def test_a_variant_selling_out_moves_it_out_of_the_in_stock_filter(client, store):
    tee = store.products["cotton-tee"]
    assert "cotton-tee" in await slugs(client, size="L", color="blue", in_stock="true")
    l_blue = next(v for v in tee.variants if v.sku == "TEE-L-BLUE")
    await inventory.take_stock(product_id=tee.id, variant_id=l_blue.id, quantity=2)
    assert "cotton-tee" not in await slugs(client, size="L", color="blue", in_stock="true")


async def test_list_items_show_the_best_variant_status_and_lowest_price(client, store):
    items = {i["slug"]: i for i in (await listed(client))["items"]}
    assert (items["cotton-tee"]["price"], items["cotton-tee"]["stock_status"]) == (
        2000,
        "low_stock",
    )
    assert (items["road-runner"]["price"], items["road-runner"]["stock_status"]) == (
        8000,
        "in_stock",
    )


def counts(entries) -> dict[str, int]:
    return {entry["value"]: entry["count"] for entry in entries}


async def test_facets_over_the_whole_catalog(client, store):
    body = await listed(client, facets="true", per_page=2)
    assert len(body["items"]) == 2 and body["total"] == 9
    facets = body["facets"]
    assert counts(facets["brand"]) == {
        "Oxford Mills": 3,
        "Denim Works": 2,
        "Stride": 3,
        "Lumber Co": 1,
    }
    assert facets["brand"][0]["count"] == 3  # most first
    assert counts(facets["color"]) == {"blue": 3, "red": 3, "white": 2, "black": 1, "beige": 1}
    assert counts(facets["size"]) == {"M": 4, "L": 3, "42": 3, "43": 1}
    assert counts(facets["category"]) == {"shirts": 3, "flannel": 1, "pants": 2, "shoes": 3}
    assert facets["price"] == {"min": 2000, "max": 9900}
    assert (await listed(client))["facets"] is None  # only when asked for


async def test_each_facet_ignores_its_own_filter(client, store):
    facets = (await listed(client, facets="true", color="blue", size="M"))["facets"]
    # Colours of what is size M (the tee counts once per colour it has in M).
    assert counts(facets["color"]) == {"red": 2, "white": 1, "beige": 1, "blue": 1}
    # Sizes of what is blue: the oxford (L), the trail runner (42), the tee (M and L).
    assert counts(facets["size"]) == {"L": 2, "42": 1, "M": 1}
    # Every other facet counts the result itself: the tee alone.
    assert counts(facets["brand"]) == {"Oxford Mills": 1}
    assert counts(facets["category"]) == {"shirts": 1}
    assert facets["price"] == {"min": 2000, "max": 2000}

    in_stock = (await listed(client, facets="true", size="M", in_stock="true"))["facets"]
    assert counts(in_stock["color"]) == {"red": 2, "beige": 1}  # the tee's M/blue is sold out
    assert counts(in_stock["size"]) == {"M": 3, "L": 3, "42": 2}

    priced = (await listed(client, facets="true", max_price=3000, category="clothing"))["facets"]
    assert priced["price"] == {"min": 2000, "max": 6000}  # its own filter left out
    assert counts(priced["category"]) == {"flannel": 1, "pants": 1, "shirts": 1}
    assert counts(priced["brand"]) == {"Lumber Co": 1, "Denim Works": 1, "Oxford Mills": 1}

    none = (await listed(client, facets="true", category="no-such-category"))["facets"]
    assert none == {
        "brand": [],
        "color": [],
        "size": [],
        "category": [],
        "price": {"min": None, "max": None},
    }


async def test_cached_facets_cost_no_aggregation_whatever_the_catalog_size(
    client, store, make_product, monkeypatch
):
    """Facet counting reads every matching product, so its answers are cached per filter set
    and catalog version: a cached answer runs no aggregation (no document examined), for a
    page of any number, any sort, at any catalog size; a change the facets can show recomputes."""
    collection = Product.get_pymongo_collection()
    runs = []
    original = collection.aggregate

    async def spy(pipeline, *args, **kwargs):
        runs.append(pipeline)
        return await original(pipeline, *args, **kwargs)

    monkeypatch.setattr(collection, "aggregate", spy)
    for size in (1, 2):
        for n in range(40 * size):
            await make_product(
                f"Filler {size} {n}", store.categories["pants"], brand="Bulk", price=5000 + n
            )
        await listed(client, facets="true", color="red")  # the new version: counted once
        assert len(runs) == size
        for params in (
            {"page": 2},
            {"sort": "price"},
            {"per_page": 5, "sort": "-price"},
            {"color": "RED"},
        ):
            body = await listed(client, **{"facets": "true", "color": "red", **params})
            assert body["facets"]["color"]
        assert len(runs) == size, "a cached facet answer ran an aggregation"

    # A variant selling out changes what `in_stock` facets show: counted again, once.
    await listed(client, facets="true", in_stock="true")
    before = len(runs)
    tee = store.products["cotton-tee"]
    m_red = next(v for v in tee.variants if v.sku == "TEE-M-RED")
    await inventory.take_stock(product_id=tee.id, variant_id=m_red.id, quantity=3)
    facets = (await listed(client, facets="true", in_stock="true", page=3))["facets"]
    assert len(runs) == before + 1
    assert "M" not in counts(facets["size"]) or counts(facets["size"])["M"] == 2
    assert facet_module.CACHED_ANSWERS >= 100
