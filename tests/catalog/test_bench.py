"""The benchmark driver still runs (no timing asserted: that is what `make bench` is for)."""

from bench.__main__ import SCENARIOS, run, table


async def test_bench_runs_every_scenario():
    results = await run(requests=2, warmup=0)
    assert [r.name for r in results] == [name for name, _, _ in SCENARIOS]
    assert all(r.items >= 1 and r.max_ms >= r.p50_ms > 0 for r in results)
    assert len(table(results).splitlines()) == len(SCENARIOS) + 3
