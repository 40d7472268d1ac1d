"""The benchmark's own pieces (no load here: `make bench` runs that; no timing asserted)."""

from app.catalog.models import Product
from bench.catalog import seed_products
from bench.harness import Result
from bench.report import FlatRun, Run, SizeRun, render


async def test_synthetic_catalog_is_seeded_in_batches_and_searchable(client, monkeypatch):
    from app.inventory.demo import seed_demo_catalog

    monkeypatch.setattr("bench.catalog.SEED_BATCH", 128)  # 300 products: 3 batches
    await seed_demo_catalog()
    demo = await Product.count()
    assert await seed_products(300) == 300
    assert await Product.count() == demo + 300
    body = await (await client.get("/api/v1/products", query_string={"per_page": 5})).get_json()
    assert body["total"] == demo + 300 and len(body["items"]) == 5
    found = await (await client.get("/api/v1/products", query_string={"q": "jacket"})).get_json()
    assert found["total"] > 0


def _result(name, rps, p50=1.0):
    return Result(name=name, requests=int(rps * 4), seconds=4.0, p50_ms=p50, p99_ms=p50 * 3)


def _chunk(name, rps, count):
    return Result(name=name, requests=count, seconds=count / rps, p50_ms=1.0, p99_ms=3.0)


def test_report_states_every_target_and_its_verdict():
    demo = SizeRun("demo", 32, [_result("bare route", 1000), _result("product list", 400)])
    demo.uncached = [_result("product list", 200, p50=4.0)]
    big = SizeRun("10,000", 10_000, [_result("bare route", 1000), _result("product list", 900)])
    big.uncached = [
        _result("product list", 20, p50=40.0),
        _result("product list, facets", 18, p50=44.0),
    ]
    big.peak_rss_mb = 250
    run = Run(seconds=4, connections=16, sizes=[demo, big])
    run.health_idle, run.health_busy = _result("/health idle", 900), _result("busy", 800, 1.5)
    run.health_logins = Result("16 concurrent logins", skipped="not run")
    text = render(run)
    assert "lowest: product list, 40% | **missed**" in text
    assert "40.00 ms uncached (4.00 ms with demo)" in text and "| **missed** |" in text
    assert "| 250 MB | met |" in text
    assert "44.00 ms vs 40.00 ms uncached (1.1×;" in text
    assert "(1.5×) | met |" in text
    assert "| product list | 900 | 1.00 | 3.00 | 0.90 | 0 |" in text


def _writes(label, products, add, checkout, *, wire=False):
    size = SizeRun(label, products, [_result("bare route", 1000)], wire=wire)
    size.results += [_result("add to cart", add), _result("checkout", checkout, p50=8.0)]
    size.results[-1].server_cpu_ms = 9.5
    return size


def test_report_states_the_write_targets_and_both_engines_side_by_side():
    run = Run(seconds=4, connections=16)
    run.sizes = [_writes("demo", 32, 300, 120), _writes("10,000", 10_032, 255, 90)]
    run.creation = [_chunk("products 1-1,000", 100, 1000), _chunk("products 4,001-5,000", 95, 1000)]
    run.creation[0].server_cpu_ms, run.creation[1].server_cpu_ms = 2.0, 2.1
    run.wire = [_writes("demo", 32, 60, 20, wire=True)]
    text = render(run)
    assert (
        "| add to cart at 10,000 products ≥ 90% of demo | 255 req/s vs 300 (85%) | **missed** |"
        in text
    )
    assert (
        "| checkout ≥ 100/s at 10,000 products (one worker) | 90/s, p50 8.0 ms | **missed** |"
        in text
    )
    assert (
        "| product creation flat over 2,000: the last 1,000 ≥ 90% of the first 1,000 (median "
        "chunk of 1,000) | 100/s first, 95/s last (95%), 97/s on average; server CPU per "
        "product 2.00 ms first, 2.10 ms last | met |" in text
    )
    assert "The server's CPU time per product, chunk by chunk" in text and "2.10 ms." in text
    assert "| scenario | embedded, demo | embedded, 10,000 | wire, demo |" in text
    assert "| checkout | 120 (8.0; 9.5 CPU) | 90 (8.0; 9.5 CPU) | 20 (8.0; 9.5 CPU) |" in text
    # A subset run (no catalog reads) states only the targets it has figures for.
    assert "catalog reads" not in text and "Without the response cache" not in text


def test_the_wire_target_is_the_release_make_test_wire_runs():
    from pathlib import Path

    from bench.harness import _wire_server_pin

    script = (Path(__file__).parents[2] / "scripts" / "test-wire").read_text()
    assert f"SERVER={_wire_server_pin()}\n" in script and _wire_server_pin().startswith(
        "secantusdb"
    )


def test_the_flatness_figures_are_medians_of_turns_and_refused_requests_miss():
    run = Run(seconds=4, connections=16)
    run.sizes = [_writes("demo", 32, 300, 120), _writes("10,000", 10_032, 255, 90)]
    # In turns: the machine's slow second turn hit both sizes; the medians compare.
    run.flat = FlatRun(
        labels=["demo", "10,000"],
        rounds=[
            [_result("add to cart", r) for r in (500, 300, 520)],
            [_result("add to cart", r) for r in (480, 290, 470)],
        ],
    )
    text = render(run)
    assert (
        "| add to cart at 10,000 products ≥ 90% of demo | 470 req/s vs 500 (94%; medians of "
        "3 turns each, in turns; 0 errors) | met |" in text
    )
    assert "| 10,000 | 480 (" in text and "| 470 | 0 |" in text
    run.flat.rounds[1][0].errors = 12  # refused adds are cheap: such a figure proves nothing
    assert "in turns; 12 errors) | **missed** |" in render(run)
    # Creation: the median chunk at each end, so one slow chunk does not decide.
    chunks = [100, 60, 100, 100, 100, 95, 97, 40]
    run.creation = [_chunk(f"chunk {n}", rate, 500) for n, rate in enumerate(chunks)]
    assert (
        "the last 1,500 ≥ 90% of the first 1,500 (median chunk of 500) | 100/s first, "
        "95/s last (95%)" in render(run)
    )
