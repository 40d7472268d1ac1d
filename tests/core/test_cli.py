"""`quart seed`, `quart create-admin` and `quart send-emails` (sync: each runs its own loop)."""

from app import create_app
from tests.support.settings import empty_real_database, make_settings


def run(*args, **overrides):
    settings = make_settings(**overrides)
    empty_real_database(settings)
    app = create_app(settings)
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_seed_command_loads_the_demo_catalog():
    output = run("seed")
    assert output.startswith("seeded:")
    assert "products" in output


def test_create_admin_command():
    output = run("create-admin", "--email", "Boss@Example.com", "--password", "Sturdy-Admin-Pass-9")
    assert "admin ready: boss@example.com" in output


def test_send_emails_once():
    assert "processed 0 email(s)" in run("send-emails", "--once")


def test_inventory_backfill_runs():
    assert "low-stock flag set on 0 product(s)" in run("inventory-backfill")


def test_variants_migrate_runs():
    assert "variants stored on 0 product(s)" in run("variants-migrate")


def test_openapi_command_writes_the_served_document(tmp_path):
    """The web app's types come from this file, so it must be the document the app serves."""
    import asyncio
    import json

    async def served_document(app):
        return await (await app.test_client().get("/openapi.json")).get_json()

    app = create_app(make_settings())
    target = tmp_path / "nested" / "openapi.json"
    result = app.test_cli_runner().invoke(args=["openapi", "--output", str(target)])
    assert result.exit_code == 0, result.output
    served = asyncio.run(served_document(app))
    assert json.loads(target.read_text()) == served
    assert "/api/v1/products" in served["paths"]
