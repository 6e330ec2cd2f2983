"""The traffic simulator: its platform rules on small hand-checkable cases, the plan search, the CLI, and
its agreement with this machine's real function under `punchline load`."""

import json

import pytest
from click.testing import CliRunner

from punchline import cli, simulate as sim

FAST = sim.Measured(cold_start_s=1.0, rps_c1=40.0, rps_c8=56.0, spread=1.2)


def test_one_visitor_meets_one_cold_start_then_warm_answers():
    result = sim.run([sim.Visitor(0.0, 3, 5.0)], sim.Deploy(), FAST, seed=1)
    assert result["requests"] == result["ok"] == 3 and result["cold_starts"] == 1
    assert 1.0 < result["latency_cold_s"]["p50"] < 1.2 and result["latency_warm_s"]["p50"] < 0.05
    assert result["visitors_cold_share"] == 1.0
    assert result["billed_instance_s"] == pytest.approx(1.1, abs=0.25)  # the start and three short requests


def test_min_instances_take_the_cold_start_away_and_cost_idle_time():
    result = sim.run([sim.Visitor(10.0, 1, 0.0)], sim.Deploy(min_instances=1), FAST, seed=1)
    assert result["cold_starts"] == 0 and result["bill_usd"]["min_instances_idle"] > 0


def test_a_full_platform_queues_for_60_s_then_refuses():
    # one instance, one request at a time, a slow function: most of a burst cannot be served within 60 s
    slow = sim.Measured(cold_start_s=0.5, rps_c1=1.0, rps_c8=1.0, spread=1.0)
    burst = [sim.Visitor(0.0, 1, 0.0) for _ in range(200)]
    result = sim.run(burst, sim.Deploy(generation=1, max_instances=1, timeout_s=600), slow, seed=2)
    assert result["peak_instances"] == 1
    assert 55 <= result["ok"] <= 62  # served one a second until the others' 60 s ran out
    assert result["refused_share"] == pytest.approx((200 - result["ok"]) / 200)


def test_timeouts_and_the_rate_limit():
    slow = sim.Measured(cold_start_s=0.1, rps_c1=0.01, rps_c8=0.01, spread=1.0)  # 100 s a request
    result = sim.run([sim.Visitor(0.0, 1, 0.0)], sim.Deploy(timeout_s=60), slow)
    assert result["timed_out_share"] == 1.0
    eager = sim.run([sim.Visitor(0.0, 10, 0.0)], sim.Deploy(rate_limit_per_minute=4), FAST)
    assert eager["ok"] == 4 and eager["refused_share"] == pytest.approx(0.6)


def test_same_seed_same_run_and_instances_scale_with_the_spike():
    people = sim.spike(2000, 0.05, 2, 1.0, seed=3)
    slow = sim.Measured(cold_start_s=1.0, rps_c1=5.0, rps_c8=8.0, spread=1.2)
    first = sim.run(people, sim.Deploy(max_instances=10), slow, seed=3)
    again = sim.run(people, sim.Deploy(max_instances=10), slow, seed=3)
    assert json.dumps(first) == json.dumps(again)  # (NaN marks empty windows: compare the text)
    assert 2 <= first["peak_instances"] <= 10 and first["cold_starts"] == first["peak_instances"]
    capped = sim.run(people, sim.Deploy(max_instances=1), slow, seed=3)
    assert capped["latency_s"]["p95"] > first["latency_s"]["p95"]


def test_plan_picks_the_cheapest_setting_that_meets_the_goal():
    people = sim.spike(300, 0.05, 2, 2.0, seed=1)
    rows = sim.plan(people, {"float32": FAST}, p95_goal_s=2.0, max_failed=0.0, budget_usd=None)
    assert rows[0]["meets"]
    meeting = [r for r in rows if r["meets"]]
    assert rows[0]["bill_usd"]["total"] == min(r["bill_usd"]["total"] for r in meeting)


def test_bad_settings_are_named():
    with pytest.raises(sim.SimulationError, match="min_instances"):
        sim.run([], sim.Deploy(max_instances=1, min_instances=2), FAST)
    with pytest.raises(sim.SimulationError, match="1 vCPU"):
        sim.run([], sim.Deploy(memory_mb=256, cpu=0.5, concurrency=4), FAST)


def test_cli_simulate_and_plan(tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text(json.dumps({"cold_start_s": 1.0, "rps_c1": 40, "rps_c8": 56, "warm_p50_ms_n1": 25,
                                 "warm_p95_ms_n1": 31}))
    runner = CliRunner()
    out = runner.invoke(cli.main, ["simulate", "--visitors", "200", "--hours", "0.05", "--bench", str(bench),
                                   "--chart", str(tmp_path / "sim.png")])
    assert out.exit_code == 0, out.output
    assert "as given" in out.output and "1st gen" in out.output and (tmp_path / "sim.png").stat().st_size > 1000
    data = json.loads(runner.invoke(cli.main, ["simulate", "--visitors", "100", "--hours", "0.05", "--bench",
                                               str(bench), "--json", "--no-vary"]).output)
    assert data["runs"][0]["requests"] == 300
    planned = runner.invoke(cli.main, ["plan", "--visitors", "100", "--hours", "0.05", "--bench", str(bench),
                                       "--int8-bench", str(tmp_path / "none.json")])
    assert planned.exit_code == 0 and "gcloud functions deploy punchline --gen2" in planned.output, planned.output
    bad = runner.invoke(cli.main, ["simulate", "--bench", str(tmp_path / "missing.json")])
    assert bad.exit_code == 2 and "missing.json" in bad.output


def test_the_simulator_agrees_with_the_real_function(tiny_bundle):
    rows = sim.agreement(tiny_bundle, concurrencies=(2, 4), requests=800)  # long enough to average out noise
    for row in rows:
        assert abs(row["rps_error"]) <= sim.AGREEMENT_TOLERANCE, row
        assert abs(row["p50_error"]) <= sim.AGREEMENT_TOLERANCE, row
