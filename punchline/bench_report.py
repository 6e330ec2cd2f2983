"""`punchline bench`'s report: the targets, the Markdown table the README shows, and the chart."""

from pathlib import Path

TARGETS = [  # (key, comparison, limit, label)
    ("cold_start_s", "<=", 1.0, "cold start median ≤ 1.0 s"),
    ("speedup_cold", ">=", 10, "cold start ≥ 10× faster than the baseline"),
    ("warm_p50_ms_n1", "<=", 100, "warm p50, n=1 ≤ 100 ms"),
    ("warm_p50_ms_n8", "<=", 250, "warm p50, n=8 ≤ 250 ms"),
    ("peak_rss_mib", "<=", 256, "peak RSS ≤ 256 MiB (int8 weights; float32 needs more)"),
    ("deployed_dependencies_mib", "<=", 250, "deployed dependencies ≤ 250 MB"),
]


def targets(report: dict) -> list[tuple[str, float, bool]]:
    return [(label, report[key], report[key] <= limit if op == "<=" else report[key] >= limit)
            for key, op, limit, label in TARGETS]


def table(report: dict) -> str:
    """The report as a Markdown table (what the README shows)."""
    b, bb = report["cold_start_breakdown_s"], report["baseline_cold_start_breakdown_s"]
    rows = [
        ("model file", f"{report['model_bytes'] / 1e6:.1f} MB ({report['quantization']})", "same weights, .keras"),
        ("cold start, median of " + str(report["runs"]), f"{report['cold_start_s']:.2f} s",
         f"{report['baseline_cold_start_s']:.2f} s"),
        ("… process start + imports", f"{b['start_and_imports_s']:.2f} s", f"{bb['start_and_imports_s']:.2f} s"),
        ("… fetch from the bucket", f"{b['fetch_s']:.2f} s", f"{bb['fetch_s']:.2f} s"),
        ("… verify + load", f"{b['load_s']:.2f} s", f"{bb['load_s']:.2f} s"),
        ("… first punchline", f"{b['generate_s']:.2f} s", f"{bb['generate_s']:.2f} s"),
        ("warm p50 / p95, n=1", f"{report['warm_p50_ms_n1']:.0f} / {report['warm_p95_ms_n1']:.0f} ms",
         f"{report['baseline_warm_p50_ms_n1']:.0f} ms (p50)"),
        ("warm p50 / p95, n=8", f"{report['warm_p50_ms_n8']:.0f} / {report['warm_p95_ms_n8']:.0f} ms", ""),
        ("requests/s at concurrency 1 / 8", f"{report['rps_c1']:.1f} / {report['rps_c8']:.1f}", ""),
        ("peak RSS", f"{report['peak_rss_mib']:.0f} MiB", f"{report['baseline_peak_rss_mib']:.0f} MiB"),
        ("deployed dependencies", f"{report['deployed_dependencies_mib']:.0f} MiB", ""),
    ]
    lines = ["| measure | ours | baseline (original recipe) |", "|---|---|---|"]
    lines += [f"| {a} | {b_} | {c} |" for a, b_, c in rows]
    lines.append("")
    ceiling = report["concurrency_ceiling"]
    lines.append(f"Cold start speed-up: {report['speedup_cold']:.1f}×; throughput c8/c1: "
                 f"{report['throughput_ratio_c8_c1']:.1f}×; fits Cloud Functions' {report['fits_memory_tier_mib']} MB tier.")
    lines.append(f"Batching ceiling (in-process): a request alone takes {ceiling['alone_ms']:.0f} ms for "
                 f"{ceiling['rows_per_request']:.0f} model rows ({ceiling['rows_per_pass_alone']:.1f} per pass, "
                 f"{ceiling['row_ms_alone'] * 1000:.0f} µs each); in a full pass of {ceiling['full_batch']} a row "
                 f"takes {ceiling['row_ms_full_batch'] * 1000:.0f} µs, so no batching can give more than "
                 f"{ceiling['ceiling_c8_c1']:.1f}× at concurrency 8.")
    lines.append(f"Machine: {report['machine']}.")
    return "\n".join(lines)


def chart(report: dict, path: Path) -> None:
    """Cold start and warm latency, ours against the baseline, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (cold, warm) = plt.subplots(1, 2, figsize=(9, 3.6), dpi=100)
    names = ["ours (LiteRT)", "baseline (Keras)"]
    colors = ["#e0a800", "#777777"]
    cold.bar(names, [report["cold_start_s"], report["baseline_cold_start_s"]], color=colors)
    cold.set_title("Cold start: process start → first punchline")
    cold.set_ylabel("seconds (median)")
    warm.bar(names, [report["warm_p50_ms_n1"], report["baseline_warm_p50_ms_n1"]], color=colors)
    warm.set_title(f"Warm: one punchline ({report['punchline_chars']} chars at most)")
    warm.set_ylabel("milliseconds (p50)")
    for axis, values, fmt in ((cold, [report["cold_start_s"], report["baseline_cold_start_s"]], "{:.2f} s"),
                              (warm, [report["warm_p50_ms_n1"], report["baseline_warm_p50_ms_n1"]], "{:.0f} ms")):
        for x, value in enumerate(values):
            axis.annotate(fmt.format(value), (x, value), ha="center", va="bottom")
        axis.set_yscale("log")
    fig.suptitle(f"{report['model_bytes'] / 1e6:.0f} MB model on {report['machine']}", fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, metadata={"Software": None})
    plt.close(fig)
