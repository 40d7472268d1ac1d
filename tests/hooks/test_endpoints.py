"""The admin's webhook endpoints: create, list, change, delete, rotate the secret."""

from __future__ import annotations

import re

import pytest

from app.core.clock import utcnow
from app.hooks.models import WebhookEndpoint
from app.hooks.worker import live_secrets


async def _create(client, admin, **body):
    body = {"url": "http://127.0.0.1:9/in", "events": ["order.paid"], **body}
    return await client.post("/api/v1/admin/webhooks", json=body, headers=admin[1])


async def test_create_list_get_update_delete(client, admin):
    response = await _create(
        client, admin, events=["order.paid", "order.paid", "product.stock_low"]
    )
    assert response.status_code == 201
    created = await response.get_json()
    assert created["events"] == ["order.paid", "product.stock_low"]
    assert created["enabled"] is True and created["secrets_in_use"] == 1
    listed = await (await client.get("/api/v1/admin/webhooks", headers=admin[1])).get_json()
    assert [item["id"] for item in listed["items"]] == [created["id"]]
    assert "secret" not in listed["items"][0]

    path = f"/api/v1/admin/webhooks/{created['id']}"
    response = await client.patch(
        path, json={"events": ["order.created"], "description": "Warehouse"}, headers=admin[1]
    )
    assert response.status_code == 200
    changed = await response.get_json()
    assert changed["events"] == ["order.created"] and changed["description"] == "Warehouse"
    assert changed["url"] == created["url"]

    assert (await client.delete(path, headers=admin[1])).status_code == 204
    assert (await client.get(path, headers=admin[1])).status_code == 404
    assert (await client.delete(path, headers=admin[1])).status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {"events": []},
        {"events": ["order.shipped"]},
        {"url": "not a url"},
        {"url": "ftp://example.com/x"},
        {"url": None},
        {"extra": 1},
    ],
)
async def test_bad_bodies_are_refused(client, admin, body):
    response = await _create(client, admin, **body)
    assert response.status_code == 422


# Whitespace and control characters of every kind: C0, space, DEL, C1 (NEL is whitespace to
# some regex engines only), no-break and other Unicode spaces, line and paragraph separators.
_UNPRINTABLE = ["\x00", "\x1f", " ", "\x7f", "\x84", "\x85", "\x9c", "\xa0", "\u2007", "\u2028"]


@pytest.mark.parametrize("char", _UNPRINTABLE)
async def test_the_documents_url_pattern_refuses_what_validation_refuses(client, admin, char):
    """Schemathesis drew a URL with U+0085 that the document allowed (`\\s` in its pattern:
    whitespace to pydantic's regex engine, not to the generator's) and validation refused."""
    document = await (await client.get("/openapi.json")).get_json()
    body = document["paths"]["/api/v1/admin/webhooks"]["post"]["requestBody"]
    pattern = body["content"]["application/json"]["schema"]["properties"]["url"]["pattern"]
    url = f"https://exa{char}mple.com/in"
    assert re.fullmatch(pattern, url) is None
    response = await _create(client, admin, url=url)
    assert response.status_code == 422
    assert (await response.get_json())["code"] == "validation_error"
    # and the same URL without it passes both
    assert re.fullmatch(pattern, "https://example.com/in")


async def test_patch_refuses_nulls_and_unknown_ids(client, admin):
    created = await (await _create(client, admin)).get_json()
    path = f"/api/v1/admin/webhooks/{created['id']}"
    for body in ({"url": None}, {"events": None}, {"enabled": None}, {"enabled": "yes"}):
        assert (await client.patch(path, json=body, headers=admin[1])).status_code == 422
    missing = "/api/v1/admin/webhooks/0123456789abcdef01234567"
    assert (
        await client.patch(missing, json={"enabled": True}, headers=admin[1])
    ).status_code == 404
    assert (await client.get(missing + "/deliveries", headers=admin[1])).status_code == 404
    redeliver = "/api/v1/admin/webhook-deliveries/0123456789abcdef01234567/redeliver"
    assert (await client.post(redeliver, headers=admin[1])).status_code == 404


async def test_rotation_signs_with_both_secrets_until_the_overlap_ends(
    client, admin, settings, receivers, placed_order, worker
):
    from tests.support.webhook_receiver import Receiver

    old_only: Receiver = await receivers()
    created = await (
        await _create(client, admin, url=old_only.url, events=["order.created"])
    ).get_json()
    old_secret = created["secret"]
    response = await client.post(
        f"/api/v1/admin/webhooks/{created['id']}/rotate-secret",
        json={"overlap_seconds": 3600},
        headers=admin[1],
    )
    assert response.status_code == 200
    rotated = await response.get_json()
    new_secret = rotated["secret"]
    assert new_secret != old_secret and rotated["secrets_in_use"] == 2

    old_only.secrets.append(old_secret)  # a receiver not switched over yet
    await placed_order()
    await worker().drain()
    [request] = old_only.requests
    assert request.verified
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    from standardwebhooks.webhooks import Webhook

    Webhook(new_secret).verify(request.body, request.headers)  # the switched-over receiver

    # With no overlap the old secrets stop signing at once.
    response = await client.post(
        f"/api/v1/admin/webhooks/{created['id']}/rotate-secret",
        json={"overlap_seconds": 0},
        headers=admin[1],
    )
    rotated_again = await response.get_json()
    assert rotated_again["secrets_in_use"] == 1
    endpoint = await WebhookEndpoint.get(created["id"])
    signing = live_secrets(endpoint, settings, now=utcnow())
    assert signing == [rotated_again["secret"]]
