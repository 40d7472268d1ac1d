"""Known bugs of SecantusDB, the wire-protocol server `make test-wire` runs the suite on.

A test that fails only because of one of them carries `@pytest.mark.secantus_bug(BUG)` (or
`pytest.param(..., marks=pytest.mark.secantus_bug(BUG))`): tests/conftest.py turns that into
`xfail(strict=True)` when the server's buildInfo says SecantusDB, and into nothing anywhere
else, so the test still passes on the embedded engine and on MongoDB, and an xfail that starts
passing (the bug fixed) fails the run. Each reason is a one-line reproduction.
"""

# secantusdb 0.7.0b3
LTE_DROPS_BOUND = (
    "$lte drops its bound on a compound index: with index {status: 1, price: 1, _id: 1} and "
    "prices 1..5, find({status: 'a', price: {$lte: 3}}) returns prices [1, 2]"
)
PLANNER_SKIPS_PARTIAL_INDEX = (
    "the planner uses no index unless it holds every filtered field: with index "
    "{status: 1, created: -1, _id: -1}, find({status: 'a', stock: {$gt: 0}}) is a COLLSCAN"
)
SORTS_IN_MEMORY = (
    "a blocking SORT stage even when the index yields the order: with index "
    "{p: 1, created: -1, _id: -1}, find({p: 1}).sort({created: -1, _id: -1}) plans SORT over IXSCAN"
)
