"""An Idempotency-Key's record is written with the driver, as `IdempotencyRecord` stores it
(issue 16, checkout's CPU per flow: a key is claimed twice a flow, order and pay). Counts the
models built, never timings."""

from __future__ import annotations

from beanie import PydanticObjectId

from app.core.idempotency import IdempotencyRecord, run_once


async def test_a_key_is_claimed_and_answered_without_building_a_record(app, monkeypatch):
    built = []
    real = IdempotencyRecord.__init__

    def counting(self, *args, **kwargs):
        built.append(kwargs)
        real(self, *args, **kwargs)

    monkeypatch.setattr(IdempotencyRecord, "__init__", counting)
    user_id = PydanticObjectId()
    runs = []

    async def work():
        runs.append(1)
        return {"ok": True}, 201

    assert await run_once(user_id=user_id, key="k1", request_fingerprint="f", work=work) == (
        {"ok": True},
        201,
        False,
    )
    # The same key again: the stored answer, the work not run twice.
    assert await run_once(user_id=user_id, key="k1", request_fingerprint="f", work=work) == (
        {"ok": True},
        201,
        True,
    )
    assert runs == [1]
    assert built == []

    monkeypatch.undo()
    collection = IdempotencyRecord.get_pymongo_collection()
    raw = await collection.find_one({"user_id": user_id, "key": "k1"})
    record = IdempotencyRecord.model_validate(raw)
    assert (record.state, record.status_code, record.body) == ("done", 201, {"ok": True})
    assert record.created_at <= record.locked_until < record.expires_at
    # The same fields, of the same types, as a record Beanie writes.
    await IdempotencyRecord(
        user_id=user_id,
        key="by-beanie",
        fingerprint="f",
        locked_until=record.locked_until,
        expires_at=record.expires_at,
        state="done",
        status_code=201,
        body={"ok": True},
    ).insert()
    by_beanie = await collection.find_one({"user_id": user_id, "key": "by-beanie"})
    assert set(raw) == set(by_beanie)
    assert {k: type(v) for k, v in raw.items()} == {k: type(v) for k, v in by_beanie.items()}


async def test_a_failed_attempt_releases_the_key(app):
    user_id = PydanticObjectId()

    async def failing():
        raise RuntimeError("boom")

    try:
        await run_once(user_id=user_id, key="k2", request_fingerprint="f", work=failing)
    except RuntimeError:
        pass
    collection = IdempotencyRecord.get_pymongo_collection()
    assert await collection.find_one({"user_id": user_id, "key": "k2"}) is None
