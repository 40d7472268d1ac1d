"""Finding 12: a path with `//` never answers with a redirect whose absolute URL is built
from the (client-controlled) Host header."""

import pytest
from quart import Blueprint

from app import create_app
from tests.support.settings import make_settings


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1//products",
        "/api/v1/products//",
        "//api/v1/products",
        "//evil.example/",
        "/health//",
    ],
)
async def test_double_slashes_are_a_problem_404(client, path):
    response = await client.get(path, headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
    assert "Location" not in response.headers


async def test_a_slash_redirect_is_relative():
    """Should any route end with `/`, its redirect (werkzeug's strict slashes) stays relative."""
    app = create_app(make_settings())
    probe = Blueprint("probe", __name__)

    @probe.get("/probe/")
    async def with_slash():
        return {"ok": True}

    app.register_blueprint(probe)
    async with app.test_app():
        response = await app.test_client().get("/probe?x=1", headers={"Host": "evil.example"})
    assert response.status_code == 308
    assert response.headers["Location"] == "/probe/?x=1"
