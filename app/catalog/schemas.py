"""Request and response models of the catalog (public and admin)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    RootModel,
    Strict,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from app.catalog.stock_fields import DEFAULT_LOW_STOCK_THRESHOLD, MAX_STOCK
from app.core.money import CURRENCY_CODES, STORE_CURRENCY_MARK, iso_currency
from app.core.pagination import Page, PageQuery
from app.core.schemas import (
    JSON_INTEGER,
    InModel,
    Money,
    MoneyQuery,
    ObjectIdStr,
    OutModel,
    QueryModel,
    UTCDateTime,
)
from app.pricing.engine import TaxClass

SortKey = Literal["price", "-price", "name", "-created_at", "-rating"]

Quantity = Annotated[
    int, Field(strict=True, ge=0, le=MAX_STOCK, description=JSON_INTEGER.capitalize())
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Description = Annotated[str, StringConstraints(max_length=10_000)]
Slug = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", min_length=1, max_length=120)
]
# ISO 4217 code; stored and returned lower case ("USD" is accepted as "usd").
Currency = Annotated[
    str,
    StringConstraints(pattern=r"^[A-Za-z]{3}$"),
    AfterValidator(iso_currency),
    # The OpenAPI document narrows the enum to the store's currency (see core/openapi.py).
    WithJsonSchema({"type": "string", "enum": CURRENCY_CODES, STORE_CURRENCY_MARK: True}),
]
WeightGrams = Annotated[int, Strict(), Field(ge=0, le=1_000_000_000, description="Grams")]
Brand = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ATTRIBUTE_KEY = r"^[a-z][a-z0-9_]{0,39}$"
AttributeKey = Annotated[str, StringConstraints(pattern=ATTRIBUTE_KEY)]
AttributeValue = Annotated[str, StringConstraints(min_length=1, max_length=100)]
Attributes = Annotated[
    dict[AttributeKey, AttributeValue],
    # Keys that do not match AttributeKey's pattern are refused, so the schema says so.
    Field(max_length=30, json_schema_extra={"additionalProperties": False}),
]
FilterValue = Annotated[str, StringConstraints(max_length=100)]

# Variants (issue 18): option names are like attribute keys, values short display strings.
MAX_OPTIONS = 3
MAX_OPTION_VALUES = 50
MAX_VARIANTS = 100
OptionValue = Annotated[str, StringConstraints(min_length=1, max_length=50)]
Sku = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$"
    ),
]


# A variant's value of each option, by option name (keys as the options name them).
VariantOptions = Annotated[
    dict[AttributeKey, OptionValue],
    Field(max_length=MAX_OPTIONS, json_schema_extra={"additionalProperties": False}),
]


class OptionIn(InModel):
    name: AttributeKey = Field(description="Lower case, e.g. `size`, `color`")
    values: Annotated[list[OptionValue], Field(min_length=1, max_length=MAX_OPTION_VALUES)]


class VariantIn(InModel):
    """One variant: its value of each of the product's options, its own stock, and
    optionally its own sku (default derived) and price (default the product's)."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _absent_is_not_null(schema))

    sku: Sku | None = None
    options: VariantOptions = Field(default_factory=dict)
    price: Money | None = None
    stock: Quantity = 0
    low_stock_threshold: Quantity | None = None


class VariantUpdate(InModel):
    """`PATCH /admin/products/{id}/variants/{variant_id}`: only the fields sent change."""

    model_config = ConfigDict(json_schema_extra=lambda schema: _absent_is_not_null(schema))

    sku: Sku = None
    options: VariantOptions = None
    price: Money | None = None
    stock: Quantity = None
    low_stock_threshold: Quantity = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


Options = Annotated[list[OptionIn], Field(max_length=MAX_OPTIONS)]
Variants = Annotated[list[VariantIn], Field(min_length=1, max_length=MAX_VARIANTS)]


# An http(s) URL on a host name (a CDN's, say: no user info, no IP literal), then printable
# ASCII (percent-encode the rest), as a URL in a page or an email must be.
IMAGE_URL = (
    r"^https?://[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::[0-9]{1,5})?(?:[/?#][!-~]*)?$"
)


class ImageIn(InModel):
    url: Annotated[str, StringConstraints(pattern=IMAGE_URL, max_length=2048)]
    alt: Annotated[str, StringConstraints(max_length=300)] = ""


Images = Annotated[list[ImageIn], Field(max_length=20)]


# -- querystrings ----------------------------------------------------------------------------


def _option_filter_name(name: str) -> str:
    if not re.fullmatch(ATTRIBUTE_KEY, name):
        raise PydanticCustomError(
            "option_name",
            "Unknown query parameter: not one of this list's, nor an option filter (an option "
            "name: a lower case letter, then up to 39 lower case letters, digits or _)",
        )
    return name


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# Option filters (issue 18): any query parameter that is not one of the list's own and is
# named like an option (`?material=linen`), its value like `color`'s (case-insensitive).
OptionFilterName = Annotated[str, AfterValidator(_option_filter_name)]
OPTION_FILTERS_DOC = (
    "Option filters: any other parameter named like an option (`material=linen`), at most "
    f"{MAX_OPTIONS}; case-insensitive. With `color` and `size` they must all hold for the same "
    "variant (and with `in_stock=true` that variant must be in stock)."
)
OptionFilterValue = Annotated[
    FilterValue, AfterValidator(_no_nul), Field(description=OPTION_FILTERS_DOC)
]


class ProductQuery(PageQuery, QueryModel):
    """`GET /products` filters. Empty values (`?brand=`) count as absent. Any other parameter
    named like an option is an option filter (see `option_filters`)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[OptionFilterName, OptionFilterValue] = Field(init=False)
    extra_parameters = "option_filters"
    extra_names = ATTRIBUTE_KEY
    max_extra = MAX_OPTIONS
    extra_kind = "option filters (parameters named like an option)"

    q: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="Words searched in name, brand and description"
    )
    category: FilterValue | None = Field(
        default=None, description="Category slug; sub-categories included"
    )
    brand: FilterValue | None = Field(default=None, description="Brand (case-insensitive)")
    color: FilterValue | None = Field(default=None, description="Colour (case-insensitive)")
    size: FilterValue | None = Field(default=None, description="Size (case-insensitive)")
    min_price: MoneyQuery | None = Field(default=None, description="Minor units, inclusive")
    max_price: MoneyQuery | None = Field(default=None, description="Minor units, inclusive")
    in_stock: bool | None = Field(
        default=None, description="true: only products in stock; false (or absent): no stock filter"
    )
    sort: SortKey | None = Field(
        default=None,
        description="Default `-created_at`; with `q` and no sort, the best matches first",
    )

    blank_is_absent = True

    @property
    def option_filters(self) -> dict[str, str]:
        """The option filters set, name -> value: `color`, `size` and the extra ones."""
        named = {"color": self.color, "size": self.size, **(self.model_extra or {})}
        return {name: value for name, value in named.items() if value}

    @field_validator("max_price")
    @classmethod
    def _price_range(cls, value: int | None, info: ValidationInfo) -> int | None:
        low = info.data.get("min_price")
        if value is not None and low is not None and low > value:
            raise ValueError("max_price must not be below min_price")
        return value


class CatalogQuery(ProductQuery):
    """`GET /products`: the filters, and whether to add the facets."""

    facets: bool = Field(
        default=False,
        description="true: add `facets` (counts per brand, color, size and category, and the "
        "price range, over the filtered result, each ignoring its own filter)",
    )


class AdminProductQuery(ProductQuery):
    """`GET /admin/products`: the catalog's filters, on active or archived products."""

    status: Literal["active", "archived"] = Field(
        default="active", description="active (the catalog) or archived"
    )


# -- admin bodies ----------------------------------------------------------------------------


def _stock_or_variants(schema: dict[str, Any]) -> None:
    # What build_variants checks first, in the schema: the stock, or variants with theirs.
    schema["anyOf"] = [{"required": ["stock"]}, {"required": ["variants"]}]


class ProductIn(InModel):
    model_config = ConfigDict(json_schema_extra=_stock_or_variants)

    name: Name
    description: Description
    price: Money
    currency: Currency | None = Field(
        default=None, description="ISO 4217, lower case; the store's currency (default)"
    )
    category: Annotated[str, StringConstraints(min_length=1, max_length=120)] = Field(
        description="Category id or slug"
    )
    brand: Brand | None = None
    attributes: Attributes = Field(default_factory=dict)
    images: Images = Field(default_factory=list)
    stock: Quantity | None = Field(
        default=None,
        description="Required without `variants`; with them, the sum of theirs (or absent)",
    )
    low_stock_threshold: Quantity = DEFAULT_LOW_STOCK_THRESHOLD
    options: Options = Field(default_factory=list)
    variants: Variants | None = Field(
        default=None,
        description="One per combination sold; absent: one variant holding `stock`",
    )
    tax_class: TaxClass | None = Field(
        default=None, description="The tax class its rate is looked up by. Left out: `standard`."
    )
    weight_grams: WeightGrams | None = Field(
        default=None, description="Shipping weight (weight-tier shipping methods)"
    )


def _absent_is_not_null(schema: dict[str, Any]) -> None:
    # A PATCH field left out is unchanged; its `None` default is not a value to advertise.
    for prop in schema.get("properties", {}).values():
        if "default" in prop and prop["default"] is None:
            del prop["default"]


class ProductUpdate(InModel):
    """Partial update: only the fields sent change. Defaults are not validated, so an
    explicit `null` for a required field fails with that field's own error."""

    model_config = ConfigDict(json_schema_extra=_absent_is_not_null)

    name: Name = None
    slug: Slug = None
    description: Description = None
    price: Money = None
    currency: Currency = None
    category: Annotated[str, StringConstraints(min_length=1, max_length=120)] = None
    brand: Brand | None = None
    attributes: Attributes = None
    images: Images = None
    stock: Quantity = None
    low_stock_threshold: Quantity = None
    status: Literal["active", "archived"] = None
    options: Options = None
    variants: Variants = None
    tax_class: TaxClass = None
    weight_grams: WeightGrams | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


class CategoryIn(InModel):
    name: Name
    slug: Slug | None = Field(default=None, description="Generated from the name when absent")
    description: Description | None = None
    parent_id: ObjectIdStr | None = None


class CategoryUpdate(InModel):
    model_config = ConfigDict(json_schema_extra=_absent_is_not_null)

    name: Name = None
    slug: Slug = None
    description: Description | None = None
    parent_id: ObjectIdStr | None = Field(default=None, description="null moves it to the root")

    def changes(self) -> dict[str, Any]:
        return self.model_dump(include=self.model_fields_set)


# -- responses -------------------------------------------------------------------------------


class CategoryRef(OutModel):
    id: ObjectIdStr
    slug: str
    name: str


class ImageOut(OutModel):
    url: str
    alt: str


class RatingOut(OutModel):
    average: float
    count: int


class ProductListItem(OutModel):
    id: ObjectIdStr
    slug: str
    name: str
    price: int
    currency: str
    brand: str | None
    category: CategoryRef | None
    images: list[ImageOut]
    rating: RatingOut
    stock_status: Literal["in_stock", "low_stock", "out_of_stock"]


class OptionOut(OutModel):
    name: str
    values: list[str]


class VariantOut(OutModel):
    id: str
    sku: str
    options: dict[str, str]
    price: int = Field(description="Its own price, else the product's")
    stock: int
    stock_status: Literal["in_stock", "low_stock", "out_of_stock"]
    low_stock_threshold: int


class FacetCount(OutModel):
    value: str
    count: int


class PriceRange(OutModel):
    min: int | None
    max: int | None


class Facets(OutModel):
    """Counts over the filtered result, each facet ignoring its own filter."""

    brand: list[FacetCount]
    color: list[FacetCount]
    size: list[FacetCount]
    category: list[FacetCount]
    price: PriceRange


class AdminProductItem(ProductListItem):
    stock: int
    low_stock_threshold: int
    status: Literal["active", "archived"]


class ProductOut(ProductListItem):
    description: str
    attributes: dict[str, str]
    options: list[OptionOut]
    variants: list[VariantOut]
    stock: int
    low_stock_threshold: int
    status: Literal["active", "archived"]
    tax_class: TaxClass
    weight_grams: int | None
    created_at: UTCDateTime
    updated_at: UTCDateTime


class CategoryOut(OutModel):
    id: ObjectIdStr
    name: str
    slug: str
    description: str | None
    parent_id: ObjectIdStr | None
    ancestors: list[ObjectIdStr] = Field(description="Ids from the root down to the parent")
    created_at: UTCDateTime
    updated_at: UTCDateTime

    @field_validator("parent_id", mode="before")
    @classmethod
    def _parent_str(cls, value: Any) -> Any:
        return str(value) if value is not None else None

    @field_validator("ancestors", mode="before")
    @classmethod
    def _ancestors_str(cls, value: Any) -> Any:
        return [str(v) for v in value]


class CategoryNode(OutModel):
    id: ObjectIdStr
    name: str
    slug: str
    description: str | None
    children: list[CategoryNode]


class CategoryTree(RootModel[list[CategoryNode]]):
    """The roots of the category tree, each with its children, by name."""


class ProductPage(Page[ProductListItem]):
    """A catalog page; `facets` with `?facets=true`, else null."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    facets: Facets | None = Field(default=None, description="With `facets=true`; else null")
