"""Health, docs and the problem+json error paths."""

import asyncio
import json
import logging

import pytest

PROBLEM = "application/problem+json"


async def test_health(client):
    response = await client.get("/health")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}


async def test_ready_when_database_answers(client):
    from app.catalog import search
    from app.core import db

    response = await client.get("/ready")
    assert response.status_code == 200
    # Which product search is in force: regex on the embedded engine and on servers without
    # text indexes, text on MongoDB.
    assert await response.get_json() == {"status": "ok", "search": search.mode()}
    assert search.mode() == "regex" or not db.get_db().embedded


async def test_ready_is_503_when_database_does_not_answer(client, monkeypatch):
    from app.core import db

    async def broken(*args, **kwargs):
        raise OSError("connection refused")

    monkeypatch.setattr(db.get_db().database, "command", broken)
    response = await client.get("/ready")
    assert response.status_code == 503
    assert response.content_type == PROBLEM
    assert (await response.get_json())["code"] == "service_unavailable"


async def test_unknown_route_is_problem_404(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.content_type == PROBLEM
    body = await response.get_json()
    assert body["status"] == 404 and body["code"] == "not_found"
    assert set(body) >= {"type", "title", "status", "detail", "code"}


async def test_wrong_method_is_problem_405_with_allow(client):
    response = await client.delete("/health")
    assert response.status_code == 405
    assert response.content_type == PROBLEM
    assert "GET" in response.headers["Allow"]
    assert (await response.get_json())["code"] == "method_not_allowed"


async def test_request_id_is_generated_and_echoed(client):
    generated = await client.get("/health")
    assert len(generated.headers["X-Request-ID"]) >= 16
    echoed = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"


async def test_unexpected_exception_is_500_without_internals(app, client):
    @app.get("/boom")
    async def boom():
        raise RuntimeError("secret internals: password=hunter2")

    response = await client.get("/boom")
    assert response.status_code == 500
    assert response.content_type == PROBLEM
    text = await response.get_data(as_text=True)
    assert "hunter2" not in text and "RuntimeError" not in text
    assert (await response.get_json())["code"] == "internal_error"


async def test_cors_preflight_allows_configured_origin(client):
    response = await client.options(
        "/health",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "GET"},
    )
    assert response.headers.get("Access-Control-Allow-Origin") == "http://localhost:3000"


async def test_cors_ignores_other_origins(client):
    response = await client.get("/health", headers={"Origin": "http://evil.test"})
    assert "Access-Control-Allow-Origin" not in response.headers


async def test_openapi_document(client):
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    spec = await response.get_json()
    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] == "Shop API"
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert {t["name"] for t in spec["tags"]} >= {"health", "auth", "catalog", "admin"}
    assert "/health" in spec["paths"] and "/ready" in spec["paths"]


async def test_docs_page_and_its_assets_are_served_locally(client):
    page = await client.get("/docs")
    assert page.status_code == 200
    html = await page.get_data(as_text=True)
    assert "/docs-assets/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    for asset in ("/docs-assets/swagger-ui-bundle.js", "/docs-assets/swagger-ui.css"):
        response = await client.get(asset)
        assert response.status_code == 200, asset


