"""Every Beanie Document in app/ is in db.DOCUMENT_MODELS: a model left out gets neither its
collection settings nor its indexes at start, and its first query fails far from the cause."""

from __future__ import annotations

import importlib
import pkgutil

from beanie import Document

import app
from app.core import db


def _documents_defined_in_app() -> set[str]:
    for module in pkgutil.walk_packages(app.__path__, prefix="app."):
        importlib.import_module(module.name)
    found, todo = set(), list(Document.__subclasses__())
    while todo:
        model = todo.pop()
        todo.extend(model.__subclasses__())
        if model.__module__.startswith("app."):
            found.add(f"{model.__module__}.{model.__qualname__}")
    return found


def test_every_document_model_is_registered():
    defined = _documents_defined_in_app()
    assert defined, "no Document subclass found: the walk over app/ is broken"
    assert sorted(defined - set(db.DOCUMENT_MODELS)) == []


def test_every_registered_name_is_a_document_of_app():
    assert sorted(set(db.DOCUMENT_MODELS) - _documents_defined_in_app()) == []
