"""The embedded engine: an async facade over mongomock-ng that Beanie accepts.

It mirrors the slice of PyMongo's async API that Beanie and our services use, so the same code
runs on it and on a real replica set.

Transaction semantics (see tests/core/test_memory.py):
- mongomock-ng keeps one snapshot per collection, not per session, so two interleaved
  transactions could wipe each other's writes. The facade therefore serialises them: a single
  gate is held from `start_transaction()` until commit or abort.
- Operations outside the running transaction (no session, or a session that is not in it)
  wait for the gate, so they never see uncommitted writes and cannot be rolled back by
  somebody else's abort. Inside a transaction every operation must pass `session=`: doing
  otherwise from the task that holds the gate would wait on itself forever, so the facade
  raises `TransactionMisuse` instead. A real server needs `session=` there for correctness too.
- An operation that waits longer than `gate.GATE_TIMEOUT_SECONDS` for the gate raises
  `TransactionWaitTimeout` (PyMongo's ExecutionTimeout, and a TimeoutError).

Modules, one concern each:
- facade.py: MemoryClient / MemoryDatabase / MemoryCollection / MemorySession / MemoryCursor,
  and the one switch for the fast paths (`MemoryClient(fast_paths=...)`);
- gate.py: the transaction gate and its errors;
- store.py: the collection store the fast paths keep (copy-on-write transaction snapshots,
  unique-index and equality maps, the TTL heap, remembered results);
- query.py: find / count / bulk load over that store;
- collection.py: mongomock-ng's collection class with the fast paths;
- walks.py: the copy a query returns, and the faster stand-ins for mongomock-ng's walks;
- mongomock_edge.py: every mongomock-ng internal relied on, in one place (RELIED_ON), typed.
"""

from app.core.memory.facade import (
    MemoryClient,
    MemoryCollection,
    MemoryCursor,
    MemoryDatabase,
    MemorySession,
)
from app.core.memory.gate import (
    GATE_TIMEOUT_SECONDS,
    Gate,
    TransactionMisuse,
    TransactionWaitTimeout,
)

__all__ = [
    "GATE_TIMEOUT_SECONDS",
    "Gate",
    "MemoryClient",
    "MemoryCollection",
    "MemoryCursor",
    "MemoryDatabase",
    "MemorySession",
    "TransactionMisuse",
    "TransactionWaitTimeout",
]