@pytest.mark.parametrize(
    "body, content_type, status, code",
    [
        (b'{"email": ', "application/json", 400, "malformed_json"),
        (b"\xff\xfe\xfa", "application/json", 400, "malformed_json"),
        (b"email=a", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        (b"[1, 2]", "application/json", 422, "validation_error"),
        (b"{}", "application/json", 422, "validation_error"),
        (b'{"to": "a@b.c", "unknown": 1}', "application/json", 422, "validation_error"),
        (b'{"to": "a\\u0000b"}', "application/json", 422, "validation_error"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", 400, "malformed_json"),
        (b'{"to": ' * 5000 + b"1" + b"}" * 5000, "application/json", 400, "malformed_json"),
        (b'{"to": ' + b"9" * 5000 + b"}", "application/json", 400, "malformed_json"),
    ],
)
async def test_bad_bodies_are_problems(app, client, body, content_type, status, code):
    from quart_schema import validate_request

    from app.core.schemas import InModel

    class Body(InModel):
        to: str

    @app.post("/echo")
    @validate_request(Body)
    async def echo(data: Body):
        return {"to": data.to}

    response = await client.post("/echo", data=body, headers={"Content-Type": content_type})
    assert response.status_code == status
    assert response.content_type == PROBLEM
    problem = await response.get_json()
    assert problem["code"] == code
    assert "sys." not in problem["detail"], "no interpreter internals in the answer"
    if status == 422:
        assert isinstance(problem["errors"], list) and problem["errors"]
        assert {"loc", "msg"} <= set(problem["errors"][0])


async def test_body_too_large_is_413(app, client):
    @app.post("/sink")
    async def sink():
        from quart import request

        await request.get_data()
        return {}

    payload = json.dumps({"to": "x" * (2 * 1024 * 1024)})
    response = await client.post(
        "/sink", data=payload, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.content_type == PROBLEM
    assert (await response.get_json())["code"] == "payload_too_large"


async def test_one_structured_access_log_line_per_request(client, caplog):
    with caplog.at_level(logging.INFO, logger="app.access"):
        await client.get("/health", headers={"X-Request-ID": "trace-1"})
    lines = [json.loads(r.message) for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "trace-1"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/health", 200)
    assert isinstance(line["duration_ms"], float)


async def test_no_access_log_line_is_built_when_info_is_off(client, monkeypatch):
    """Above INFO (the bench's and many deployments' LOG_LEVEL) the line is not built only to
    be dropped: issue 16, a constant cost of every request."""
    from app import access_log

    built = []
    monkeypatch.setattr(access_log, "info", lambda *args, **kwargs: built.append(args))
    level = access_log.level
    access_log.setLevel(logging.WARNING)
    try:
        response = await client.get("/health", headers={"X-Request-ID": "trace-2"})
    finally:
        access_log.setLevel(level)
    assert response.status_code == 200 and response.headers["X-Request-ID"] == "trace-2"
    assert built == []


async def test_no_secrets_in_logs(client, caplog):
    password = "Very-Secret-Pass-991"
    with caplog.at_level(logging.DEBUG):
        await client.post(
            "/api/v1/auth/register",
            json={"email": "logs@example.com", "password": password, "name": "Logs"},
        )
        login = await client.post(
            "/api/v1/auth/login", json={"email": "logs@example.com", "password": password}
        )
        token = (await login.get_json())["access_token"]
        await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
    assert login.status_code == 200
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert password not in text
    assert token not in text


async def test_deeply_nested_json_on_a_rate_limited_route_is_400(client):
    body = b'{"email": ' * 5000 + b"1" + b"}" * 5000
    response = await client.post(
        "/api/v1/auth/login", data=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert (await response.get_json())["code"] == "malformed_json"


async def test_no_content_answers_carry_no_content_type(app):
    @app.delete("/nothing")
    async def nothing():
        return "", 204

    # Straight through ASGI: the test client would add a default Content-Type of its own.
    sent: list[dict] = []
    finished = asyncio.Event()
    requested = False

    async def receive():
        nonlocal requested
        if not requested:
            requested = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await finished.wait()  # the client stays connected until the answer is complete
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            finished.set()

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "DELETE",
        "scheme": "http", "path": "/nothing", "raw_path": b"/nothing", "query_string": b"",
        "root_path": "", "headers": [(b"host", b"test")], "client": ("127.0.0.1", 1),
        "server": ("test", 80), "extensions": {},
    }  # fmt: skip
    await app(scope, receive, send)
    start = sent[0]
    assert start["status"] == 204
    assert b"content-type" not in {name.lower() for name, _ in start["headers"]}


async def test_ready_documents_its_503(client):
    spec = await (await client.get("/openapi.json")).get_json()
    assert "503" in spec["paths"]["/ready"]["get"]["responses"]
