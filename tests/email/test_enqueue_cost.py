"""Queueing an email is a constant, small amount of work (issue 16, checkout's CPU per flow):
the outbox row is written by the driver as `OutboxEmail` stores it, and a template is read
from disk once, not checked again on every render. Counts, never timings."""

from __future__ import annotations

import jinja2.loaders
import pytest

from app.email import service, templates
from app.email.models import OutboxEmail

CONTEXT = {"subject": "Hello", "body": "Body"}


def _types(row: dict) -> dict:
    return {name: type(value) for name, value in row.items()}


@pytest.fixture
def no_beanie_insert(monkeypatch):
    """Enqueueing must not go through Beanie's insert (a model built, validated and encoded
    for the dict the driver writes)."""

    def refuse(*args, **kwargs):
        raise AssertionError("the outbox row was written through a Beanie model")

    monkeypatch.setattr(OutboxEmail, "insert", refuse)
    monkeypatch.setattr(OutboxEmail, "insert_many", refuse)


async def test_enqueue_writes_the_row_beanie_would_write(app, no_beanie_insert, monkeypatch):
    row = await service.enqueue(to="a@example.com", kind="test", context=CONTEXT)
    assert isinstance(row, OutboxEmail) and row.status == "pending" and row.attempts == 0
    collection = OutboxEmail.get_pymongo_collection()
    stored = await collection.find_one({"_id": row.id})
    assert stored["subject"] == "Hello" and stored["text"].strip() == "Body"
    assert stored["created_at"] == stored["next_attempt_at"] == row.created_at

    monkeypatch.undo()  # the same email written by Beanie, to compare the documents
    by_beanie = OutboxEmail(
        to="b@example.com", kind="test", subject="Hello", text=stored["text"], html=None
    )
    await by_beanie.insert()
    reference = await collection.find_one({"_id": by_beanie.id})
    assert set(stored) == set(reference)
    assert _types(stored) == _types(reference)
    assert OutboxEmail.model_validate(stored) == row


async def test_enqueue_many_writes_one_row_each_without_beanie(app, no_beanie_insert):
    recipients = ["a@example.com", "b@example.com"]
    assert await service.enqueue_many(recipients=recipients, kind="test", context=CONTEXT) == 2
    rows = await OutboxEmail.get_pymongo_collection().find({}).to_list()
    assert sorted(r["to"] for r in rows) == recipients
    assert len({r["_id"] for r in rows}) == 2
    for row in rows:
        assert OutboxEmail.model_validate(row).status == "pending"


def test_a_template_is_not_checked_on_disk_again(monkeypatch):
    """Once loaded, a template is rendered from memory: no stat of its file per render (three
    templates an email, two emails a checkout flow)."""
    templates.render("test", CONTEXT)  # loaded (and compiled) once
    checks = []
    real = jinja2.loaders.os.path.getmtime

    def counting(path):
        checks.append(path)
        return real(path)

    monkeypatch.setattr(jinja2.loaders.os.path, "getmtime", counting)
    rendered = templates.render("test", CONTEXT)
    assert rendered.subject == "Hello"
    assert checks == []
