"""The demo shop's data: a small, realistic catalog for `quart seed` and the embedded engine.

Seeded by app/inventory/demo.py (each product with its opening stock in the stock ledger).
"""

from __future__ import annotations

from datetime import timedelta

from pymongo.errors import DuplicateKeyError
from quart import current_app

from app.catalog.models import Category, Product
from app.catalog.products import build_product
from app.catalog.slugs import slugify
from app.core.clock import utcnow

# The demo data reads best as a table: one row per line.
# fmt: off
# (slug, name, description, [(slug, name), ...sub-categories])
CATEGORIES = [
    ("apparel", "Apparel", "Clothing for every day and the outdoors", [
        ("tops", "Tops"), ("bottoms", "Bottoms"), ("outerwear", "Outerwear"),
    ]),
    ("footwear", "Footwear", "Shoes and boots", [
        ("running-shoes", "Running Shoes"), ("sneakers", "Sneakers"), ("boots", "Boots"),
    ]),
    ("electronics", "Electronics", "Sound, screens and gadgets", [
        ("audio", "Audio"), ("phone-accessories", "Phone Accessories"), ("wearables", "Wearables"),
    ]),
    ("home-kitchen", "Home & Kitchen", "Cook, brew and live well", [
        ("cookware", "Cookware"), ("coffee-tea", "Coffee & Tea"), ("decor", "Decor"),
    ]),
    ("outdoors", "Sports & Outdoors", "Camping, cycling and fitness gear", [
        ("camping", "Camping"), ("cycling", "Cycling"), ("fitness", "Fitness"),
    ]),
    ("bags", "Bags & Accessories", "Carry it all", [
        ("backpacks", "Backpacks"), ("wallets", "Wallets"), ("watches", "Watches"),
    ]),
]

