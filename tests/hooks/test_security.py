"""Webhook security: which URLs the shop may call (registration and delivery time, with a
fake resolver), the production settings, and secrets kept encrypted and never shown again."""

from __future__ import annotations

import httpx
import pytest
from pydantic import ValidationError

from app.hooks import secrets, urls
from app.hooks.models import WebhookDelivery, WebhookEndpoint
from app.hooks.service import create_endpoint, strict_urls
from app.hooks.worker import WebhookWorker
from config import Settings
from tests.core.test_config import LIVE_STRIPE, PRODUCTION
from tests.core.test_config import settings as bare_settings


def resolver_of(table: dict[str, list[str]]):
    asked: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        asked.append(host)
        if host not in table:
            raise OSError("no such host")
        return table[host]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


REFUSED = [
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "127.0.0.1",
    "127.8.8.8",
    "0.0.0.0",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd00:ec2::254",  # AWS metadata over IPv6
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
    "ff02::1",
]


@pytest.mark.parametrize("address", REFUSED)
async def test_strict_mode_refuses_every_non_public_address(address):
    resolve = resolver_of({"hooks.example": [address]})
    with pytest.raises(urls.UrlRefused, match="not a public address"):
        await urls.check("https://hooks.example/in", strict=True, resolver=resolve)
    literal = f"[{address}]" if ":" in address else address
    with pytest.raises(urls.UrlRefused):
        await urls.check(f"https://{literal}/in", strict=True, resolver=resolve)


async def test_one_private_address_among_public_ones_is_refused():
    resolve = resolver_of({"hooks.example": ["93.184.216.34", "10.0.0.7"]})
    with pytest.raises(urls.UrlRefused, match=r"10\.0\.0\.7"):
        await urls.check("https://hooks.example/in", strict=True, resolver=resolve)


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
async def test_strict_mode_takes_public_https(address):
    resolve = resolver_of({"hooks.example": [address]})
    found = await urls.check("https://hooks.example/in", strict=True, resolver=resolve)
    assert [str(a) for a in found] == [address]


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example/in",  # not https
        "ftp://hooks.example/in",
        "https://user:pw@hooks.example/in",
        "https:///in",
        "https://unknown.example/in",  # does not resolve
    ],
)
async def test_strict_mode_refuses_other_urls(url):
    with pytest.raises(urls.UrlRefused):
        await urls.check(url, strict=True, resolver=resolver_of({"hooks.example": ["8.8.8.8"]}))


async def test_outside_strict_mode_loopback_and_http_are_allowed():
    found = await urls.check("http://127.0.0.1:9000/in", strict=False, resolver=resolver_of({}))
    assert [str(a) for a in found] == ["127.0.0.1"]


def test_production_is_strict_and_refuses_to_allow_private_urls():
    production = bare_settings(**PRODUCTION, **LIVE_STRIPE)
    assert strict_urls(production)
    assert not strict_urls(bare_settings())  # development: loopback receivers for tests
    assert strict_urls(bare_settings(WEBHOOK_ALLOW_PRIVATE_URLS=False))
    with pytest.raises(ValidationError, match="WEBHOOK_ALLOW_PRIVATE_URLS"):
        bare_settings(**PRODUCTION, **LIVE_STRIPE, WEBHOOK_ALLOW_PRIVATE_URLS=True)


@pytest.mark.parametrize("key", ["short", "k" * 48])
def test_a_weak_secrets_key_or_one_equal_to_secret_key_is_refused(key):
    with pytest.raises(ValidationError, match="WEBHOOK_SECRETS_KEY"):
        bare_settings(SECRET_KEY="k" * 48, WEBHOOK_SECRETS_KEY=key)


