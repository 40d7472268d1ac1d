"""The demo shop: its shape, idempotent seeding, start-up seeding, search on it."""

from __future__ import annotations

import pytest

from app import create_app
from app.catalog.demo import CATEGORIES, PRODUCTS, VARIANT_PRODUCTS
from app.catalog.models import Category, Product
from app.catalog.slugs import slugify
from app.inventory.demo import seed_demo_catalog
from tests.support.settings import make_settings

URL = "/api/v1/products"


@pytest.fixture
async def demo(app):
    return await seed_demo_catalog()


async def test_seed_creates_a_realistic_shop(demo):
    products = await Product.find_all().to_list()
    categories = await Category.find_all().to_list()
    roots = [c for c in categories if c.parent_id is None]
    assert demo == {"categories": len(categories), "products": len(products)}
    assert len(products) >= 40 and len(products) == len(PRODUCTS) + len(VARIANT_PRODUCTS)
    assert len(roots) >= 6
    for root in roots:  # every top category has sub-categories, and products below it
        assert any(c.parent_id == root.id for c in categories), root.slug
        assert any(root.id in p.category_path for p in products), root.slug
    assert len({p.brand for p in products}) >= 5
    plain = [p for p in products if not p.options]
    assert len({p.attributes["color"] for p in plain}) >= 5
    assert len({p.attributes["size"] for p in plain}) >= 5
    assert {p.stock_status for p in products} == {"in_stock", "low_stock", "out_of_stock"}
    assert sum(p.stock_status == "out_of_stock" for p in products) >= 3
    assert sum(p.stock_status == "low_stock" for p in products) >= 3
    # Pictures the app draws and serves itself (tests/web/test_demo_images.py), at its address.
    assert all(p.images and p.images[0].url.startswith("http://127.0.0.1:8000/media/demo/")
               for p in products)  # fmt: skip
    assert all(p.price > 0 and p.currency == "usd" and p.status == "active" for p in products)
    assert len({p.slug for p in products}) == len(products)


async def test_the_demo_sells_shoes_and_shirts_in_sizes_and_colours(demo):
    sized = await Product.find({"options.name": "size"}).to_list()
    assert {p.slug for p in sized} == {"classic-oxford-shirt", "tempo-road-runner"}
    for product in sized:
        assert [o.name for o in product.options] == ["size", "color"]
        stocks = [v.stock for v in product.variants]
        assert len(set(stocks)) > 2 and 0 in stocks, product.slug  # different, some sold out
        assert product.stock == sum(stocks) and product.stock_status == "in_stock"
        assert len({v.sku for v in product.variants}) == len(product.variants)


async def test_every_demo_product_opens_its_ledger_with_its_stock(demo):
    from app.inventory.models import StockMovement

    for product in await Product.find_all().to_list():
        rows = await StockMovement.find({"product_id": product.id}).to_list()
        assert sum(row.delta for row in rows) == product.stock, product.slug
        assert all(row.reason == "initial" for row in rows)


async def test_seeding_twice_creates_nothing_new(demo):
    before = (await Product.count(), await Category.count())
    assert await seed_demo_catalog() == {"categories": 0, "products": 0}
    assert (await Product.count(), await Category.count()) == before


async def test_seeding_keys_by_slug_and_keeps_admin_edits(demo):
    product = await Product.find_one({"slug": "cast-iron-skillet"})
    await product.set({"price": 1})
    await Product.find_one({"slug": "chelsea-boot"}).delete()
    assert await seed_demo_catalog() == {"categories": 0, "products": 1}
    assert (await Product.find_one({"slug": "cast-iron-skillet"})).price == 1
    assert await Product.find_one({"slug": "chelsea-boot"}) is not None


async def test_startup_seeds_when_enabled():
    # Its own app: the `app` fixture empties the database after start-up.
    app = create_app(make_settings(SEED_DEMO_CATALOG=True))
    async with app.test_app():
        async with app.app_context():
            client = app.test_client()
            demo_slugs = [slugify(row[1]) for row in PRODUCTS]
            assert await Product.find({"slug": {"$in": demo_slugs}}).count() == len(PRODUCTS)
            body = await (await client.get(URL, query_string={"q": "headphones"})).get_json()
            assert body["total"] == 2
            tree = await (await client.get("/api/v1/categories")).get_json()
            assert {node["slug"] for node in tree} >= {row[0] for row in CATEGORIES}
            await Product.get_pymongo_collection().delete_many({})
            await Category.get_pymongo_collection().delete_many({})


# Expected results of `$text` on a server, which the embedded engine's fallback must match;
# this runs on whichever engine the suite runs on.
@pytest.mark.parametrize(
    "q, expected",
    [
        ("shoes", {"daily-trainer-shoe", "road-racer-shoe", "trail-running-shoe",
                   "tempo-road-runner"}),
        ("Leather", {"leather-court-sneaker", "leather-phone-case", "minimalist-quartz-watch",
                     "slim-leather-wallet", "waterproof-hiking-boot"}),
        ("waterproof", {"portable-bluetooth-speaker", "rain-shell-jacket",
                        "waterproof-hiking-boot"}),
        ("headphones", {"studio-monitor-headphones", "wireless-noise-cancelling-headphones"}),
        ("hiking", {"hiking-daypack-30l", "trail-hiking-pants", "waterproof-hiking-boot"}),
        ("running", {"gps-sport-watch", "performance-running-top", "running-shorts",
                     "trail-running-shoe"}),
        ("coffee", {"burr-coffee-grinder", "electric-gooseneck-kettle", "pour-over-coffee-set"}),
        ("wireless charger", {"fast-wireless-charger", "true-wireless-earbuds",
                              "wireless-noise-cancelling-headphones"}),
        ("batteries", {"fitness-tracker-band", "wireless-noise-cancelling-headphones"}),
        ("tents", {"ultralight-tent-2p"}),
        ("the", set()),
    ],
)  # fmt: skip
async def test_search_on_the_demo_shop(client, demo, q, expected):
    response = await client.get(URL, query_string={"q": q, "per_page": 100})
    assert {item["slug"] for item in (await response.get_json())["items"]} == expected


async def test_demo_search_ranks_name_matches_first(client, demo):
    response = await client.get(URL, query_string={"q": "leather"})
    names = [item["name"] for item in (await response.get_json())["items"]]
    assert len(names) == 5
    assert all("Leather" in name for name in names[:3])  # the other two say it in the text