# (category, name, brand, price in cents, stock, color, size, rating average, rating count,
#  description). Stock 0 is out of stock; 1-5 is at or under the default threshold (low).
PRODUCTS = [
    ("tops", "Merino Crew T-Shirt", "Northpeak", 4500, 42, "navy", "M", 4.6, 128,
     "Soft merino wool tee that stays fresh on long days and regulates temperature."),
    ("tops", "Organic Cotton Tee", "Urban Thread", 2200, 120, "white", "L", 4.2, 310,
     "Everyday crew neck in organic cotton with a relaxed fit."),
    ("tops", "Flannel Overshirt", "Urban Thread", 5900, 3, "red", "XL", 4.4, 57,
     "Brushed flannel overshirt in a classic check, warm enough for autumn."),
    ("tops", "Performance Running Top", "Stride", 3500, 0, "green", "S", 4.1, 44,
     "Lightweight breathable top with reflective details for evening runs."),
    ("bottoms", "Slim Chino Trousers", "Urban Thread", 6900, 35, "beige", "M", 4.3, 88,
     "Stretch cotton chinos with a tapered leg and a clean finish."),
    ("bottoms", "Trail Hiking Pants", "Northpeak", 8900, 18, "grey", "L", 4.7, 203,
     "Durable water-repellent hiking pants with zip pockets and articulated knees."),
    ("bottoms", "Running Shorts", "Stride", 2900, 4, "black", "M", 4.0, 61,
     "Quick-dry shorts with a built-in liner and a key pocket."),
    ("outerwear", "Down Puffer Jacket", "Northpeak", 18900, 12, "black", "M", 4.8, 412,
     "Packable 700-fill down jacket, warm and light for winter travel."),
    ("outerwear", "Rain Shell Jacket", "Northpeak", 12900, 0, "blue", "L", 4.5, 97,
     "Waterproof breathable shell with taped seams and an adjustable hood."),
    ("outerwear", "Fleece Zip Hoodie", "Urban Thread", 5400, 25, "grey", "S", 4.2, 140,
     "Cosy recycled fleece hoodie with a full zip."),
    ("running-shoes", "Trail Running Shoe", "Stride", 12900, 22, "blue", "42", 4.6, 530,
     "Grippy trail shoe with a rock plate and a cushioned midsole for rough terrain."),
    ("running-shoes", "Road Racer Shoe", "Stride", 14900, 5, "red", "43", 4.4, 210,
     "Light and fast road shoe with a carbon plate for race day."),
    ("running-shoes", "Daily Trainer Shoe", "Swiftfoot", 9900, 60, "black", "44", 4.3, 388,
     "Comfortable daily trainer with a durable outsole for easy miles."),
    ("sneakers", "Classic Canvas Sneaker", "Urban Thread", 5500, 75, "white", "41", 4.1, 260,
     "Timeless low-top canvas sneaker with a vulcanised sole."),
    ("sneakers", "Leather Court Sneaker", "Swiftfoot", 8900, 2, "white", "42", 4.5, 150,
     "Minimal leather sneaker that goes with everything."),
    ("boots", "Waterproof Hiking Boot", "Northpeak", 16900, 14, "brown", "43", 4.7, 301,
     "Leather hiking boot with a waterproof membrane and ankle support."),
    ("boots", "Chelsea Boot", "Urban Thread", 13900, 0, "black", "42", 4.2, 76,
     "Suede Chelsea boot with elastic sides and a stacked heel."),
    ("audio", "Wireless Noise-Cancelling Headphones", "Voltix", 24900, 30, "black", "One Size",
     4.6, 980,
     "Over-ear headphones with adaptive noise cancelling and 30-hour battery."),
    ("audio", "True Wireless Earbuds", "Voltix", 12900, 48, "white", "One Size", 4.3, 655,
     "Compact earbuds with a charging case and water resistance."),
    ("audio", "Portable Bluetooth Speaker", "Soundwave", 7900, 5, "blue", "One Size", 4.4, 322,
     "Rugged waterproof speaker with deep bass for trips and the beach."),
    ("audio", "Studio Monitor Headphones", "Soundwave", 15900, 0, "black", "One Size", 4.7, 189,
     "Closed-back headphones with a flat response for mixing and recording."),
    ("phone-accessories", "Fast Wireless Charger", "Voltix", 3900, 90, "black", "One Size",
     4.0, 210,
     "15 W charging pad with a non-slip surface."),
    ("phone-accessories", "Braided USB-C Cable", "Voltix", 1500, 250, "grey", "One Size", 4.5, 845,
     "Two-metre braided cable rated for fast charging."),
    ("phone-accessories", "Leather Phone Case", "Hearth & Co.", 3500, 1, "brown", "One Size",
     4.2, 98,
     "Full-grain leather case that ages beautifully."),
    ("wearables", "Fitness Tracker Band", "Voltix", 7900, 33, "black", "One Size", 3.9, 402,
     "Tracks steps, heart rate and sleep with a week of battery life."),
    ("wearables", "GPS Sport Watch", "Stride", 29900, 9, "green", "One Size", 4.6, 277,
     "Multisport GPS watch with maps, training load and a running power meter."),
    ("cookware", "Cast Iron Skillet", "Hearth & Co.", 4900, 40, "black", "26 cm", 4.8, 720,
     "Pre-seasoned cast iron skillet that goes from hob to oven."),
    ("cookware", "Non-Stick Frying Pan", "Hearth & Co.", 3900, 0, "grey", "28 cm", 4.1, 233,
     "Ceramic non-stick pan, PFAS-free, for easy eggs and pancakes."),
    ("cookware", "Stainless Stock Pot", "Chef Line", 7900, 15, "silver", "8 L", 4.5, 66,
     "Tri-ply stainless steel stock pot with a glass lid."),
    ("coffee-tea", "Pour-Over Coffee Set", "Brewhouse", 4500, 27, "white", "One Size", 4.6, 190,
     "Ceramic dripper, glass carafe and filters for clean, bright coffee."),
    ("coffee-tea", "Burr Coffee Grinder", "Brewhouse", 11900, 4, "black", "One Size", 4.5, 143,
     "Conical burr grinder with 40 settings from espresso to French press."),
    ("coffee-tea", "Loose Leaf Tea Sampler", "Leaf & Kettle", 2400, 80, "green", "One Size",
     4.3, 58,
     "Twelve single-origin loose leaf teas with tasting notes."),
    ("coffee-tea", "Electric Gooseneck Kettle", "Brewhouse", 8900, 0, "black", "1 L", 4.7, 301,
     "Temperature-controlled kettle with a precise pour for coffee and tea."),
    ("decor", "Linen Throw Pillow", "Hearth & Co.", 3200, 55, "beige", "50 cm", 4.0, 47,
     "Stonewashed linen cover with a feather insert."),
    ("decor", "Ceramic Table Lamp", "Hearth & Co.", 8900, 6, "white", "One Size", 4.4, 39,
     "Hand-glazed ceramic lamp with a linen shade and warm light."),
    ("camping", "Ultralight Tent 2P", "Northpeak", 34900, 7, "green", "2 Person", 4.7, 156,
     "Two-person freestanding tent under 1.5 kg for backpacking trips."),
    ("camping", "Down Sleeping Bag", "Northpeak", 27900, 3, "red", "Regular", 4.6, 118,
     "Comfort-rated to -5 °C, packs down to the size of a loaf of bread."),
    ("camping", "Camping Headlamp", "Trailwise", 2900, 140, "black", "One Size", 4.4, 511,
     "Rechargeable 400-lumen headlamp with a red night mode."),
    ("camping", "Insulated Water Bottle", "Trailwise", 2500, 0, "blue", "750 ml", 4.5, 890,
     "Keeps drinks cold for 24 hours or hot for 12."),
    ("cycling", "Road Bike Helmet", "Velo Pro", 11900, 19, "white", "M", 4.5, 134,
     "Aerodynamic helmet with MIPS protection and ventilation channels."),
    ("cycling", "Cycling Jersey", "Velo Pro", 6900, 4, "red", "L", 4.2, 73,
     "Race-fit jersey with three back pockets and a full zip."),
    ("cycling", "Bike Light Set", "Trailwise", 4500, 65, "black", "One Size", 4.3, 205,
     "USB-rechargeable front and rear lights, visible from 500 m."),
    ("fitness", "Cork Yoga Mat", "Zenflow", 6900, 28, "beige", "One Size", 4.6, 244,
     "Natural cork mat with a grippy surface that improves with sweat."),
    ("fitness", "Adjustable Dumbbells", "Ironcore", 29900, 0, "black", "24 kg", 4.7, 366,
     "A pair of dumbbells that adjust from 2 to 24 kg in seconds."),
    ("fitness", "Resistance Band Set", "Zenflow", 2900, 5, "green", "One Size", 4.1, 412,
     "Five latex-free bands from light to extra heavy with a door anchor."),
    ("backpacks", "Commuter Backpack 20L", "Urban Thread", 8900, 38, "grey", "20 L", 4.5, 287,
     "Weatherproof commuter pack with a padded laptop sleeve."),
    ("backpacks", "Hiking Daypack 30L", "Northpeak", 10900, 2, "blue", "30 L", 4.6, 164,
     "Ventilated back panel, hip belt and rain cover for full-day hikes."),
    ("wallets", "Slim Leather Wallet", "Hearth & Co.", 4900, 70, "brown", "One Size", 4.4, 221,
     "Six-card leather wallet with RFID blocking."),
    ("watches", "Automatic Field Watch", "Timewright", 39900, 6, "green", "40 mm", 4.8, 92,
     "Automatic movement, sapphire crystal and 100 m water resistance."),
    ("watches", "Minimalist Quartz Watch", "Timewright", 14900, 0, "black", "38 mm", 4.3, 135,
     "Clean dial, leather strap and a reliable quartz movement."),
]
# fmt: on


