"""The outbox and its sender against a real SMTP server on 127.0.0.1."""

import asyncio
import logging
from datetime import timedelta

import pytest

from app.core.clock import utcnow
from app.email import sender as sender_module
from app.email import service
from app.email.backends import ConsoleBackend, backend_from_settings
from app.email.models import OutboxEmail
from app.email.sender import EmailSender


def make_sender(settings, **kwargs) -> EmailSender:
    return EmailSender(backend=backend_from_settings(settings), settings=settings, **kwargs)


async def queue(n: int, prefix: str = "shopper") -> list[OutboxEmail]:
    return [
        await service.enqueue(
            to=f"{prefix}{i}@example.com",
            kind="test",
            context={"subject": f"Hello {i}", "body": f"Body {i}"},
        )
        for i in range(n)
    ]


async def statuses() -> dict[str, str]:
    return {e.to: e.status for e in await OutboxEmail.find_all().to_list()}


async def test_enqueue_does_not_send_and_sender_delivers(app, settings, smtp_server):
    [row] = await queue(1)
    assert row.status == "pending" and smtp_server.inbox.messages == []
    assert await make_sender(settings).process_due() == 1
    [message] = smtp_server.inbox.messages
    assert message["To"] == "shopper0@example.com"
    assert message["Subject"] == "Hello 0"
    assert message["From"] == "Shop <shop@example.com>"
    assert message["Message-ID"] == f"<{row.id}@outbox.shop>"
    assert message.get_body(("plain",)).get_content().strip() == "Body 0"
    stored = await OutboxEmail.get(row.id)
    assert stored.status == "sent" and stored.sent_at is not None and stored.attempts == 1


async def test_smtp_outage_then_every_email_arrives_exactly_once(
    app, settings, smtp_server, monkeypatch
):
    await queue(5)
    # A backoff no database is slow enough to outlast: the retries fall due when the test moves
    # the sender's clock past it, not when the wall clock happens to.
    sender = make_sender(settings.model_copy(update={"EMAIL_RETRY_BASE_SECONDS": 600}))
    smtp_server.stop()

    assert await sender.process_due() == 5
    rows = await OutboxEmail.find_all().to_list()
    assert {r.status for r in rows} == {"pending"}
    assert all(r.attempts == 1 and r.last_error for r in rows)
    assert all(r.next_attempt_at > utcnow() for r in rows), "retries wait for their backoff"
    assert await sender.process_due() == 0, "nothing is due before the backoff"

    smtp_server.start()
    later = utcnow() + timedelta(hours=1)  # past the longest first backoff (600 s + 20 %)
    monkeypatch.setattr(sender_module, "utcnow", lambda: later)
    assert await sender.process_due() == 5
    assert set((await statuses()).values()) == {"sent"}
    arrived = sorted(m["To"] for m in smtp_server.inbox.messages)
    assert arrived == [f"shopper{i}@example.com" for i in range(5)]
    assert await sender.process_due() == 0
    assert len(smtp_server.inbox.messages) == 5


async def test_two_senders_never_send_the_same_row(app, settings, smtp_server):
    await queue(12)
    first, second = make_sender(settings), make_sender(settings)
    claimed = await asyncio.gather(first.process_due(), second.process_due())
    assert sum(claimed) == 12
    assert sorted(m["To"] for m in smtp_server.inbox.messages) == sorted(
        f"shopper{i}@example.com" for i in range(12)
    )


async def test_permanent_refusal_is_dead_lettered_at_once(app, settings, smtp_server, caplog):
    await service.enqueue(
        to="reject-me@example.com", kind="test", context={"subject": "s", "body": "b"}
    )
    with caplog.at_level(logging.ERROR, logger="app.email"):
        await make_sender(settings).process_due()
    [row] = await OutboxEmail.find_all().to_list()
    assert row.status == "failed" and row.attempts == 1
    assert "550" in row.last_error
    assert any(
        "FAILED" in r.message and "reject-me@example.com" in r.message for r in caplog.records
    )


@pytest.mark.parametrize("max_attempts", [1, 3])
async def test_last_attempt_marks_failed(app, settings, smtp_server, max_attempts):
    sender = make_sender(settings.model_copy(update={"EMAIL_MAX_ATTEMPTS": max_attempts}))
    smtp_server.stop()
    await queue(1)
    for _ in range(200):
        await sender.process_due()
        [row] = await OutboxEmail.find_all().to_list()
        if row.status == "failed":
            break
        await asyncio.sleep(0.02)
    assert row.status == "failed"
    assert row.attempts == max_attempts


async def test_a_lapsed_lease_is_taken_over(app, settings, smtp_server):
    [row] = await queue(1)
    dead = make_sender(settings, worker_id="dead-worker")
    claimed = await dead.claim()
    assert claimed.id == row.id and claimed.status == "sending"
    live = make_sender(settings, worker_id="live-worker")
    assert await live.claim() is None, "a held lease is respected"

    await OutboxEmail.get_pymongo_collection().update_one(
        {"_id": row.id}, {"$set": {"lease_expires_at": utcnow() - timedelta(seconds=1)}}
    )
    assert await live.process_due() == 1
    assert len(smtp_server.inbox.messages) == 1
    # The dead worker coming back cannot settle a row it no longer holds.
    await dead.deliver(claimed)
    assert (await OutboxEmail.get(row.id)).lease_owner is None
    assert (await OutboxEmail.get(row.id)).status == "sent"


async def test_enqueue_joins_a_transaction(app):
    from app.core import db

    if not db.get_db().supports_transactions:
        pytest.skip("this server has no transactions")
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await service.enqueue(
                to="x@example.com",
                kind="test",
                context={"subject": "s", "body": "b"},
                session=session,
            )
            raise RuntimeError("the change that caused the email failed")
    assert await OutboxEmail.find_all().count() == 0


async def test_background_worker_started_with_the_app(smtp_server, settings):
    from app import create_app

    app = create_app(
        settings.model_copy(update={"EMAIL_WORKER_ENABLED": True, "EMAIL_POLL_SECONDS": 0.05})
    )
    async with app.test_app():
        from app.core import db

        await db.drop_all_collections(app)
        await queue(2, prefix="worker")
        for _ in range(100):
            if len(smtp_server.inbox.messages) == 2:
                break
            await asyncio.sleep(0.05)
    assert sorted(m["To"] for m in smtp_server.inbox.messages) == [
        "worker0@example.com",
        "worker1@example.com",
    ]


async def test_console_backend_when_no_smtp_is_configured(settings, caplog):
    backend = backend_from_settings(settings.model_copy(update={"SMTP_HOST": None}))
    assert isinstance(backend, ConsoleBackend)
    from app.email.backends import build_message

    message = build_message(
        sender="a@b.c",
        to="c@d.e",
        subject="Hi",
        text="the body",
        html="<p>x</p>",
        message_id="<1@x>",
    )
    with caplog.at_level(logging.INFO, logger="app.email"):
        await backend.send(message)
    assert any("c@d.e" in r.message and "the body" in r.message for r in caplog.records)


async def test_html_part_is_optional_but_sent_when_present(app, settings, smtp_server):
    from app.email.backends import build_message

    message = build_message(
        sender="a@b.c",
        to="c@d.e",
        subject="Hi",
        text="plain",
        html="<p>rich</p>",
        message_id="<2@x>",
    )
    await backend_from_settings(settings).send(message)
    [received] = smtp_server.inbox.messages
    assert received.get_body(("plain",)).get_content().strip() == "plain"
    assert "rich" in received.get_body(("html",)).get_content()
