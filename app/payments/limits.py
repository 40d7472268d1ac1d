"""The amounts a charge may have: Stripe's limits, which the dev gateway applies too, so that
development refuses what production would.

Stripe refuses a PaymentIntent under its minimum charge for the currency (about 50 US cents;
https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts) or over eight digits of
minor units (99,999,999: $999,999.99 in USD).
"""

from __future__ import annotations

from dataclasses import dataclass

# Stripe's minimum charge per presentment currency, in minor units (zero-decimal currencies
# such as JPY count whole units).
STRIPE_MINIMUM_CHARGE = {
    "usd": 50,
    "aed": 200,
    "aud": 50,
    "bgn": 100,
    "brl": 50,
    "cad": 50,
    "chf": 50,
    "czk": 1500,
    "dkk": 250,
    "eur": 50,
    "gbp": 30,
    "hkd": 400,
    "huf": 17500,
    "inr": 50,
    "jpy": 50,
    "mxn": 1000,
    "myr": 200,
    "nok": 300,
    "nzd": 50,
    "pln": 200,
    "ron": 200,
    "sek": 300,
    "sgd": 50,
    "thb": 1000,
}
# Currencies Stripe lists no minimum for here: at least one minor unit (Stripe may still
# refuse less than the equivalent of 50 US cents; that refusal is handled as a provider error).
DEFAULT_MINIMUM_CHARGE = 1
STRIPE_MAXIMUM_CHARGE = 99_999_999


@dataclass(frozen=True)
class AmountLimits:
    """The smallest and largest amount (minor units, inclusive) a charge may have."""

    currency: str
    minimum: int
    maximum: int

    def allows(self, amount: int) -> bool:
        return self.minimum <= amount <= self.maximum


def stripe_amount_limits(currency: str) -> AmountLimits:
    code = currency.lower()
    return AmountLimits(
        currency=code,
        minimum=STRIPE_MINIMUM_CHARGE.get(code, DEFAULT_MINIMUM_CHARGE),
        maximum=STRIPE_MAXIMUM_CHARGE,
    )
