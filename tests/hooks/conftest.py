"""Webhook tests: real receivers on 127.0.0.1 (tests/support/webhook_receiver.py), the
checkout flow's fixtures, and a worker that the test drives round by round."""

from __future__ import annotations

import pytest

from app.hooks.worker import WebhookWorker
from tests.support.checkout import (  # noqa: F401
    checkout,
    fill_cart,
    pay,
    placed_order,
    stock,
)
from tests.support.webhook_receiver import Receiver


@pytest.fixture
def settings_overrides():
    return {
        "WEBHOOK_WORKER_ENABLED": False,  # the tests drive their own worker
        "WEBHOOK_RETRY_BASE_SECONDS": 0.01,
        "WEBHOOK_RETRY_MAX_SECONDS": 0.05,
        "WEBHOOK_TIMEOUT_SECONDS": 5,
        "WEBHOOK_MAX_ATTEMPTS": 4,
    }


@pytest.fixture
async def receivers():
    """`await receivers(answers=[500, 200])` -> a started Receiver; all stopped at the end."""
    started: list[Receiver] = []

    async def make(**fields) -> Receiver:
        receiver = await Receiver(**fields).start()
        started.append(receiver)
        return receiver

    yield make
    for receiver in started:
        await receiver.stop()


@pytest.fixture
def register(client, admin):
    """`await register(receiver, events=[...])` -> the created endpoint's body; the receiver
    learns its secret (it verifies every request with it)."""

    async def create(receiver: Receiver, *, events=None, **fields) -> dict:
        response = await client.post(
            "/api/v1/admin/webhooks",
            json={"url": receiver.url, "events": events or ["order.created"], **fields},
            headers=admin[1],
        )
        assert response.status_code == 201, await response.get_data(as_text=True)
        body = await response.get_json()
        receiver.secrets.append(body["secret"])
        return body

    return create


@pytest.fixture
async def worker(settings):
    made: list[WebhookWorker] = []

    def make(**kwargs) -> WebhookWorker:
        instance = WebhookWorker(settings=settings, **kwargs)
        made.append(instance)
        return instance

    yield make
    for instance in made:
        await instance.close()
