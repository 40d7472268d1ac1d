"""The server entry points freeze what start-up made, after the start-up hooks have run."""

from __future__ import annotations

import ast
import gc
from pathlib import Path

import pytest

from app import create_app
from app.core.heap import THRESHOLDS, freeze_after_start
from app.seed import on_startup

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def unfrozen():
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()  # this test process keeps collecting what the frozen app held
    gc.set_threshold(*thresholds)


async def test_the_start_up_heap_is_frozen_after_the_seeding(settings, unfrozen, monkeypatch):
    seen_at_seeding = []

    async def seeding(settings):
        seen_at_seeding.append(gc.get_freeze_count())
        await on_startup(settings)

    monkeypatch.setattr("app.seed.on_startup", seeding)
    app = create_app(settings)
    freeze_after_start(app)
    gc.unfreeze()
    async with app.test_app():
        # The seeding ran with nothing frozen; what it made is frozen now, with the rest.
        assert seen_at_seeding == [0]
        assert gc.get_freeze_count() > 10_000
        assert gc.get_threshold() == THRESHOLDS


def test_the_deployments_entry_point_freezes_its_app_last():
    # Read, not imported: importing it builds an app from this process's environment (under
    # `make test-wire`, a MONGODB_URI without a SECRET_KEY, which production refuses).
    tree = ast.parse((ROOT / "wsgi.py").read_text())
    *_, made, frozen = tree.body
    assert ast.unparse(made) == "app = create_app()"
    assert ast.unparse(frozen) == "freeze_after_start(app)"
