"""Worked examples of the pricing function, each checkable by hand (the arithmetic is in the
comments). Rates are in parts per million: 8.875 % is 88,750 ppm (887.5 basis points)."""

from __future__ import annotations

import pytest

from app.pricing.engine import (
    DiscountInput,
    LineInput,
    RateRow,
    ShippingInput,
    TaxRateInput,
    WeightTier,
    price,
    rates_for,
    round_half_up,
    spread,
    tax_added,
    tax_included,
)


def line(key: str, unit_price: int, quantity: int = 1, **fields) -> LineInput:
    return LineInput(key=key, product_id=key, unit_price=unit_price, quantity=quantity, **fields)


def amounts(breakdown):
    return [(item.subtotal, item.discount, item.tax, item.total) for item in breakdown.lines]


def test_us_order_with_8_875_percent_added():
    # New York City: 8.875 % added to the price; shipping not taxed.
    breakdown = price(
        [line("mug", 1999, 2), line("card", 500)],
        tax_rates={"standard": TaxRateInput(rate_ppm=88_750, name="NY")},
        prices_include_tax=False,
        shipping=ShippingInput(id="std", name="Standard", price=599),
    )
    # 3998 × 8.875 % = 354.8225 -> 355; 500 × 8.875 % = 44.375 -> 44
    assert amounts(breakdown) == [(3998, 0, 355, 4353), (500, 0, 44, 544)]
    assert breakdown.subtotal == 4498
    assert breakdown.shipping_total == 599
    assert breakdown.shipping_tax == 0
    assert breakdown.tax_total == 399
    assert breakdown.total == 4498 + 599 + 399 == 5496


def test_eu_order_with_20_percent_included_and_a_reduced_rate_line():
    rates = {
        "standard": TaxRateInput(rate_ppm=200_000, name="TVA 20 %", applies_to_shipping=True),
        "reduced": TaxRateInput(rate_ppm=55_000, name="TVA 5,5 %"),
    }
    breakdown = price(
        [line("lamp", 2400), line("tea", 350, 3, tax_class="reduced")],
        tax_rates=rates,
        prices_include_tax=True,
        shipping=ShippingInput(id="colis", name="Colissimo", price=490),
    )
    # 2400 × 20/120 = 400 exactly; 1050 × 5.5/105.5 = 54.739... -> 55
    assert amounts(breakdown) == [(2400, 0, 400, 2400), (1050, 0, 55, 1050)]
    assert [item.tax_rate_ppm for item in breakdown.lines] == [200_000, 55_000]
    # Shipping carries the standard rate: 490 × 20/120 = 81.67 -> 82
    assert breakdown.shipping_tax == 82
    assert breakdown.tax_total == 400 + 55 + 82 == 537
    # Inclusive prices: the total is what the labels said, tax inside it.
    assert breakdown.total == 2400 + 1050 + 490 == 3940


@pytest.mark.parametrize(
    ("lines", "code", "shipping_total"),
    [
        ([line("a", 5000)], None, 0),  # exactly at the threshold: free
        ([line("a", 4999)], None, 599),  # a cent under it
        ([line("a", 2500, 2)], None, 0),
        # 5500 less 10 % is 4950: under the threshold after the discount, so charged.
        ([line("a", 5500)], DiscountInput(code="TEN", type="percent", value=10), 599),
    ],
)
def test_free_shipping_over_a_threshold(lines, code, shipping_total):
    breakdown = price(
        lines,
        tax_rates={},
        prices_include_tax=False,
        shipping=ShippingInput(id="std", name="Standard", price=599, free_over=5000),
        discount=code,
    )
    assert breakdown.shipping_total == shipping_total
    assert breakdown.total == breakdown.subtotal - breakdown.discount_total + shipping_total


def test_ten_percent_code_with_a_minimum():
    ten = DiscountInput(code="TEN", type="percent", value=10, min_subtotal=3000)
    under = price([line("a", 2999)], tax_rates={}, prices_include_tax=False, discount=ten)
    assert under.discount_total == 0
    assert under.discount_refused == "min_subtotal"
    assert under.discount_code is None
    assert under.total == 2999

    over = price(
        [line("a", 2000), line("b", 1455)], tax_rates={}, prices_include_tax=False, discount=ten
    )
    # 10 % of 3455 = 345.5 -> 346; spread: 346 × 2000/3455 = 200.3 -> 200,
    # 346 × 1455/3455 = 145.7 -> 145; the cent left goes to the largest line: 201 + 145.
    assert over.discount_code == "TEN"
    assert amounts(over) == [(2000, 201, 0, 1799), (1455, 145, 0, 1310)]
    assert over.discount_total == 346
    assert over.total == 3455 - 346 == 3109


