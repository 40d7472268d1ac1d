"""Request and response models of the cart."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from app.cart.models import MAX_LINE_QUANTITY
from app.core.guest import CartMergeOut
from app.core.schemas import InModel, ObjectIdStr, OutModel, StrictInt

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
