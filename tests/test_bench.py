"""The benchmark's machinery on a tiny model (the figures themselves come from `punchline bench`)."""

import dataclasses
import json

import pytest

import keras

from punchline import bench, bench_report, processes, upload


def test_cold_start_of_ours_and_the_baseline(trained, tiny_bundle, tmp_path, emulator):
    upload.upload(tiny_bundle, "gs://bench-test/ours", create_bucket=True, endpoint=emulator.url)
    baseline = tmp_path / "baseline"
    baseline.mkdir()
    keras.saving.save_model(trained.model, baseline / "model.keras")
    (baseline / "baseline.json").write_text(json.dumps({"architecture": dataclasses.asdict(trained.arch),
                                                        "vocabulary": trained.vocab}))
    bench.upload_baseline(baseline, "gs://bench-test/baseline", endpoint=emulator.url)
    env = {"STORAGE_EMULATOR_HOST": emulator.url}
    # the warm requests must rhyme: the setup's "it" has "hit" in the tiny corpus
    ours = bench.cold_start({**env, "MODEL_URI": "gs://bench-test/ours"}, processes.FUNCTION_SOURCE, warm=2)
    old = bench.cold_start({**env, "MODEL_URI": "gs://bench-test/baseline"}, bench.BASELINE_SOURCE)
    for result in (ours, old):
        assert result["total_s"] > 0 and result["fetch_s"] > 0 and result["generate_s"] > 0
        assert result["start_and_imports_s"] > 0 and result["peak_rss_mib"] > 0
    assert len(ours["warm_ms"]) == 2


def test_batching_ceiling_counts_a_lone_requests_rows(tiny_bundle):
    ceiling = bench.concurrency_ceiling(tiny_bundle, threads=1, seeds=[101, 102], full_batch=8,
                                        setup="I keep on trying every day")  # "today" is in the tiny corpus
    assert ceiling["rows_per_request"] > ceiling["rows_per_pass_alone"] >= 1  # candidates share passes
    assert ceiling["alone_ms"] > 0 and ceiling["row_ms_full_batch"] > 0
    assert ceiling["ceiling_c8_c1"] == pytest.approx(
        ceiling["alone_ms"] / (ceiling["rows_per_request"] * ceiling["row_ms_full_batch"]))
    with pytest.raises(bench.BenchError, match="did not rhyme"):
        bench.concurrency_ceiling(tiny_bundle, threads=1, seeds=[101], setup="nothing rhymes with xqzt")


def test_table_chart_and_targets_from_the_committed_report(tmp_path):
    report = json.loads((processes.REPO / "reports" / "bench.json").read_text())
    for key in ("cold_start_s", "baseline_cold_start_s", "warm_p50_ms_n1", "warm_p95_ms_n1", "warm_p50_ms_n8",
                "peak_rss_mib", "rps_c1", "rps_c8", "model_bytes"):
        assert isinstance(report[key], (int, float)), key
    assert "| cold start, median of" in bench_report.table(report)
    assert len(bench_report.targets(report)) == len(bench_report.TARGETS)
    bench_report.chart(report, tmp_path / "chart.png")
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_production_configuration_is_about_150_mb():
    arch, _ = bench.production_architecture(processes.REPO / "corpus")
    assert 140e6 <= arch.weight_bytes() <= 160e6
