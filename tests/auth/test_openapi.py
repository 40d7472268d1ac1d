"""The OpenAPI document describes every account route: summary, schemas, bearer scheme."""

import pytest

ROUTES = [
    ("post", "/api/v1/auth/register", False),
    ("post", "/api/v1/auth/verify-email", False),
    ("post", "/api/v1/auth/resend-verification", False),
    ("post", "/api/v1/auth/login", False),
    ("post", "/api/v1/auth/refresh", False),
    ("post", "/api/v1/auth/logout", True),
    ("post", "/api/v1/auth/forgot-password", False),
    ("post", "/api/v1/auth/reset-password", False),
    ("get", "/api/v1/users/me", True),
    ("patch", "/api/v1/users/me", True),
    ("post", "/api/v1/users/me/password", True),
    ("get", "/api/v1/users/me/addresses", True),
    ("post", "/api/v1/users/me/addresses", True),
    ("patch", "/api/v1/users/me/addresses/{address_id}", True),
    ("delete", "/api/v1/users/me/addresses/{address_id}", True),
    ("get", "/api/v1/admin/users", True),
    ("patch", "/api/v1/admin/users/{user_id}", True),
]


@pytest.fixture
async def spec(client):
    return await (await client.get("/openapi.json")).get_json()


@pytest.mark.parametrize("method, path, secured", ROUTES)
async def test_route_is_documented(spec, method, path, secured):
    operation = spec["paths"][path][method]
    assert operation["summary"]
    assert bool(operation.get("security")) == secured
    if secured:
        assert operation["security"] == [{"bearerAuth": []}]
        assert "401" in operation["responses"]
    if method in ("post", "patch"):  # every one of them takes a JSON body
        assert operation["requestBody"]["required"] is True
    success = [status for status in operation["responses"] if status.startswith("2")]
    assert len(success) == 1


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/login",
        "/api/v1/auth/register",
        "/api/v1/auth/refresh",
        "/api/v1/auth/forgot-password",
        "/api/v1/auth/resend-verification",
    ],
)
async def test_limited_routes_document_429(spec, path):
    assert "429" in spec["paths"][path]["post"]["responses"]


async def test_no_schema_exposes_the_password_hash(spec):
    assert "password_hash" not in str(spec)