def demo_image_url(base_url: str, slug: str, view: int) -> str:
    """A demo product's picture, drawn and served by this app (app/catalog/demo_art.py).

    Absolute, from the app's public address (PUBLIC_URL, or http://HOST:PORT): the API hands
    out image URLs that any client can load, and the admin form's validator (http(s) on a host
    name) accepts them back unchanged."""
    return f"{base_url.rstrip('/')}/media/demo/{slug}/{view}.svg"


async def _ensure_category(
    slug: str, name: str, description: str | None, parent: Category | None
) -> tuple[Category, bool]:
    existing = await Category.find_one({"slug": slug})
    if existing is not None:
        return existing, False
    category = Category(
        name=name,
        slug=slug,
        description=description,
        parent_id=parent.id if parent else None,
        ancestors=parent.path if parent else [],
    )
    try:
        await category.insert()
    except DuplicateKeyError:  # a concurrent seeder got there first
        found = await Category.find_one({"slug": slug})
        if found is None:
            raise
        return found, False
    return category, True


async def seed_demo_categories() -> tuple[dict[str, Category], int]:
    """Create the demo categories that are missing (keyed by slug, so seeding twice creates
    nothing): every demo category by slug, and how many were created."""
    created = 0
    by_slug: dict[str, Category] = {}
    for slug, name, description, children in CATEGORIES:
        top, new = await _ensure_category(slug, name, description, None)
        by_slug[slug] = top
        created += new
        for child_slug, child_name in children:
            child, new = await _ensure_category(child_slug, child_name, None, top)
            by_slug[child_slug] = child
            created += new
    return by_slug, created


