"""A synthetic catalog of any size for the benchmark, on top of the demo shop.

Products are spread over the demo categories with realistic names (so `?q=` finds some),
brands, colours, sizes, prices, stock levels (some sold out, some low) and ratings. The
generator is deterministic: the same size gives the same catalog on every run.
"""

from __future__ import annotations

import random
from datetime import timedelta
from uuid import uuid4

from beanie.odm.utils.dump import get_dict

from app.catalog.models import Category, Product
from app.catalog.products import build_product
from app.core.clock import utcnow
from app.core.memory import MemoryCollection

ADJECTIVES = [
    "Waterproof", "Lightweight", "Classic", "Organic", "Recycled", "Insulated", "Compact",
    "Wireless", "Rugged", "Slim", "Merino", "Leather", "Packable", "Breathable", "Vintage",
]  # fmt: skip
NOUNS = {
    "tops": ["Tee", "Shirt", "Polo", "Sweater"],
    "bottoms": ["Chinos", "Shorts", "Pants", "Joggers"],
    "outerwear": ["Jacket", "Parka", "Vest", "Shell"],
    "running-shoes": ["Running Shoe", "Trail Shoe", "Racer"],
    "sneakers": ["Sneaker", "Trainer", "Slip-On"],
    "boots": ["Boot", "Hiking Boot", "Chelsea Boot"],
    "audio": ["Headphones", "Earbuds", "Speaker"],
    "phone-accessories": ["Charger", "Cable", "Phone Case"],
    "wearables": ["Watch", "Fitness Band", "Smart Ring"],
    "cookware": ["Skillet", "Saucepan", "Dutch Oven"],
    "coffee-tea": ["Kettle", "Coffee Grinder", "Teapot"],
    "decor": ["Lamp", "Vase", "Throw Blanket"],
    "camping": ["Tent", "Sleeping Bag", "Lantern"],
    "cycling": ["Bike Light", "Helmet", "Saddle Bag"],
    "fitness": ["Yoga Mat", "Kettlebell", "Jump Rope"],
    "backpacks": ["Backpack", "Daypack", "Duffel"],
    "wallets": ["Wallet", "Card Holder", "Key Case"],
    "watches": ["Field Watch", "Dive Watch", "Chronograph"],
}
BRANDS = ["Northpeak", "Urban Thread", "Stride", "Swiftfoot", "Voltix", "Soundwave", "Hearth & Co."]
COLORS = ["black", "white", "blue", "red", "green", "grey", "brown", "navy", "beige"]
SIZES = ["S", "M", "L", "XL", "One Size", "42", "43"]


# Products built and inserted at a time: building all 10,000 first left the server's heap some
# 80 MB larger than what it holds (219 MB peak RSS, 145 MB in batches), the stored documents
# scattered among the freed models.
SEED_BATCH = 500


async def seed_products(count: int, *, currency: str = "usd") -> int:
    """Add `count` synthetic products under the demo categories (seed those first)."""
    categories = {c.slug: c for c in await Category.find({"slug": {"$in": list(NOUNS)}}).to_list()}
    if len(categories) != len(NOUNS):
        raise RuntimeError("seed the demo catalog first: its categories are missing")
    rng = random.Random(count)  # noqa: S311 (test data, not secrets)
    now = utcnow()
    pending: list[Product] = []
    for index in range(count):
        slug = rng.choice(list(NOUNS))
        name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS[slug])} {index:05d}"
        brand = rng.choice(BRANDS)
        stock = rng.choice([0, 2, 4, 10, 25, 40, 80, 150])
        pending.append(
            build_product(
                category=categories[slug],
                name=name,
                slug=f"bench-{index:05d}",
                description=f"{name} by {brand}: a synthetic product for the benchmark.",
                price=rng.randrange(500, 40_000, 100),
                currency=currency,
                brand=brand,
                attributes={"color": rng.choice(COLORS), "size": rng.choice(SIZES)},
                images=[{"url": f"https://img.example/{index}.jpg", "alt": name}],
                stock=stock,
                rating={"average": round(rng.uniform(2.5, 5.0), 1), "count": rng.randrange(500)},
                created_at=now - timedelta(minutes=count - index),
                updated_at=now,
            )
        )
        if len(pending) == SEED_BATCH:
            await _insert(pending)
            pending = []
    await _insert(pending)
    return count


async def _insert(products: list[Product]) -> None:
    collection = Product.get_pymongo_collection()
    if isinstance(collection, MemoryCollection):
        # One pass instead of mongomock-ng's O(n^2) unique-index checks on insert.
        for product in products:
            product.revision_id = uuid4()  # as Document.insert() does
        await collection.bulk_load([get_dict(product, to_db=True) for product in products])
    else:
        await Product.insert_many(products)
