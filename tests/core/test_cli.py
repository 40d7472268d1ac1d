"""`quart seed`, `quart create-admin` and `quart send-emails` (sync: each runs its own loop)."""

from app import create_app
from tests.conftest import empty_real_database, make_settings


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
