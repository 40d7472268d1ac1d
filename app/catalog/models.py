"""Catalog documents: products and the category tree."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

from beanie import Document, Indexed, PydanticObjectId
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, DESCENDING, TEXT, IndexModel

from app.catalog.stock_fields import (
    DEFAULT_LOW_STOCK_THRESHOLD,
    StockStatus,
    best_stock_status,
    stock_status,
)
from app.core.clock import utcnow
from app.pricing.engine import TaxClass

ProductStatus = Literal["active", "archived"]


class Category(Document):
    if TYPE_CHECKING:
        # For the type checker only: a category the services hold has been inserted, so its id
        # is set (Beanie types `id` Optional for documents not yet saved).
        id: PydanticObjectId

    name: str
    slug: Annotated[str, Indexed(unique=True)]
    description: str | None = None
    parent_id: PydanticObjectId | None = None
    # Ids from the root down to the parent. A sub-tree is then one equality match on an
    # indexed array, and a move rewrites the ancestors of exactly the moved sub-tree.
    ancestors: list[PydanticObjectId] = Field(default_factory=list)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def path(self) -> list[PydanticObjectId]:
        """Root-first ids down to and including this category."""
        return [*self.ancestors, self.id]

    class Settings:
        name = "categories"
        indexes = [
            # Descendants of a category (`{"ancestors": id}`): moving a sub-tree.
            IndexModel([("ancestors", ASCENDING)]),
            # Children of a category: the "still has sub-categories" check on delete.
            IndexModel([("parent_id", ASCENDING), ("name", ASCENDING)]),
        ]


class ProductImage(BaseModel):
    url: str
    alt: str = ""


class Rating(BaseModel):
    """Kept by reviews (`catalog.ratings.set_rating`): the exact mean of the product's review
    ratings, rounded half up to 2 decimals, and their number."""

    average: float = 0.0
    count: int = 0
    # Bumped by every rating write: the guard of its compare-and-set, and inside a transaction
    # a write that always changes the document, so two concurrent recomputes always conflict.
    version: int = 0


class Facets(BaseModel):
    """Case-folded copies of the filterable values, so `?brand=acme` finds "ACME" with an
    exact, indexable match; the display values stay as entered."""

    brand: str | None = None
    color: str | None = None
    size: str | None = None

    @classmethod
    def of(cls, *, brand: str | None, attributes: dict[str, str]) -> Facets:
        def fold(value: str | None) -> str | None:
            return value.casefold() if value else None

        return cls(
            brand=fold(brand),
            color=fold(attributes.get("color")),
            size=fold(attributes.get("size")),
        )


class ProductOption(BaseModel):
    """One way a product varies (`size`, `color`), and its values in display order."""

    name: str
    values: list[str] = Field(default_factory=list)


def option_key(name: str, value: str) -> str:
    """The indexed, case-folded form of one option value: `size:m`. A filter `?size=M` is
    one equality on these keys (multikey index `variant_options`)."""
    return f"{name.casefold()}:{value.casefold()}"


def legacy_sku(product_id: object) -> str:
    """The sku a product stored before variants gets for its one variant (stable)."""
    return f"P-{product_id}"


class Variant(BaseModel):
    """One purchasable thing: a product's option values, its own stock (and its low-stock
    flag and alert claim, as the product had them before variants), optionally its own
    price. Embedded in the product, so a stock movement is one atomic update of one document
    that also re-derives the product's `stock` (app/inventory/stock.py)."""

    id: str
    sku: str
    options: dict[str, str] = Field(default_factory=dict)
    price: int | None = None  # None: the product's own price (`base_price`)
    stock: int = 0
    low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD
    low_stock: bool = False
    low_stock_alerted_at: datetime | None = None
    low_stock_alert_id: PydanticObjectId | None = None
    # option_key() of each option value (and, for a product without options, of its
    # `color`/`size` attributes, so those keep filtering as they did before variants).
    keys: list[str] = Field(default_factory=list)

    @property
    def stock_status(self) -> StockStatus:
        return stock_status(self.stock, self.low_stock_threshold)


def variant_keys(options: dict[str, str], attributes: dict[str, str]) -> list[str]:
    keys = [option_key(name, value) for name, value in options.items()]
    for name in ("color", "size"):
        if name not in options and attributes.get(name):
            keys.append(option_key(name, attributes[name]))
    return keys