async def test_registration_in_strict_mode_refuses_a_private_host(app, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    resolve = resolver_of({"internal.example": ["10.0.0.9"], "hooks.example": ["93.184.216.34"]})
    from app.errors import Invalid

    with pytest.raises(Invalid) as refused:
        await create_endpoint(
            url="https://internal.example/in",
            events=["order.paid"],
            description=None,
            settings=settings,
            resolver=resolve,
        )
    assert refused.value.code == "webhook_url_refused"
    assert await WebhookEndpoint.find({}).count() == 0
    _endpoint, secret = await create_endpoint(
        url="https://hooks.example/in",
        events=["order.paid"],
        description=None,
        settings=settings,
        resolver=resolve,
    )
    assert secret.startswith("whsec_")


async def test_the_route_refuses_private_urls_when_strict(client, admin, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    for url in ("https://127.0.0.1/in", "https://[::1]/in", "http://93.184.216.34/in"):
        response = await client.post(
            "/api/v1/admin/webhooks", json={"url": url, "events": ["order.paid"]}, headers=admin[1]
        )
        assert response.status_code == 422, url
        body = await response.get_json()
        assert body["code"] == "webhook_url_refused" and body["errors"][0]["loc"] == ["url"]
    assert await WebhookEndpoint.find({}).count() == 0


async def test_delivery_resolves_again_and_connects_only_to_the_checked_address(
    app, settings, placed_order
):
    """Registered while the host was public; by delivery time its DNS points inside (DNS
    rebinding): the worker refuses without connecting. Back to public: it connects to the
    address it checked, with the host name in Host and SNI, and follows no redirect."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.01
    settings.WEBHOOK_RETRY_MAX_SECONDS = 0.01
    table = {"hooks.example": ["93.184.216.34"]}
    await create_endpoint(
        url="https://hooks.example:8443/in",
        events=["order.created"],
        description=None,
        settings=settings,
        resolver=resolver_of(table),
    )
    await placed_order()
    sent: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(204)

    table["hooks.example"] = ["169.254.169.254"]
    worker = WebhookWorker(
        settings=settings, transport=httpx.MockTransport(answer), resolver=resolver_of(table)
    )
    [row] = await WebhookDelivery.find({}).to_list()
    await worker.dispatch()
    await worker.close()
    row = await WebhookDelivery.get(row.id)
    assert sent == []
    assert row.status == "pending" and "not a public address" in row.last_error

    table["hooks.example"] = ["93.184.216.34"]
    worker = WebhookWorker(
        settings=settings, transport=httpx.MockTransport(answer), resolver=resolver_of(table)
    )
    await worker.drain()
    [request] = sent
    assert str(request.url) == "https://93.184.216.34:8443/in"
    assert request.headers["host"] == "hooks.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.example"
    assert (await WebhookDelivery.get(row.id)).status == "delivered"


async def test_the_secret_is_shown_once_and_stored_encrypted(client, admin, settings):
    response = await client.post(
        "/api/v1/admin/webhooks",
        json={"url": "http://127.0.0.1:9/in", "events": ["order.paid"], "description": "ERP"},
        headers=admin[1],
    )
    assert response.status_code == 201
    created = await response.get_json()
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(secret) > 40
    for path in ("/api/v1/admin/webhooks", f"/api/v1/admin/webhooks/{created['id']}"):
        shown = await (await client.get(path, headers=admin[1])).get_data(as_text=True)
        assert secret not in shown and secret[6:] not in shown and "ciphertext" not in shown
    raw = await WebhookEndpoint.get_pymongo_collection().find_one({})
    assert secret[6:] not in str(raw)
    [stored] = raw["secrets"]
    assert secrets.decrypt(stored["ciphertext"], settings) == secret
    other = Settings(**{**settings.model_dump(), "WEBHOOK_SECRETS_KEY": "z" * 48})
    with pytest.raises(secrets.SecretUnreadable):
        secrets.decrypt(stored["ciphertext"], other)
    end = "AAAA" if not stored["ciphertext"].endswith("AAAA") else "BBBB"
    tampered = stored["ciphertext"][:-4] + end
    with pytest.raises(secrets.SecretUnreadable):
        secrets.decrypt(tampered, settings)


async def test_customers_cannot_see_webhooks(client, customer):
    for method, path in [
        ("get", "/api/v1/admin/webhooks"),
        ("post", "/api/v1/admin/webhooks"),
        ("get", "/api/v1/admin/reports/sales?from=2026-01-01&to=2026-01-31"),
    ]:
        if method == "post":
            response = await client.post(path, headers=customer[1], json={})
        else:
            response = await client.get(path, headers=customer[1])
        assert response.status_code == 403
