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
    "product page",
    "categories",
}

# The targets.
CATALOG_RATIO_TARGET = 0.50
PAGE_P50_TARGET_MS = 25.0
HEALTH_FACTOR_TARGET = 2.0
RSS_TARGET_MB = 300.0


@dataclass
class SizeRun:
    label: str
    products: int
    results: list[Result] = field(default_factory=list)
    uncached: list[Result] = field(default_factory=list)
    peak_rss_mb: float = 0.0

    @property
    def bare(self) -> Result:
        return self.results[0]

    def find(self, name: str, *, uncached: bool = False) -> Result | None:
        return next(
            (r for r in (self.uncached if uncached else self.results) if r.name == name), None
        )


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
        f"{_cores()} cores · Python {platform.python_version()} · one server worker, embedded "
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
        out += ["", "Without the response cache, one request at a time (the read path itself):", ""]
        out += _table(size.uncached, None)
        out += ["", f"Peak RSS of the server worker: {size.peak_rss_mb:.0f} MB.", ""]
    demo = next((s for s in run.sizes if s.label == "demo"), None)
    if demo:
        worst = min((r for r in demo.results if r.name in CATALOG_READS), key=lambda r: r.rps)
        ratio = worst.rps / demo.bare.rps
        targets.append(
            f"| catalog reads ≥ {CATALOG_RATIO_TARGET:.0%} of the bare route (demo catalog) | "
            f"lowest: {worst.name}, {ratio:.0%} | {_verdict(ratio >= CATALOG_RATIO_TARGET)} |"
        )
    big = next((s for s in run.sizes if s.products >= 10_000), None)
    small = run.sizes[0] if run.sizes else None
    if big:
        page = big.find("product list", uncached=True)
        cached = big.find("product list")
        small_page = small.find("product list", uncached=True)
        targets.append(
            f"| a page of 20 from {big.label} products ≤ {PAGE_P50_TARGET_MS:g} ms p50 | "
            f"{page.p50_ms:.2f} ms uncached ({small_page.p50_ms:.2f} ms with {small.label}); "
            f"{cached.p50_ms:.2f} ms cached under load | "
            f"{_verdict(page.p50_ms <= PAGE_P50_TARGET_MS)} |"
        )
        targets.append(
            f"| RSS ≤ {RSS_TARGET_MB:g} MB with {big.label} products | {big.peak_rss_mb:.0f} MB | "
            f"{_verdict(big.peak_rss_mb <= RSS_TARGET_MB)} |"
        )
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


def chart(run: Run) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in run.sizes[0].results[1:]] if run.sizes else []
    fig, ax = plt.subplots(figsize=(11, 5))
    width = 0.8 / max(1, len(run.sizes))
    for i, size in enumerate(run.sizes):
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