def test_fixed_code_spread_over_three_lines():
    ten_off = DiscountInput(code="TENOFF", type="fixed", value=1000)
    breakdown = price(
        [line("a", 1000), line("b", 2000), line("c", 3000)],
        tax_rates={"standard": TaxRateInput(rate_ppm=100_000)},
        prices_include_tax=False,
        discount=ten_off,
    )
    # 1000 × 1000/6000 = 166.7 -> 166; × 2000/6000 = 333.3 -> 333; × 3000/6000 = 500;
    # 999 spread, the last cent to the largest line (c): 166, 333, 501.
    # Tax 10 % on what is left: 834 -> 83.4 -> 83; 1667 -> 166.7 -> 167; 2499 -> 249.9 -> 250.
    assert amounts(breakdown) == [
        (1000, 166, 83, 917),
        (2000, 333, 167, 1834),
        (3000, 501, 250, 2749),
    ]
    assert breakdown.discount_total == 1000
    assert breakdown.tax_total == 500
    assert breakdown.total == 6000 - 1000 + 500


def test_fixed_code_larger_than_the_cart_takes_the_cart_and_no_more():
    breakdown = price(
        [line("a", 300), line("b", 200)],
        tax_rates={},
        prices_include_tax=False,
        discount=DiscountInput(code="BIG", type="fixed", value=10_000),
    )
    assert amounts(breakdown) == [(300, 300, 0, 0), (200, 200, 0, 0)]
    assert breakdown.total == 0


def test_narrowed_code_discounts_only_its_lines():
    code = DiscountInput(
        code="MUGS", type="percent", value=50, category_ids=frozenset({"cat-mugs"})
    )
    breakdown = price(
        [
            line("mug", 1000, category_ids=frozenset({"cat-kitchen", "cat-mugs"})),
            line("tea", 1000, category_ids=frozenset({"cat-kitchen"})),
        ],
        tax_rates={},
        prices_include_tax=False,
        discount=code,
    )
    assert [item.discount for item in breakdown.lines] == [500, 0]
    by_product = DiscountInput(code="P", type="fixed", value=100, product_ids=frozenset({"tea"}))
    other = price([line("mug", 1000)], tax_rates={}, prices_include_tax=False, discount=by_product)
    assert other.discount_refused == "no_eligible_lines"
    assert other.discount_total == 0


def test_free_shipping_code_and_weight_tiers():
    method = ShippingInput(
        id="post",
        name="Post",
        price=0,
        weight_tiers=(WeightTier(up_to_grams=500, price=450), WeightTier(2000, 900)),
    )
    light = price(
        [line("a", 1000, 2, weight_grams=250)],
        tax_rates={},
        prices_include_tax=False,
        shipping=method,
    )
    heavy = price(
        [line("a", 1000, 3, weight_grams=250)],
        tax_rates={},
        prices_include_tax=False,
        shipping=method,
    )
    beyond = price(
        [line("a", 1000, 1, weight_grams=5000)],
        tax_rates={},
        prices_include_tax=False,
        shipping=method,
    )
    assert (light.weight_grams, light.shipping_total) == (500, 450)
    assert (heavy.weight_grams, heavy.shipping_total) == (750, 900)
    assert beyond.shipping_total == 900
    free = price(
        [line("a", 1000, 3, weight_grams=250)],
        tax_rates={},
        prices_include_tax=False,
        shipping=method,
        discount=DiscountInput(code="SHIP", type="free_shipping"),
    )
    assert (free.shipping_total, free.shipping_discount, free.total) == (0, 900, 3000)


def test_region_rate_wins_over_the_country_rate():
    rows = [
        RateRow("US", None, "standard", TaxRateInput(rate_ppm=0, name="US")),
        RateRow("US", "CA", "standard", TaxRateInput(rate_ppm=72_500, name="CA")),
        RateRow("US", "NY", "standard", TaxRateInput(rate_ppm=88_750, name="NY")),
        RateRow("DE", None, "standard", TaxRateInput(rate_ppm=190_000, name="DE")),
    ]
    assert rates_for(rows, country="us", region="ca")["standard"].name == "CA"
    assert rates_for(rows, country="US", region="TX")["standard"].name == "US"
    assert rates_for(rows, country="US", region=None)["standard"].name == "US"
    assert rates_for(rows, country="FR", region=None) == {}


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [(5, 10, 1), (4, 10, 0), (15, 10, 2), (25, 10, 3), (0, 7, 0), (14, 7, 2)],
)
def test_round_half_up(numerator, denominator, rounded):
    assert round_half_up(numerator, denominator) == rounded


def test_tax_helpers_and_spread():
    assert tax_added(1000, 200_000) == 200
    assert tax_included(1200, 200_000) == 200
    # Three equal lines, two cents: the first (a tie for largest) and then the next.
    assert spread(2, [1, 1, 1]) == [1, 1, 0]
    assert spread(0, [5, 5]) == [0, 0]
    with pytest.raises(ValueError):
        spread(11, [5, 5])