# Products sold in sizes and colours: (category, name, brand, price, rating average, rating
# count, description, options, variants as (size, color, stock, own price or None)). Stock
# differs per variant and some are sold out, so the picker and the facets have something to
# show.
VARIANT_PRODUCTS = [
    (
        "tops",
        "Classic Oxford Shirt",
        "Urban Thread",
        4900,
        4.5,
        96,
        "Button-down oxford in brushed cotton, in sizes S to XL.",
        [("size", ["S", "M", "L", "XL"]), ("color", ["blue", "white"])],
        [
            ("S", "blue", 6, None),
            ("M", "blue", 12, None),
            ("L", "blue", 0, None),
            ("XL", "blue", 2, 5400),
            ("S", "white", 0, None),
            ("M", "white", 9, None),
            ("L", "white", 4, None),
            ("XL", "white", 0, 5400),
        ],
    ),
    (
        "running-shoes",
        "Tempo Road Runner",
        "Kestrel",
        11900,
        4.6,
        240,
        "Responsive road shoe with a breathable mesh upper, in EU sizes 40 to 44.",
        [("size", ["40", "41", "42", "43", "44"]), ("color", ["black", "red"])],
        [
            ("40", "black", 3, None),
            ("41", "black", 0, None),
            ("42", "black", 8, None),
            ("43", "black", 5, None),
            ("44", "black", 1, None),
            ("41", "red", 4, 10900),
            ("42", "red", 0, 10900),
            ("43", "red", 7, 10900),
        ],
    ),
]


def _variant_rows(slug: str, variants: list) -> list[dict]:
    return [
        {
            "sku": f"{slug}-{size}-{color}".upper(),
            "options": {"size": size, "color": color},
            "stock": stock,
            "price": price,
        }
        for size, color, stock, price in variants
    ]


def _images(public_url: str, slug: str, name: str) -> list[dict[str, str]]:
    """A demo product's two pictures: the product, and a detail view."""
    return [
        {"url": demo_image_url(public_url, slug, 1), "alt": name},
        {"url": demo_image_url(public_url, slug, 2), "alt": f"{name}, detail"},
    ]


async def missing_demo_products(categories: dict[str, Category]) -> list[Product]:
    """The demo products not stored yet (keyed by slug: an admin's edits of a seeded one stay),
    built but not inserted, in `categories` (from `seed_demo_categories`)."""
    slugs = [slugify(row[1]) for row in PRODUCTS] + [slugify(row[1]) for row in VARIANT_PRODUCTS]
    existing = {
        row["slug"]
        for row in await Product.get_pymongo_collection()
        .find({"slug": {"$in": slugs}}, {"slug": 1})
        .to_list()
    }
    now = utcnow()
    settings = current_app.config["SETTINGS"]
    missing = []
    for index, (row, slug) in enumerate(zip(PRODUCTS, slugs[: len(PRODUCTS)], strict=True)):
        if slug in existing:
            continue
        category, name, brand, price, stock, color, size, average, count, description = row
        missing.append(
            build_product(
                category=categories[category],
                name=name,
                slug=slug,
                description=description,
                price=price,
                currency=settings.STORE_CURRENCY,
                brand=brand,
                attributes={"color": color, "size": size},
                images=_images(settings.public_url, slug, name),
                stock=stock,
                rating={"average": average, "count": count},
                # Staggered arrivals, newest last in the list, so "newest first" means something.
                created_at=now - timedelta(days=len(PRODUCTS) - index),
                updated_at=now,
            )
        )
    for variant_row, slug in zip(VARIANT_PRODUCTS, slugs[len(PRODUCTS) :], strict=True):
        if slug in existing:
            continue
        category, name, brand, price, average, count, description, options, variants = variant_row
        missing.append(
            build_product(
                category=categories[category],
                name=name,
                slug=slug,
                description=description,
                price=price,
                currency=settings.STORE_CURRENCY,
                brand=brand,
                images=_images(settings.public_url, slug, name),
                options=[{"name": n, "values": values} for n, values in options],
                variants=_variant_rows(slug, variants),
                rating={"average": average, "count": count},
                created_at=now,  # the newest arrivals
                updated_at=now,
            )
        )
    return missing