# Each list sort, with `_id` as the tie-breaker in the same direction, so pages never overlap
# and one index (traversed forwards or backwards) delivers the order without a blocking sort.
SORTS: dict[str, list[tuple[str, int]]] = {
    "price": [("price", ASCENDING), ("_id", ASCENDING)],
    "-price": [("price", DESCENDING), ("_id", DESCENDING)],
    "name": [("name", ASCENDING), ("_id", ASCENDING)],
    "-created_at": [("created_at", DESCENDING), ("_id", DESCENDING)],
    "-rating": [("rating.average", DESCENDING), ("_id", DESCENDING)],
}
DEFAULT_SORT = "-created_at"

_ACTIVE = ("status", ASCENDING)
_PRICE = [("price", ASCENDING), ("_id", ASCENDING)]  # serves `price` and `-price` (backwards)
_NAME = [("name", ASCENDING), ("_id", ASCENDING)]
_NEWEST = [("created_at", DESCENDING), ("_id", DESCENDING)]
_RATING = [("rating.average", DESCENDING), ("_id", DESCENDING)]


class Product(Document):
    if TYPE_CHECKING:
        # For the type checker only: a product the services hold has been inserted, so its id
        # is set (Beanie types `id` Optional for documents not yet saved).
        id: PydanticObjectId

    name: str
    slug: Annotated[str, Indexed(unique=True)]
    description: str = ""
    # Minor units. With variants: the lowest variant price, derived on every write of them;
    # `base_price` is the product's own price, which variants without a price sell at.
    price: int
    base_price: int | None = None
    currency: str = "usd"
    category_id: PydanticObjectId
    # The category's ancestors plus the category: `?category=<slug>` includes sub-categories
    # by matching one id in this array.
    category_path: list[PydanticObjectId] = Field(default_factory=list)
    brand: str | None = None
    attributes: dict[str, str] = Field(default_factory=dict)
    images: list[ProductImage] = Field(default_factory=list)
    stock: int = 0
    low_stock_threshold: int = DEFAULT_LOW_STOCK_THRESHOLD
    # `stock <= low_stock_threshold`, stored: a comparison of two fields is something no index
    # can serve, a boolean is. app/inventory/stock.py recomputes it in the same
    # atomic update as every stock change, and its False -> True flip is the low-stock
    # crossing that alerts the admins exactly once.
    low_stock: bool = False
    # The last low-stock alert to the admins, and the id of the stock update that claimed it
    # (app/inventory/alerts.py: at most one per LOW_STOCK_ALERT_INTERVAL_SECONDS).
    low_stock_alerted_at: datetime | None = None
    low_stock_alert_id: PydanticObjectId | None = None
    rating: Rating = Field(default_factory=Rating)
    status: ProductStatus = "active"
    facets: Facets = Field(default_factory=Facets)
    # At most 3 options; every purchasable thing is a variant (a product without options has
    # one, whose id is the product's). `stock` is the variants' sum, `low_stock` true when
    # any variant is low, both re-derived by every stock write (app/inventory/stock.py).
    options: list[ProductOption] = Field(default_factory=list)
    variants: list[Variant] = Field(default_factory=list)
    # Priced checkout (issue 19): the tax class its rate is looked up by, and its shipping
    # weight (weight-tier shipping methods; None counts as 0).
    tax_class: TaxClass = "standard"
    weight_grams: int | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def stock_status(self) -> StockStatus:
        """The best of its variants' (`in_stock` when any variant is)."""
        return best_stock_status(variant.stock_status for variant in self.variants)

    def variant(self, variant_id: str | None) -> Variant | None:
        """The variant with this id; None (no id) is the only variant of a product with one."""
        if variant_id is None:
            return self.variants[0] if len(self.variants) == 1 else None
        return next((v for v in self.variants if v.id == variant_id), None)

    def options_of(self, variant: Variant) -> dict[str, str]:
        """A variant's option values in the order of the product's options."""
        ordered = {
            o.name: variant.options[o.name] for o in self.options if o.name in variant.options
        }
        return {**ordered, **variant.options}

    def price_of(self, variant: Variant) -> int:
        return variant.price if variant.price is not None else self.own_price

    @property
    def own_price(self) -> int:
        return self.base_price if self.base_price is not None else self.price

    @model_validator(mode="after")
    def _derive_low_stock(self) -> Product:
        # A new product (or a stored one from before the flag existed) starts consistent.
        if "low_stock" not in self.model_fields_set:
            self.low_stock = self.stock <= self.low_stock_threshold
        if not self.variants:
            # Stored before variants (or built without any): its one variant, read from the
            # product's own stock fields; app/inventory/stock.py stores it on the first
            # stock write (and `quart variants-migrate` on all of them at once).
            if self.id is None:
                self.id = PydanticObjectId()
            self.variants = [legacy_variant(self)]
        return self

    class Settings:
        name = "products"
        use_revision = True
        # Every catalog query has `status: "active"` first (equality), then at most the
        # filters below, then one of SORTS (equality, sort, range). Price ranges ride on the
        # `price` key of the price-sorted indexes or are applied to the few keys an equality
        # prefix selects; `in_stock` (stock > 0, true for most products) is never selective
        # enough to lead an index, so it is checked on the documents an index found.
        indexes = [
            # The whole catalog, one index per sort: `GET /products?sort=...` and
            # `?min_price=&max_price=` (range on the `price` key).
            IndexModel([_ACTIVE, *_PRICE], name="active_price"),
            IndexModel([_ACTIVE, *_NAME], name="active_name"),
            IndexModel([_ACTIVE, *_NEWEST], name="active_newest"),
            IndexModel([_ACTIVE, *_RATING], name="active_rating"),
            # Category pages (the main way in), one per sort: `?category=<slug>&sort=...`,
            # plus price ranges within a category. Multikey on category_path; the sort keys
            # are scalars, so the index still yields the order.
            IndexModel([_ACTIVE, ("category_path", ASCENDING), *_PRICE], name="category_price"),
            IndexModel([_ACTIVE, ("category_path", ASCENDING), *_NAME], name="category_name"),
            IndexModel([_ACTIVE, ("category_path", ASCENDING), *_NEWEST], name="category_newest"),
            IndexModel([_ACTIVE, ("category_path", ASCENDING), *_RATING], name="category_rating"),
            # Filter `?brand=` (alone or combined with anything above): equality on the
            # facet, ordered by price for the common price sort and price ranges; other sorts
            # sort the facet's (small) match set.
            IndexModel([_ACTIVE, ("facets.brand", ASCENDING), *_PRICE], name="brand_price"),
            # Option filters `?color=`, `?size=` (`?size=M&color=blue`: one variant with both
            # keys, an `$elemMatch`): multikey on the variants' option keys (`size:m`; a
            # product without options has its color/size attributes there), ordered by
            # price like the brand index. It replaces the facets.color/size indexes.
            IndexModel([_ACTIVE, ("variants.keys", ASCENDING), *_PRICE], name="variant_options"),
            # `?q=` on a server: name weighs most, then brand, then description.
            IndexModel(
                [("name", TEXT), ("brand", TEXT), ("description", TEXT)],
                weights={"name": 10, "brand": 5, "description": 1},
                default_language="english",
                name="search",
            ),
            # `GET /admin/inventory/low-stock`: active products at or under their threshold,
            # lowest stock first (equality, equality, sort).
            IndexModel(
                [_ACTIVE, ("low_stock", ASCENDING), ("stock", ASCENDING), ("_id", ASCENDING)],
                name="active_low_stock",
            ),
            # "Does a category still have products?" (archived ones included) on delete,
            # and re-pathing a moved category's products.
            IndexModel([("category_id", ASCENDING)], name="category_id"),
        ]


