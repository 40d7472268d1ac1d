"""db.transaction() and run_in_transaction() through Beanie documents (any engine)."""

import pytest
from pymongo.errors import OperationFailure

from app.core import db
from app.email.models import OutboxEmail


def _email(to: str) -> OutboxEmail:
    return OutboxEmail(to=to, kind="test", subject="s", text="t")


async def test_transaction_commits_beanie_writes(app):
    async with db.transaction() as session:
        await _email("a@x.test").insert(session=session)
        await _email("b@x.test").insert(session=session)
    assert await OutboxEmail.find_all().count() == 2


async def test_transaction_rolls_back_on_error(app):
    await _email("kept@x.test").insert()
    with pytest.raises(ValueError):
        async with db.transaction() as session:
            await _email("gone@x.test").insert(session=session)
            await OutboxEmail.find(OutboxEmail.to == "kept@x.test", session=session).update(
                {"$set": {"subject": "changed"}}, session=session
            )
            raise ValueError("boom")
    if not db.state.supports_transactions:
        pytest.skip("this server has no transactions")
    emails = await OutboxEmail.find_all().to_list()
    assert [(e.to, e.subject) for e in emails] == [("kept@x.test", "s")]


async def test_run_in_transaction_retries_transient_errors(app):
    attempts = []

    async def work(session):
        attempts.append(1)
        await _email(f"try{len(attempts)}@x.test").insert(session=session)
        if len(attempts) < 3:
            raise OperationFailure(
                "write conflict", code=112, details={"errorLabels": ["TransientTransactionError"]}
            )
        return "done"

    assert await db.run_in_transaction(work) == "done"
    assert len(attempts) == 3
    if db.state.supports_transactions:
        assert [e.to for e in await OutboxEmail.find_all().to_list()] == ["try3@x.test"]


async def test_run_in_transaction_does_not_retry_other_errors(app):
    attempts = []

    async def work(session):
        attempts.append(1)
        raise OperationFailure("bad query", code=2)

    with pytest.raises(OperationFailure):
        await db.run_in_transaction(work)
    assert len(attempts) == 1


async def test_ping(app):
    assert await db.ping() is True
