"""Every Beanie `Document` in app/ is registered with `init_beanie` (app.core.db's
DOCUMENT_MODELS): one left out has no collection settings or indexes, and fails only when
first used."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from beanie import Document

import app
from app.core import db


def documents_in_app() -> set[str]:
    """Dotted paths of the Document subclasses defined in app's modules (every module
    imported, so a model no other module imports yet is found too)."""
    found = set()
    for module_info in pkgutil.walk_packages(app.__path__, prefix="app."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Document) and cls.__module__ == module.__name__:
                found.add(f"{cls.__module__}.{cls.__qualname__}")
    return found


def test_every_document_is_registered():
    found = documents_in_app()
    registered = {
        model if isinstance(model, str) else f"{model.__module__}.{model.__qualname__}"
        for model in db.DOCUMENT_MODELS
    }
    assert found, "no Document subclass found in app/: the walk is broken"
    assert sorted(found - registered) == [], "add these to DOCUMENT_MODELS in app/core/db.py"
    assert sorted(registered - found) == [], "DOCUMENT_MODELS names models app/ does not define"