def legacy_variant(product: Product) -> Variant:
    """The one variant of a product stored before variants: id the product's, sku derived
    from it, the product's stock fields."""
    return Variant(
        id=str(product.id),
        sku=legacy_sku(product.id),
        stock=product.stock,
        low_stock_threshold=product.low_stock_threshold,
        low_stock=product.low_stock,
        low_stock_alerted_at=product.low_stock_alerted_at,
        low_stock_alert_id=product.low_stock_alert_id,
        keys=variant_keys({}, product.attributes),
    )


class VariantSku(Document):
    """The store-wide sku register: one document per variant sku (`_id`), naming its
    product and variant. Its primary key is what makes a sku unique store-wide (409
    `sku_taken`): written in the same transaction as the variants (app/catalog/variants.py).
    (A unique multikey index on `products.variants.sku` would say the same on a server; the
    embedded engine cannot index a path through an array of documents.)"""

    id: str = Field()  # type: ignore[assignment]
    product_id: PydanticObjectId
    variant_id: str

    class Settings:
        name = "variant_skus"
        indexes = [IndexModel([("product_id", ASCENDING)], name="product_id")]


class CatalogVersion(Document):
    """What public catalog reads were computed from: one document, `_id` "catalog".

    `catalog` moves on every change a list page or the category tree can show (product and
    category edits, a product crossing in/low/out of stock, ratings). `epoch` is set when the
    document is created, so a database reset never reuses an old version's cached pages.
    Responses are cached per worker under these numbers (app/catalog/cache.py).
    """

    id: str = Field(default="catalog")  # type: ignore[assignment]
    epoch: str
    catalog: int = 0

    class Settings:
        name = "catalog_version"
