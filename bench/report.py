"""The benchmark's report: `bench/out/latest.md` and a chart of the ratios to the bare route."""

from __future__ import annotations

import platform
import time
from dataclasses import dataclass, field

from bench.harness import OUT, Result

LATEST = OUT / "latest.md"
CHART = OUT / "ratios.png"
CATALOG_READS = {
    "product list",
    "product list, filtered",
    "product list, q",
    "product list, facets",
    "product page",
    "categories",
}

# The targets.
CATALOG_RATIO_TARGET = 0.50
PAGE_P50_TARGET_MS = 25.0
HEALTH_FACTOR_TARGET = 2.0
RSS_TARGET_MB = 300.0
# Issue 18: a page with facets at 10,000 products, as a multiple of the page without them.
FACETS_FACTOR_TARGET = 3.0
# Issue 16, writes that stay flat.
ADD_TO_CART_FLAT_TARGET = 0.90  # add to cart at 10,000 products, as a share of the demo figure
CHECKOUT_TARGET_RPS = 100.0  # checkout flows per second at 10,000 products, one worker
CREATION_FLAT_TARGET = 0.90  # the last chunks of product creation, as a share of the first
CREATION_WINDOW = 3  # chunks compared at each end (their median rate)
WRITE_SCENARIOS = ("add to cart", "checkout", "pay")


@dataclass
class SizeRun:
    label: str
    products: int
    results: list[Result] = field(default_factory=list)
    uncached: list[Result] = field(default_factory=list)
    peak_rss_mb: float = 0.0
    wire: bool = False  # the app on PyMongo against SecantusDB, not the embedded engine

    @property
    def bare(self) -> Result:
        return self.results[0]

    def find(self, name: str, *, uncached: bool = False) -> Result | None:
        return next(
            (r for r in (self.uncached if uncached else self.results) if r.name == name), None
        )


@dataclass
class FlatRun:
    """Add to cart per catalog size, measured in turns on servers that are all up at once."""

    labels: list[str]
    rounds: list[list[Result]]  # per size, one Result per turn

    def median(self, index: int) -> float:
        return _median([r.rps for r in self.rounds[index]])


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    if not ordered:
        return 0.0
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


