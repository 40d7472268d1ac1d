"""The canary: the embedded engine's fast paths stand on mongomock-ng internals that only the
version pin protects. Each one is listed in app/core/memory/mongomock_edge.RELIED_ON; these
tests fail, naming it, when one disappears (an upgrade of mongomock-ng), and when the
package starts using a mongomock-ng internal that is not on the list."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import mongomock_ng

from app.core.memory import mongomock_edge
from app.core.memory.mongomock_edge import RELIED_ON

PACKAGE = Path(mongomock_edge.__file__).parent


def _resolve(where: str) -> object:
    """A module or a class by its dotted path."""
    module, _, name = where.rpartition(".")
    try:
        return importlib.import_module(where)
    except ModuleNotFoundError:
        return getattr(importlib.import_module(module), name)


def _instances() -> dict[str, object]:
    """One live object of each class whose instances are checked."""
    client = mongomock_ng.MongoClient()
    collection = client["canary"]["things"]
    collection.insert_one({"_id": 1})
    server = client._store
    database = server["canary"]
    return {
        "mongomock_ng.mongo_client.MongoClient": client,
        "mongomock_ng.collection.Collection": collection,
        "mongomock_ng.store.ServerStore": server,
        "mongomock_ng.store.DatabaseStore": database,
        "mongomock_ng.store.CollectionStore": database["things"],
    }


def test_every_mongomock_ng_internal_the_engine_relies_on_is_there():
    instances = _instances()
    missing = []
    for where, name, kind in RELIED_ON:
        try:
            owner = instances[where] if kind == "instance" else _resolve(where)
        except (ImportError, AttributeError, KeyError):
            missing.append(f"{where} (itself)")
            continue
        found = getattr(owner, name, None) if hasattr(owner, name) else None
        if not hasattr(owner, name) or (kind == "method" and not callable(found)):
            missing.append(f"{where}.{name} ({kind})")
    assert not missing, (
        f"mongomock-ng {mongomock_ng.__version__} no longer has what the embedded engine "
        f"(app/core/memory) relies on: {', '.join(missing)}. These are private to mongomock-ng: "
        "keep the version pinned in requirements.txt, or adapt the modules that use them (see "
        "mongomock_edge.RELIED_ON) and check with tests/core/test_memory_differential.py."
    )


def test_the_version_is_the_pinned_one():
    pins = (Path(__file__).parents[2] / "requirements.txt").read_text()
    [pinned] = re.findall(r"^mongomock-ng==(\S+)$", pins, re.MULTILINE)
    assert mongomock_ng.__version__ == pinned, (
        f"mongomock-ng {mongomock_ng.__version__} is installed, {pinned} pinned: the embedded "
        "engine relies on its internals (mongomock_edge.RELIED_ON); run the canary and the "
        "differential test on the new version before moving the pin"
    )


def test_every_private_mongomock_ng_name_the_package_uses_is_listed():
    """A private name (`._x`) in the package's source that mongomock-ng defines must be on the
    list, so the canary above watches it."""
    listed = {name for _, name, _ in RELIED_ON}
    owners = [*_instances().values()]
    owners += [_resolve(where) for where, _, kind in RELIED_ON if kind != "instance"]
    theirs = {name for owner in owners for name in dir(owner) if name.startswith("_")}
    unlisted = set()
    for path in PACKAGE.glob("*.py"):
        for name in re.findall(r"\.(_[A-Za-z]\w*)", path.read_text()):
            if not name.startswith("__") and name in theirs and name not in listed:
                unlisted.add(f"{name} ({path.name})")
    assert not unlisted, (
        f"app/core/memory uses mongomock-ng internals that mongomock_edge.RELIED_ON does not "
        f"list (the canary cannot watch them): {sorted(unlisted)}"
    )
