"""The price of a cart: one pure function from what is bought, where it goes, how, with which
code and under which tax rates, to every amount the shopper pays. No I/O: the caller loads
the inputs in one batch (app/cart/quote.py) and the cart's quote and checkout both call
`price()`, so what the shopper is shown is exactly what is charged.

All amounts are integers in minor units. The rules, in the order they apply:

1. A line's `subtotal` is `unit_price × quantity`.
2. A discount applies to the *eligible* lines (all lines, or those of its products or
   category) when the cart's subtotal reaches its minimum. A `percent` code takes
   `round_half_up(eligible × percent / 100)`; a `fixed` code takes its value, at most the
   eligible amount. That amount is spread over the eligible lines in proportion to their
   subtotals, each line's share rounded down; the cents left over go to the largest line
   (ties: the first in the cart), then to the next largest when that line is used up. The
   line discounts therefore add up to the discount exactly and no line's exceeds its
   subtotal. A `free_shipping` code makes shipping 0 (`shipping_discount` says how much).
3. Shipping is the method's flat `price`, or the price of the first weight tier holding the
   cart's weight (beyond the last tier: the last tier's price); it is 0 when the subtotal
   after discounts reaches the method's `free_over`.
4. Tax is computed per line on the line's amount after its discount (`net` below), with the
   rate of the line's tax class at the destination, rounded half up to the minor unit:
   exclusive prices (`prices_include_tax` false, US style) add `round_half_up(amount × rate)`;
   inclusive prices (EU style) contain `round_half_up(amount × rate / (1 + rate))`.
   Half up on the exact fraction makes the two agree: an inclusive price built from a net
   amount and its exclusive tax gives back that net amount. Shipping is taxed the same way
   at the destination's standard rate when that rate `applies_to_shipping`.
5. `tax_total` is the sum of the lines' taxes and the shipping tax; `total` is
   `subtotal − discount_total + shipping_total` plus `tax_total` when prices exclude tax.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

TaxClass = Literal["standard", "reduced", "zero"]
DiscountType = Literal["percent", "fixed", "free_shipping"]
# Rates are held in parts per million: 8.875 % (887.5 basis points) is 88,750 exactly.
RATE_SCALE = 1_000_000


def round_half_up(numerator: int, denominator: int) -> int:
    """`numerator / denominator` rounded half up, exactly (both not negative)."""
    if numerator < 0 or denominator <= 0:
        raise ValueError("round_half_up takes a non-negative fraction")
    return (2 * numerator + denominator) // (2 * denominator)


def tax_added(amount: int, rate_ppm: int) -> int:
    """The tax on a net `amount` (prices exclude tax)."""
    return round_half_up(amount * rate_ppm, RATE_SCALE)


def tax_included(amount: int, rate_ppm: int) -> int:
    """The tax contained in a gross `amount` (prices include tax)."""
    return round_half_up(amount * rate_ppm, RATE_SCALE + rate_ppm)


@dataclass(frozen=True)
class LineInput:
    """One cart line as priced: `key` names it in the breakdown (a variant or product id)."""

    key: str
    product_id: str
    unit_price: int
    quantity: int
    tax_class: TaxClass = "standard"
    # The product's category and its ancestors (a category code also covers sub-categories).
    category_ids: frozenset[str] = frozenset()
    weight_grams: int = 0


@dataclass(frozen=True)
class WeightTier:
    up_to_grams: int
    price: int


@dataclass(frozen=True)
class ShippingInput:
    id: str
    name: str
    price: int
    free_over: int | None = None
    weight_tiers: tuple[WeightTier, ...] = ()


@dataclass(frozen=True)
class TaxRateInput:
    rate_ppm: int
    name: str = ""
    id: str | None = None
    applies_to_shipping: bool = False


@dataclass(frozen=True)
class DiscountInput:
    code: str
    type: DiscountType
    value: int = 0  # whole percent for `percent`, minor units for `fixed`
    min_subtotal: int | None = None
    product_ids: frozenset[str] = frozenset()
    category_ids: frozenset[str] = frozenset()

    def covers(self, line: LineInput) -> bool:
        if not self.product_ids and not self.category_ids:
            return True
        return line.product_id in self.product_ids or bool(line.category_ids & self.category_ids)


@dataclass(frozen=True)
class LineBreakdown:
    key: str
    subtotal: int
    discount: int
    tax: int
    tax_rate_ppm: int
    tax_rate_id: str | None
    tax_rate_name: str | None
    tax_class: TaxClass
    total: int  # what the line costs, tax included


@dataclass(frozen=True)
class Breakdown:
    lines: tuple[LineBreakdown, ...]
    subtotal: int
    discount_total: int
    shipping_total: int
    shipping_discount: int
    shipping_tax: int
    tax_total: int
    total: int
    prices_include_tax: bool
    # The code as applied, or why it did not apply (`min_subtotal`, `no_eligible_lines`).
    discount_code: str | None = None
    discount_refused: str | None = None
    shipping_method_id: str | None = None
    weight_grams: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


def spread(amount: int, bases: Sequence[int]) -> list[int]:
    """Split `amount` (at most `sum(bases)`) over `bases` in proportion, shares rounded down,
    the remainder to the largest base first (ties: the earliest), each share at most its
    base. The shares add up to `amount`."""
    total = sum(bases)
    if amount < 0 or amount > total:
        raise ValueError("the amount to spread must be between 0 and the sum of the bases")
    if total == 0:
        return [0 for _ in bases]
    shares = [amount * base // total for base in bases]
    left = amount - sum(shares)
    for index in sorted(range(len(bases)), key=lambda i: (-bases[i], i)):
        if left == 0:
            break
        room = bases[index] - shares[index]
        given = min(room, left)
        shares[index] += given
        left -= given
    return shares


def shipping_price(method: ShippingInput, weight_grams: int) -> int:
    if not method.weight_tiers:
        return method.price
    tiers = sorted(method.weight_tiers, key=lambda tier: tier.up_to_grams)
    for tier in tiers:
        if weight_grams <= tier.up_to_grams:
            return tier.price
    return tiers[-1].price


def _discount_amount(discount: DiscountInput, eligible: int) -> int:
    if discount.type == "percent":
        return min(eligible, round_half_up(eligible * min(discount.value, 100), 100))
    if discount.type == "fixed":
        return min(eligible, discount.value)
    return 0


def price(
    lines: Sequence[LineInput],
    *,
    tax_rates: Mapping[str, TaxRateInput],
    prices_include_tax: bool,
    shipping: ShippingInput | None = None,
    discount: DiscountInput | None = None,
) -> Breakdown:
    """The breakdown of `lines` shipped by `shipping` with `discount`, under `tax_rates` (the
    destination's rate per tax class; a class without a rate is taxed at 0)."""
    subtotals = [line.unit_price * line.quantity for line in lines]
    if any(line.unit_price < 0 or line.quantity < 0 for line in lines):
        raise ValueError("prices and quantities are never negative")
    subtotal = sum(subtotals)
    discounts = [0 for _ in lines]
    refused: str | None = None
    free_shipping = False
    if discount is not None:
        eligible = [i for i, line in enumerate(lines) if discount.covers(line)]
        if discount.min_subtotal is not None and subtotal < discount.min_subtotal:
            refused = "min_subtotal"
        elif not eligible or sum(subtotals[i] for i in eligible) == 0:
            refused = "no_eligible_lines"
        elif discount.type == "free_shipping":
            free_shipping = True
        else:
            bases = [subtotals[i] for i in eligible]
            shares = spread(_discount_amount(discount, sum(bases)), bases)
            for index, share in zip(eligible, shares, strict=True):
                discounts[index] = share
    discount_total = sum(discounts)
    weight = sum(line.weight_grams * line.quantity for line in lines)

    shipping_total = shipping_discount = 0
    if shipping is not None:
        shipping_total = shipping_price(shipping, weight)
        if shipping.free_over is not None and subtotal - discount_total >= shipping.free_over:
            shipping_total = 0
        if free_shipping:
            shipping_discount, shipping_total = shipping_total, 0

    def tax_on(amount: int, rate_ppm: int) -> int:
        return (tax_included if prices_include_tax else tax_added)(amount, rate_ppm)

    priced: list[LineBreakdown] = []
    for line, line_subtotal, line_discount in zip(lines, subtotals, discounts, strict=True):
        rate = tax_rates.get(line.tax_class)
        rate_ppm = rate.rate_ppm if rate is not None else 0
        net = line_subtotal - line_discount
        tax = tax_on(net, rate_ppm)
        priced.append(
            LineBreakdown(
                key=line.key,
                subtotal=line_subtotal,
                discount=line_discount,
                tax=tax,
                tax_rate_ppm=rate_ppm,
                tax_rate_id=rate.id if rate is not None else None,
                tax_rate_name=rate.name if rate is not None else None,
                tax_class=line.tax_class,
                total=net if prices_include_tax else net + tax,
            )
        )
    standard = tax_rates.get("standard")
    shipping_tax = 0
    if standard is not None and standard.applies_to_shipping:
        shipping_tax = tax_on(shipping_total, standard.rate_ppm)
    tax_total = sum(line.tax for line in priced) + shipping_tax
    total = subtotal - discount_total + shipping_total
    if not prices_include_tax:
        total += tax_total
    return Breakdown(
        lines=tuple(priced),
        subtotal=subtotal,
        discount_total=discount_total,
        shipping_total=shipping_total,
        shipping_discount=shipping_discount,
        shipping_tax=shipping_tax,
        tax_total=tax_total,
        total=total,
        prices_include_tax=prices_include_tax,
        discount_code=discount.code if discount is not None and refused is None else None,
        discount_refused=refused,
        shipping_method_id=shipping.id if shipping is not None else None,
        weight_grams=weight,
    )


@dataclass(frozen=True)
class RateRow:
    """A stored tax rate, as `rates_for` chooses among them."""

    country: str
    region: str | None
    tax_class: TaxClass
    rate: TaxRateInput


def rates_for(
    rows: Sequence[RateRow], *, country: str, region: str | None
) -> dict[str, TaxRateInput]:
    """The destination's rate per tax class: a rate for its region wins over the country's."""
    chosen: dict[str, TaxRateInput] = {}
    country = country.upper()
    region = region.upper() if region else None
    for row in sorted(rows, key=lambda r: r.region is not None):
        if row.country.upper() != country:
            continue
        if row.region is not None and row.region.upper() != region:
            continue
        chosen[row.tax_class] = row.rate
    return chosen
