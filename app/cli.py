"""`quart seed`, `create-admin`, `send-emails` (the standalone email worker), `order-jobs`,
`payments-reconcile`, `inventory-backfill` and `variants-migrate` (upgrade steps) and
`openapi` (writes the OpenAPI document without a server or a database: the web app's types
are generated from it).

Run them with `QUART_APP=wsgi:app .venv/bin/quart <command>` (the Makefile does).
"""

from __future__ import annotations

import asyncio
import json
import signal
from pathlib import Path

import click
from quart import Quart

from app.core import db


def _plain_name(context, parameter, value: str) -> str:
    """The rule every name the API takes follows (plain text, one line)."""
    from pydantic import TypeAdapter, ValidationError

    from app.auth.schemas import Name

    try:
        return TypeAdapter(Name).validate_python(value)
    except ValidationError as error:
        raise click.BadParameter(error.errors()[0]["msg"]) from None


def register_commands(app: Quart) -> None:
    settings = app.config["SETTINGS"]

    async def _with_db(work):
        from app import open_database
        from app.payments.gateway import close_gateway

        await open_database(app, settings)
        try:
            async with app.app_context():
                return await work()
        finally:
            await close_gateway(app)
            await db.close_db(app)

    @app.cli.command("openapi")
    @click.option(
        "--output",
        "-o",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the document to this file (default: standard output).",
    )
    def openapi_command(output: Path | None) -> None:
        """Write the OpenAPI document that GET /openapi.json serves (no server, no database)."""

        async def fetch() -> dict:
            response = await app.test_client().get("/openapi.json")
            if response.status_code != 200:
                raise click.ClickException(f"/openapi.json answered {response.status_code}")
            return await response.get_json()

        text = json.dumps(asyncio.run(fetch()), indent=2, sort_keys=True) + "\n"
        if output is None:
            click.echo(text, nl=False)
            return
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text, encoding="utf-8")
        click.echo(f"OpenAPI document written to {output}", err=True)

    @app.cli.command("seed")
    def seed_command() -> None:
        """Load the demo catalog (idempotent)."""
        from app.seed import seed_demo

        result = asyncio.run(_with_db(lambda: seed_demo(settings)))
        click.echo(f"seeded: {result}")

    @app.cli.command("create-admin")
    @click.option("--email", prompt=True)
    @click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
    @click.option("--name", default="Administrator", callback=_plain_name)
    def create_admin_command(email: str, password: str, name: str) -> None:
        """Create an admin, or promote an existing user to admin."""
        from app.auth.service import ensure_admin

        user = asyncio.run(
            _with_db(lambda: ensure_admin(email=email, password=password, name=name))
        )
        click.echo(f"admin ready: {user.email}")

    @app.cli.command("inventory-backfill")
    def inventory_backfill_command() -> None:
        """Flag low stock on products stored before the flag existed (idempotent)."""
        from app.inventory.stock import backfill_low_stock_flags

        changed = asyncio.run(_with_db(backfill_low_stock_flags))
        click.echo(f"low-stock flag set on {changed} product(s)")

    @app.cli.command("variants-migrate")
    def variants_migrate_command() -> None:
        """Store the one variant of products stored before variants (idempotent)."""
        from app.inventory.stock import migrate_variants

        changed = asyncio.run(_with_db(migrate_variants))
        click.echo(f"variants stored on {changed} product(s)")

    @app.cli.command("send-emails")
    @click.option("--once", is_flag=True, help="Send what is due now, then exit.")
    def send_emails_command(once: bool) -> None:
        """Run the outbox sender in the foreground (Ctrl-C stops it)."""
        from app.email.backends import backend_from_settings
        from app.email.sender import EmailSender

        async def work():
            sender = EmailSender(backend=backend_from_settings(settings), settings=settings)
            if once:
                return await sender.process_due(limit=10_000)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await sender.run(stop)

        result = asyncio.run(_with_db(work))
        if once:
            click.echo(f"processed {result} email(s)")

    @app.cli.command("order-jobs")
    @click.option("--once", is_flag=True, help="Run one round (expiry, refund retries), then exit.")
    def order_jobs_command(once: bool) -> None:
        """Run the orders' background jobs in the foreground (Ctrl-C stops them)."""
        from app.orders import jobs

        async def work():
            if once:
                return await jobs.run_once(settings)
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await jobs.run(stop, settings)

        result = asyncio.run(_with_db(work))
        if once:
            click.echo(f"order jobs: {result}")

    @app.cli.command("payments-reconcile")
    @click.option(
        "--older-than",
        type=click.IntRange(min=0),
        default=None,
        help="Seconds since checkout (default PAYMENT_RECONCILE_AFTER_SECONDS).",
    )
    def payments_reconcile_command(older_than: int | None) -> None:
        """Ask the payment provider about orders still awaiting payment, and apply it."""
        from app.orders.provider_events import reconcile_payments

        seconds = settings.PAYMENT_RECONCILE_AFTER_SECONDS if older_than is None else older_than
        result = asyncio.run(
            _with_db(lambda: reconcile_payments(older_than_seconds=seconds, limit=10_000))
        )
        click.echo(f"payments reconciled: {result}")
