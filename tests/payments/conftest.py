"""Stripe tests against a real emulator: localstripe on 127.0.0.1, the app set to
PAYMENT_PROVIDER=stripe against it, and webhooks signed as Stripe signs them. The emulator's
process, the settings and the signing are in tests/support/payments.py.
"""

from __future__ import annotations

import pytest
import stripe

from tests.support.checkout import (  # noqa: F401
    checkout,
    fill_cart,
    pay,
    placed_order,
    stock,
)
from tests.support.payments import (
    SECRET_KEY,
    WEBHOOK,
    LocalStripe,
    emulator_events,
    event_body,
    find_localstripe_python,
    make_event,
    sign,
    stripe_settings,
)
from tests.support.smtp import smtp_server  # noqa: F401


@pytest.fixture(scope="session")
def localstripe_python() -> str:
    python, why_not = find_localstripe_python()
    if python is None:
        pytest.skip(why_not)
    return python


@pytest.fixture(scope="session")
def localstripe(localstripe_python, tmp_path_factory):
    """The suite's emulator, shared by the tests (objects never collide: random ids)."""
    server = LocalStripe(localstripe_python, tmp_path_factory.mktemp("localstripe") / "state")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_localstripe(localstripe_python, tmp_path):
    """An emulator of the test's own, to stop and start again."""
    server = LocalStripe(localstripe_python, tmp_path / "localstripe-state")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def settings_overrides(localstripe) -> dict:
    return stripe_settings(localstripe)


@pytest.fixture
async def stripe_api(settings):
    """A Stripe client of the test's own, to look at (and act on) the emulator directly, as
    the customer's browser (Stripe.js) or an admin in the dashboard would."""
    http = stripe.HTTPXClient(timeout=10)
    client = stripe.StripeClient(
        SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=http,
        max_network_retries=0,
    )
    yield client.v1
    await http.close_async()


# -- webhooks ----------------------------------------------------------------------------------


@pytest.fixture
def deliver(client):
    """`await deliver(event)`: POST it to the webhook, signed; -> the response."""

    async def post(event: dict | bytes, *, signature: str | None = None, **sign_args):
        body = event if isinstance(event, bytes) else event_body(event)
        header = signature if signature is not None else sign(body, **sign_args)
        headers = {"Content-Type": "application/json; charset=utf-8", "Stripe-Signature": header}
        return await client.post(WEBHOOK, data=body, headers=headers)

    return post


@pytest.fixture
def emulator_event(stripe_api):
    """`await emulator_event("payment_intent.succeeded", intent_id)`: the event localstripe
    itself recorded for that intent (as it would have delivered it), as a dict."""

    async def find(kind: str, intent_id: str) -> dict:
        events = await emulator_events(stripe_api, kind, intent_id)
        assert len(events) == 1, f"localstripe recorded {len(events)} {kind} for {intent_id}"
        return events[0]

    return find


@pytest.fixture
def charge_refunded_event(stripe_api):
    """`await charge_refunded_event(intent_id)`: a `charge.refunded` event around the
    intent's charge as the emulator now has it (localstripe sends no refund events)."""

    async def build(intent_id: str) -> dict:
        intent = await stripe_api.payment_intents.retrieve_async(intent_id)
        charge = intent.to_dict()["latest_charge"]
        charge_id = charge["id"] if isinstance(charge, dict) else charge
        fresh = await stripe_api.charges.retrieve_async(charge_id)
        return make_event("charge.refunded", fresh.to_dict())

    return build


@pytest.fixture
def confirm_in_browser(stripe_api):
    """Confirm an intent at the emulator directly, as Stripe.js does in the customer's
    browser: the server hears of it only from the webhook (or reconciliation)."""

    async def confirm(intent_id: str, payment_method: str = "pm_card_visa") -> dict:
        await stripe_api.payment_intents.update_async(intent_id, {"payment_method": payment_method})
        try:
            confirmed = await stripe_api.payment_intents.confirm_async(intent_id)
        except stripe.CardError:
            confirmed = await stripe_api.payment_intents.retrieve_async(intent_id)
        return confirmed.to_dict()

    return confirm
