"""Request and response models of the cart."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.cart.models import MAX_LINE_QUANTITY
from app.charges.schemas import ShippingMethodOut
from app.core.guest import CartMergeOut
from app.core.schemas import InModel, ObjectIdStr, OutModel, QueryModel, StrictInt

AddQuantity = Annotated[StrictInt, Field(ge=1, le=MAX_LINE_QUANTITY)]
SetQuantity = Annotated[
    StrictInt, Field(ge=0, le=MAX_LINE_QUANTITY, description="0 removes the line")
]


class CartItemIn(InModel):
    product_id: ObjectIdStr
    variant_id: Annotated[str, StringConstraints(min_length=1, max_length=40)] | None = Field(
        default=None,
        description="The variant; optional for a product with one (else 422 `variant_required`)",
    )
    quantity: AddQuantity = Field(description="Added to the line's quantity, if any")


class CartItemUpdate(InModel):
    quantity: SetQuantity


class CartItemOut(OutModel):
    product_id: ObjectIdStr
    variant_id: str = Field(description="The variant: the line's id in `/cart/items/{id}`")
    sku: str | None = Field(description="null when the variant no longer exists")
    options: dict[str, str] = Field(description="The variant's option values, e.g. size, color")
    name: str
    slug: str | None = Field(description="null when the product no longer exists")
    image: str | None = Field(description="The first image's URL, null without images")
    unit_price: int = Field(description="The current price, minor units")
    quantity: int
    line_total: int = Field(description="unit_price × quantity")
    available: bool = Field(
        description="false when the product is archived or gone, or has fewer units in stock "
        "than `quantity`: checkout refuses the cart until the line is changed or removed"
    )
    available_quantity: int = Field(
        description="How many units this line can hold now (stock, at most 99; 0 when the "
        "product cannot be bought)"
    )


class CartOut(OutModel):
    items: list[CartItemOut]
    subtotal: int = Field(description="Sum of the available lines' `line_total`")
    item_count: int = Field(description="Sum of the available lines' `quantity`")
    currency: str
    cart_token: str | None = Field(
        default=None,
        description="A guest cart's token (send it as `Cart-Token`); null for an account's",
    )
    cart_merge: CartMergeOut | None = Field(
        default=None, description="`POST /cart/merge` only: what the merge did"
    )


# -- the quote (priced checkout, issue 19) ---------------------------------------------------


class DiscountCodeIn(InModel):
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40)]


class QuoteQuery(QueryModel):
    country: (
        Annotated[
            str,
            StringConstraints(pattern=r"^[A-Za-z]{2}$"),
            Field(description="ISO 3166-1 alpha-2"),
        ]
        | None
    ) = None
    region: (
        Annotated[
            str,
            StringConstraints(pattern=r"^[A-Za-z0-9]{1,3}$"),
            Field(description="ISO 3166-2 subdivision without the country prefix"),
        ]
        | None
    ) = None
    shipping_method_id: ObjectIdStr | None = Field(
        default=None, description="Left out: the cheapest method for the destination"
    )


class QuoteLineOut(OutModel):
    product_id: ObjectIdStr
    variant_id: str
    name: str
    unit_price: int
    quantity: int
    line_total: int = Field(description="unit_price × quantity")
    discount: int = Field(description="The line's share of the discount")
    tax: int = Field(description="The line's tax: added to its price, or included in it")
    tax_class: str
    tax_rate_bp: float = Field(description="The rate, basis points (2000 is 20 %)")
    total: int = Field(description="What the line costs, tax included")


class QuoteDiscountOut(OutModel):
    code: str
    applied: bool = Field(description="false when the code on the cart no longer applies")
    reason: str | None = Field(description="Why it does not apply (the `discount_invalid` reasons)")
    message: str | None


class QuoteOut(OutModel):
    lines: list[QuoteLineOut] = Field(description="The available lines, as checkout buys them")
    subtotal: int
    discount_total: int
    shipping_total: int
    shipping_discount: int = Field(description="What a free-shipping code took off")
    shipping_tax: int
    tax_total: int = Field(description="The lines' tax plus shipping_tax")
    total: int
    currency: str
    prices_include_tax: bool
    shipping_method: ShippingMethodOut | None = Field(
        description="The method quoted (the chosen one, else the cheapest); null without a "
        "country or a method shipping there"
    )
    shipping_methods: list[ShippingMethodOut] = Field(
        description="Every method for the destination, cheapest first"
    )
    discount: QuoteDiscountOut | None = Field(description="The code on the cart, if any")
