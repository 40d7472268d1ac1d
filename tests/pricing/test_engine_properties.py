"""Properties of the pricing function over generated carts (Hypothesis)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from app.pricing.engine import (
    DiscountInput,
    LineInput,
    ShippingInput,
    TaxRateInput,
    WeightTier,
    price,
    spread,
    tax_added,
    tax_included,
)

rates_ppm = st.integers(min_value=0, max_value=300_000)
lines = st.lists(
    st.builds(
        LineInput,
        key=st.uuids().map(str),
        product_id=st.sampled_from(["p1", "p2", "p3", "p4"]),
        unit_price=st.integers(min_value=0, max_value=500_000),
        quantity=st.integers(min_value=1, max_value=99),
        tax_class=st.sampled_from(["standard", "reduced", "zero"]),
        category_ids=st.frozensets(st.sampled_from(["c1", "c2"]), max_size=2),
        weight_grams=st.integers(min_value=0, max_value=5000),
    ),
    min_size=1,
    max_size=8,
)
discounts = st.none() | st.builds(
    DiscountInput,
    code=st.just("CODE"),
    type=st.sampled_from(["percent", "fixed", "free_shipping"]),
    value=st.integers(min_value=0, max_value=1_000_000),
    min_subtotal=st.none() | st.integers(min_value=0, max_value=100_000),
    product_ids=st.frozensets(st.sampled_from(["p1", "p2"]), max_size=2),
    category_ids=st.frozensets(st.sampled_from(["c1", "c2"]), max_size=1),
)
shippings = st.none() | st.builds(
    ShippingInput,
    id=st.just("m"),
    name=st.just("Method"),
    price=st.integers(min_value=0, max_value=10_000),
    free_over=st.none() | st.integers(min_value=0, max_value=200_000),
    weight_tiers=st.lists(
        st.builds(
            WeightTier,
            up_to_grams=st.integers(min_value=1, max_value=50_000),
            price=st.integers(min_value=0, max_value=10_000),
        ),
        max_size=3,
    ).map(tuple),
)
tax_tables = st.fixed_dictionaries(
    {},
    optional={
        "standard": st.builds(TaxRateInput, rate_ppm=rates_ppm, applies_to_shipping=st.booleans()),
        "reduced": st.builds(TaxRateInput, rate_ppm=rates_ppm),
        "zero": st.just(TaxRateInput(rate_ppm=0)),
    },
)
carts = st.fixed_dictionaries(
    {
        "lines": lines,
        "tax_rates": tax_tables,
        "prices_include_tax": st.booleans(),
        "shipping": shippings,
        "discount": discounts,
    }
)


def _price(cart):
    return price(
        cart["lines"],
        tax_rates=cart["tax_rates"],
        prices_include_tax=cart["prices_include_tax"],
        shipping=cart["shipping"],
        discount=cart["discount"],
    )


@settings(max_examples=300, deadline=None)
@given(carts)
def test_totals_add_up_line_by_line(cart):
    breakdown = _price(cart)
    assert breakdown.subtotal == sum(line.subtotal for line in breakdown.lines)
    assert breakdown.discount_total == sum(line.discount for line in breakdown.lines)
    assert breakdown.tax_total == sum(line.tax for line in breakdown.lines) + breakdown.shipping_tax
    for given_line, line in zip(cart["lines"], breakdown.lines, strict=True):
        assert line.subtotal == given_line.unit_price * given_line.quantity
        net = line.subtotal - line.discount
        assert line.total == (net if cart["prices_include_tax"] else net + line.tax)
    goods = sum(line.total for line in breakdown.lines)
    shipping = breakdown.shipping_total + (
        0 if cart["prices_include_tax"] else breakdown.shipping_tax
    )
    assert breakdown.total == goods + shipping


@settings(max_examples=300, deadline=None)
@given(carts)
def test_nothing_is_negative_and_no_discount_exceeds_its_base(cart):
    breakdown = _price(cart)
    for line in breakdown.lines:
        assert 0 <= line.discount <= line.subtotal
        assert line.tax >= 0 and line.total >= 0
    for amount in (
        breakdown.subtotal,
        breakdown.discount_total,
        breakdown.shipping_total,
        breakdown.shipping_discount,
        breakdown.tax_total,
        breakdown.total,
    ):
        assert amount >= 0
    discount = cart["discount"]
    if discount is not None and discount.type == "fixed":
        assert breakdown.discount_total <= discount.value
    if discount is not None and discount.type == "percent":
        eligible = sum(
            line.subtotal
            for line, given_line in zip(breakdown.lines, cart["lines"], strict=True)
            if discount.covers(given_line)
        )
        assert breakdown.discount_total <= eligible
    if cart["prices_include_tax"]:
        # Tax inside a price is never more than the price.
        assert all(line.tax <= line.total for line in breakdown.lines)
        assert breakdown.shipping_tax <= breakdown.shipping_total


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=10**9), rates_ppm)
def test_inclusive_and_exclusive_agree_on_the_net(net, rate_ppm):
    gross = net + tax_added(net, rate_ppm)
    assert gross - tax_included(gross, rate_ppm) == net


@settings(max_examples=200, deadline=None)
@given(lines, rates_ppm)
def test_a_cart_priced_both_ways_has_the_same_net(cart_lines, rate_ppm):
    """The same goods, labelled net (US) or gross (EU, each label the net plus its tax),
    come to the same net amount line by line, and to the same total."""
    rates = {"standard": TaxRateInput(rate_ppm=rate_ppm)}
    standard = [
        LineInput(key=item.key, product_id=item.product_id, unit_price=item.unit_price, quantity=1)
        for item in cart_lines
    ]
    exclusive = price(standard, tax_rates=rates, prices_include_tax=False)
    labelled_gross = [
        LineInput(
            key=item.key,
            product_id=item.product_id,
            quantity=1,
            unit_price=item.unit_price + tax_added(item.unit_price, rate_ppm),
        )
        for item in standard
    ]
    inclusive = price(labelled_gross, tax_rates=rates, prices_include_tax=True)
    for out, inside in zip(exclusive.lines, inclusive.lines, strict=True):
        assert out.subtotal - out.discount == inside.total - inside.tax
        assert out.tax == inside.tax
    assert exclusive.total == inclusive.total


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12),
    st.data(),
)
def test_spreading_never_loses_or_creates_a_cent(bases, data):
    amount = data.draw(st.integers(min_value=0, max_value=sum(bases)))
    shares = spread(amount, bases)
    assert sum(shares) == amount
    assert all(0 <= share <= base for share, base in zip(shares, bases, strict=True))
    assert spread(amount, bases) == shares


@settings(max_examples=200, deadline=None)
@given(carts)
def test_the_same_inputs_give_the_same_breakdown(cart):
    assert _price(cart) == _price(cart)
    assert _price(cart) == _price({**cart, "lines": list(cart["lines"])})