@dataclass
class Run:
    seconds: float
    connections: int
    sizes: list[SizeRun] = field(default_factory=list)
    health_idle: Result | None = None
    health_busy: Result | None = None
    health_logins: Result | None = None
    # The 50-for-10 contention case: its timings, status counts and the stock it left.
    contention: tuple[Result, dict[int, int], int] | None = None
    servers: dict[str, list[Result]] = field(default_factory=dict)
    # Admin product creation, chunk after chunk as the catalog grows.
    creation: list[Result] = field(default_factory=list)
    # The write scenarios on the wire target, per catalog size.
    wire: list[SizeRun] = field(default_factory=list)
    # Add to cart at two catalog sizes, in turns (the flatness target's figures).
    flat: FlatRun | None = None
    # The admin's sales reports over a year of orders (one request at a time).
    reports: list[Result] = field(default_factory=list)
    elapsed: float = 0.0
    # The machine's 1-minute load average before and after: other work skews every figure.
    load: tuple[float, float] = (0.0, 0.0)


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _table(results: list[Result], bare: Result | None) -> list[str]:
    lines = [
        "| scenario | req/s | p50 ms | p99 ms | × bare | errors |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        if r.skipped:
            lines.append(f"| {r.name} | skipped: {r.skipped} | | | | |")
            continue
        ratio = f"{r.rps / bare.rps:.2f}" if bare and bare.rps else "–"
        lines.append(
            f"| {r.name} | {r.rps:,.0f} | {r.p50_ms:.2f} | {r.p99_ms:.2f} | {ratio} | {r.errors} |"
        )
    return lines


def render(run: Run) -> str:
    out = [
        "# Benchmark: the shop over HTTP",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M')} · {platform.machine()}, "
        f"{_cores()} cores · Python {platform.python_version()} · one uvicorn worker (uvloop, "
        "httptools: the Dockerfile's server), embedded "
        f"engine · wrk, 1 thread, {run.connections} connections, {run.seconds:g} s per "
        f"scenario · whole run {run.elapsed:.0f} s · load average {run.load[0]:.1f} before, "
        f"{run.load[1]:.1f} after. Reproduce: `make bench`.",
        "",
        "Catalog reads are served as a browser or CDN without a copy would ask for them (no "
        "`If-None-Match`), from the worker's response cache after the first request; the "
        "`revalidated (304)` row sends the ETag back. Login uses bcrypt at cost 12. Rate "
        "limits are off (the whole load comes from one IP). Checkout and pay: 8 shoppers in a "
        "Python closed loop (add one unit, `POST /orders`, `POST /orders/{id}/pay` with "
        "`pm_card_visa`), not wrk.",
        "",
    ]
    targets = []
    for size in run.sizes:
        out += [f"## Catalog: {size.label} products", ""]
        out += _table(size.results, size.bare)
        if size.uncached:
            out += [
                "",
                "Without the response cache, one request at a time (the read path itself):",
                "",
            ]
            out += _table(size.uncached, None)
        out += ["", f"Peak RSS of the server worker: {size.peak_rss_mb:.0f} MB.", ""]
    demo = next((s for s in run.sizes if s.label == "demo"), None)
    reads = [r for r in demo.results if r.name in CATALOG_READS] if demo else []
    if reads:
        worst = min(reads, key=lambda r: r.rps)
        ratio = worst.rps / demo.bare.rps
        targets.append(
            f"| catalog reads ≥ {CATALOG_RATIO_TARGET:.0%} of the bare route (demo catalog) | "
            f"lowest: {worst.name}, {ratio:.0%} | {_verdict(ratio >= CATALOG_RATIO_TARGET)} |"
        )
    big = next((s for s in run.sizes if s.products >= 10_000), None)
    small = run.sizes[0] if run.sizes else None
    page = big.find("product list", uncached=True) if big else None
    if page:
        cached = big.find("product list")
        small_page = small.find("product list", uncached=True)
        targets.append(
            f"| a page of 20 from {big.label} products ≤ {PAGE_P50_TARGET_MS:g} ms p50 | "
            f"{page.p50_ms:.2f} ms uncached ({small_page.p50_ms:.2f} ms with {small.label}); "
            f"{cached.p50_ms:.2f} ms cached under load | "
            f"{_verdict(page.p50_ms <= PAGE_P50_TARGET_MS)} |"
        )
    faceted = big.find("product list, facets", uncached=True) if big else None
    if page and faceted:
        factor = faceted.p50_ms / page.p50_ms
        targets.append(
            f"| a page of 20 with facets from {big.label} products ≤ {FACETS_FACTOR_TARGET:g}× "
            f"the page without | {faceted.p50_ms:.2f} ms vs {page.p50_ms:.2f} ms uncached "
            f"({factor:.1f}×; facet answers cached per filter set and catalog version) | "
            f"{_verdict(factor <= FACETS_FACTOR_TARGET)} |"
        )
    if big:
        targets.append(
            f"| RSS ≤ {RSS_TARGET_MB:g} MB with {big.label} products | {big.peak_rss_mb:.0f} MB | "
            f"{_verdict(big.peak_rss_mb <= RSS_TARGET_MB)} |"
        )
    targets += _write_targets(run, demo, big)
    if run.health_idle and run.health_busy:
        factor = run.health_busy.p99_ms / run.health_idle.p99_ms
        targets.append(
            f"| `/health` p99 under 16 logins ≤ {HEALTH_FACTOR_TARGET:g}× idle | "
            f"{run.health_idle.p99_ms:.2f} → {run.health_busy.p99_ms:.2f} ms ({factor:.1f}×) | "
            f"{_verdict(factor <= HEALTH_FACTOR_TARGET)} |"
        )
        out += ["## `/health` while others log in", ""]
        out += _table([run.health_idle, run.health_busy, run.health_logins], None)
        out += [""]
    if run.contention:
        timing, statuses, stock = run.contention
        codes = ", ".join(f"{code} × {n}" for code, n in sorted(statuses.items()))
        out += ["## Contention: shoppers racing for the last units", ""]
        out += [
            f"{timing.name}, all at once on one worker: wall time {timing.seconds:.2f} s, "
            f"p50 {timing.p50_ms:.0f} ms, p99 {timing.p99_ms:.0f} ms; answers {codes}; "
            f"stock left {stock}.",
            "",
        ]
    if run.creation:
        out += ["## Product creation through the admin API (4 connections)", ""]
        out += [
            "Distinct names, one chunk after another from the demo catalog up: a rate that "
            "fell as the catalog grew would show as falling rows.",
            "",
        ]
        out += _table(run.creation, None)
        out += [
            "",
            "The server's CPU time per product, chunk by chunk (other work on the machine does "
            "not inflate it): "
            + ", ".join(f"{r.server_cpu_ms:.2f} ms" for r in run.creation if not r.skipped)
            + ".",
        ]
        out += [""]
    if run.flat:
        out += [
            "## Add to cart at two catalog sizes, in turns",
            "",
            "One server per catalog size, all up at once, measured one after the other in "
            f"turns ({len(run.flat.rounds[0])} each; the same 20 demo products, 8 shoppers): "
            "the machine's slower minutes fall on every size alike. req/s per turn "
            "(the server's CPU ms per request), and the median.",
            "",
            "| catalog | "
            + " | ".join(f"turn {n + 1}" for n in range(len(run.flat.rounds[0])))
            + " | median | errors |",
            "|---|" + "---:|" * (len(run.flat.rounds[0]) + 2),
        ]
        for index, label in enumerate(run.flat.labels):
            turns = run.flat.rounds[index]
            out.append(
                f"| {label} | "
                + " | ".join(f"{r.rps:,.0f} ({r.server_cpu_ms:.2f})" for r in turns)
                + f" | {run.flat.median(index):,.0f} | {sum(r.errors for r in turns)} |"
            )
        out += [""]
    if run.wire or any(size.find(name) for size in run.sizes for name in WRITE_SCENARIOS):
        out += _engines(run)
    if run.servers:
        out += ["## Servers (demo catalog, one worker each)", ""]
        out += [
            "| server | bare req/s | list req/s | product page req/s | list p99 ms |",
            "|---|---:|---:|---:|---:|",
        ]
        for kind, (bare, listing, page) in run.servers.items():
            out.append(
                f"| {kind} | {bare.rps:,.0f} | {listing.rps:,.0f} | {page.rps:,.0f} "
                f"| {listing.p99_ms:.2f} |"
            )
        out += [""]
    if run.reports:
        out += [
            f"## Sales reports over a year ({run.reports[0].note}, embedded engine)",
            "",
            "The admin's reports, one request at a time after the server seeded a year of "
            "synthetic orders (bench/orders.py: 1-3 lines each, 8 % cancelled unpaid, 5 % "
            "refunded, 5 % partly refunded). Each is one aggregation: a range on `created_at` "
            "then `$bucket` (sales) or `$unwind`/`$group` (top products). The embedded engine "
            "has no query planner: it reads every order of the collection per report, so this "
            "is its cost, not a real server's (which scans the `newest` index's range).",
            "",
            "| report | requests | p50 ms | slowest ms | server CPU ms per request |",
            "|---|---:|---:|---:|---:|",
        ]
        for r in run.reports:
            out.append(
                f"| {r.name} | {r.requests} | {r.p50_ms:,.0f} | {r.p99_ms:,.0f} | "
                f"{r.server_cpu_ms:,.0f} |"
            )
        out += [""]
    out = [
        *out[:6],
        "## Targets",
        "",
        "| target | measured | |",
        "|---|---|---|",
        *targets,
        "",
        *out[6:],
    ]
    out += [f"![ratios to the bare route]({CHART.name})", ""]
    return "\n".join(out)


def _write_targets(run: Run, demo: SizeRun | None, big: SizeRun | None) -> list[str]:
    """Issue 16's rows: writes that stay flat as the data grows."""
    rows = []
    demo_add = demo.find("add to cart") if demo else None
    big_add = big.find("add to cart") if big else None
    flat = run.flat
    if flat and len(flat.labels) >= 2 and flat.median(0):
        share = flat.median(len(flat.labels) - 1) / flat.median(0)
        rows.append(
            f"| add to cart at {flat.labels[-1]} products ≥ {ADD_TO_CART_FLAT_TARGET:.0%} of "
            f"{flat.labels[0]} | {flat.median(len(flat.labels) - 1):,.0f} req/s vs "
            f"{flat.median(0):,.0f} ({share:.0%}; medians of {len(flat.rounds[0])} turns "
            f"each, in turns; {_errors(flat)} errors) | "
            f"{_verdict(not _errors(flat) and share >= ADD_TO_CART_FLAT_TARGET)} |"
        )
    elif demo_add and big_add and not demo_add.skipped and not big_add.skipped and demo_add.rps:
        share = big_add.rps / demo_add.rps
        clean = not demo_add.errors and not big_add.errors
        rows.append(
            f"| add to cart at {big.label} products ≥ {ADD_TO_CART_FLAT_TARGET:.0%} of demo | "
            f"{big_add.rps:,.0f} req/s vs {demo_add.rps:,.0f} ({share:.0%}) | "
            f"{_verdict(clean and share >= ADD_TO_CART_FLAT_TARGET)} |"
        )
    checkout = big.find("checkout") if big else None
    if checkout and not checkout.skipped:
        rows.append(
            f"| checkout ≥ {CHECKOUT_TARGET_RPS:g}/s at {big.label} products (one worker) | "
            f"{checkout.rps:,.0f}/s, p50 {checkout.p50_ms:.1f} ms | "
            f"{_verdict(checkout.rps >= CHECKOUT_TARGET_RPS)} |"
        )
    if len(run.creation) >= 2:
        # The median chunk of each end: one slow second of the machine does not decide.
        window = max(1, min(CREATION_WINDOW, len(run.creation) // 2))
        first, last = run.creation[:window], run.creation[-window:]
        first_rate, last_rate = _median([r.rps for r in first]), _median([r.rps for r in last])
        share = last_rate / first_rate if first_rate else 0.0
        total = sum(r.requests for r in run.creation)
        average = total / sum(r.seconds for r in run.creation)
        errors = sum(r.errors for r in run.creation)
        chunk = run.creation[0].requests
        rows.append(
            f"| product creation flat over {total:,}: the last {window * chunk:,} ≥ "
            f"{CREATION_FLAT_TARGET:.0%} of the first {window * chunk:,} (median chunk of "
            f"{chunk:,}) | {first_rate:,.0f}/s first, {last_rate:,.0f}/s last ({share:.0%}), "
            f"{average:,.0f}/s on average; server CPU per product "
            f"{_median([r.server_cpu_ms for r in first]):.2f} ms first, "
            f"{_median([r.server_cpu_ms for r in last]):.2f} ms last | "
            f"{_verdict(not errors and share >= CREATION_FLAT_TARGET)} |"
        )
    return rows


def _errors(flat: FlatRun) -> int:
    return sum(r.errors for turns in flat.rounds for r in turns)


def _engines(run: Run) -> list[str]:
    """The write scenarios on both engines, side by side (req/s, p50 ms)."""
    columns = [(f"embedded, {s.label}", s) for s in run.sizes] + [
        (f"wire, {s.label}", s) for s in run.wire
    ]
    out = [
        "## The write paths, by engine",
        "",
        "The same app, scenarios and load: the embedded engine, and (the `wire` columns) "
        "PyMongo over the wire protocol to a SecantusDB single-node replica set started by the "
        "bench (in memory, on the same machine: it takes CPU from the same two cores). "
        "Checkout and pay are one flow (add, order, pay). req/s (p50 ms; the app "
        "server's CPU time per request, which other work on the machine does not inflate).",
        "",
        "| scenario | " + " | ".join(name for name, _ in columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for scenario in WRITE_SCENARIOS:
        cells = []
        for _, size in columns:
            r = size.find(scenario)
            cells.append(
                "–"
                if r is None or r.skipped
                else f"{r.rps:,.0f} ({r.p50_ms:.1f}; {r.server_cpu_ms:.1f} CPU)"
            )
        out.append(f"| {scenario} | " + " | ".join(cells) + " |")
    return [*out, ""]


def chart(run: Run) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in run.sizes[0].results[1:]] if run.sizes else []
    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.8 / max(1, len(run.sizes))
    for i, size in enumerate(run.sizes):
        if not size.results:
            continue
        ratios = []
        for name in names:
            r = size.find(name)
            ratios.append(r.rps / size.bare.rps if r and not r.skipped and size.bare.rps else 0)
        ax.bar(
            [x + i * width for x in range(len(names))],
            ratios,
            width,
            label=f"{size.label} products",
        )
    ax.axhline(
        CATALOG_RATIO_TARGET,
        color="grey",
        linestyle="--",
        linewidth=1,
        label="target for catalog reads",
    )
    ax.set_xticks([x + width * (len(run.sizes) - 1) / 2 for x in range(len(names))])
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("req/s as a fraction of the bare route")
    ax.set_title("Throughput relative to the bare route (one worker, embedded engine)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(CHART, dpi=100)
    plt.close(fig)


def write(run: Run) -> str:
    OUT.mkdir(exist_ok=True)
    markdown = render(run)
    LATEST.write_text(markdown + "\n")
    chart(run)
    return markdown


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))
