"""Finding 8: CORS preflights (OPTIONS) never count against rate limits."""

import pytest

from app.core.ratelimit import RateLimitBucket

LOGIN = "/api/v1/auth/login"
PREFLIGHT = {"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"}


@pytest.fixture
def settings_overrides():
    return {"RATE_LIMIT_LOGIN_PER_MINUTE": 2}


async def test_preflights_do_not_use_up_the_limit(client):
    for _ in range(12):
        response = await client.options(LOGIN, headers=PREFLIGHT)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    assert await RateLimitBucket.count() == 0
    real = await client.post(LOGIN, json={"email": "a@example.com", "password": "Wrong-Pass-1"})
    assert real.status_code == 401


async def test_preflights_still_pass_when_the_limit_is_used_up(client):
    for n in range(3):
        await client.post(LOGIN, json={"email": f"u{n}@example.com", "password": "x"})
    response = await client.options(LOGIN, headers=PREFLIGHT)
    assert response.status_code == 200
