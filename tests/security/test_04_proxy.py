"""Finding 4: behind a reverse proxy the client address comes from X-Forwarded-For only when
TRUSTED_PROXY_HOPS says how many proxies to trust; otherwise the header is ignored."""

import pytest

from tests.support.settings import make_settings

LOGIN = "/api/v1/auth/login"
PROXY = ("10.0.0.1", 40000)


async def login_through_proxy(client, forwarded_for: str, n: int):
    return await client.post(
        LOGIN,
        json={"email": f"u{n}@example.com", "password": "Wrong-Pass-1"},
        headers={"X-Forwarded-For": forwarded_for},
        scope_base={"client": PROXY},
    )


def test_proxy_headers_are_off_by_default():
    assert make_settings().TRUSTED_PROXY_HOPS == 0


class TestBehindOneProxy:
    @pytest.fixture
    def settings_overrides(self):
        return {"TRUSTED_PROXY_HOPS": 1, "RATE_LIMIT_LOGIN_PER_MINUTE": 2}

    async def test_clients_behind_the_proxy_get_their_own_buckets(self, client):
        for n in range(2):
            assert (await login_through_proxy(client, "192.0.2.1", n)).status_code == 401
        assert (await login_through_proxy(client, "192.0.2.1", 2)).status_code == 429
        # Another client behind the same proxy is not limited by the first one's requests.
        assert (await login_through_proxy(client, "192.0.2.2", 3)).status_code == 401

    async def test_only_the_address_the_trusted_proxy_saw_counts(self, client):
        # A client cannot pick its address by sending its own X-Forwarded-For: the proxy
        # appends the real one, and that last entry is the one trusted.
        for n in range(2):
            spoofed = f"198.51.100.{n}, 192.0.2.1"
            assert (await login_through_proxy(client, spoofed, n)).status_code == 401
        assert (await login_through_proxy(client, "198.51.100.9, 192.0.2.1", 2)).status_code == 429

    async def test_the_access_log_records_the_client_address(self, client, caplog):
        caplog.set_level("INFO", logger="app.access")
        await client.get(
            "/health", headers={"X-Forwarded-For": "192.0.2.77"}, scope_base={"client": PROXY}
        )
        assert any('"remote": "192.0.2.77"' in r.getMessage() for r in caplog.records)


class TestDirect:
    @pytest.fixture
    def settings_overrides(self):
        return {"RATE_LIMIT_LOGIN_PER_MINUTE": 2}

    async def test_a_spoofed_header_is_ignored_when_no_proxy_is_trusted(self, client):
        for n in range(2):
            assert (await login_through_proxy(client, f"192.0.2.{n}", n)).status_code == 401
        assert (await login_through_proxy(client, "192.0.2.200", 2)).status_code == 429
