"""The cost model against hand-worked examples, free-tier edges and per-100 ms rounding."""

import json
import math

import pytest
from click.testing import CliRunner

from punchline import cli, cost

PRICES = cost.pricing()


@pytest.mark.parametrize("gb_seconds, expected", [(1, 414_937), (128, 3_280), (256, 1_640)])
def test_cloudzero_lambda_table(gb_seconds, expected):
    # the article's table: $7 a day at 1 GB; the article rounds Lambda's GB-second price to $0.00001667
    assert cost.requests_for_budget("lambda", 7, duration_s=gb_seconds, memory_mb=1024,
                                    gb_second_price=0.00001667) == expected


def test_budget_at_list_price():
    assert cost.requests_for_budget("lambda", 7, 1, 1024) == math.floor(7 / (0.0000166667 + 0.0000002))


@pytest.mark.parametrize("seconds, increment, billed", [
    (0.1, 100, 0.1), (0.101, 100, 0.2), (0.0, 100, 0.1), (1.09, 100, 1.1), (0.0505, 1, 0.051), (0.3, 100, 0.3)])
def test_billed_time_is_rounded_up(seconds, increment, billed):
    assert cost.billed_seconds(seconds, increment) == pytest.approx(billed)


def test_gen1_hand_worked():
    # 100,000 requests/day of 0.25 s (billed 0.3 s) at 256 MB (0.25 GB, 0.4 GHz), 2 KB answers, 0.15 GB bucket
    e = cost.estimate("gen1", cost.Traffic(100_000, 0.0, 0.0, 0.25, 2.0, 0.15), cost.Tier(256), PRICES)
    assert e.requests_per_month == 3_000_000
    assert e.usage["gb_seconds"] == pytest.approx(225_000)
    assert e.usage["ghz_seconds"] == pytest.approx(360_000)
    assert e.usage["egress_gb"] == pytest.approx(6.0)
    assert e.lines["invocations"] == pytest.approx(1.20)
    assert e.lines["ghz_seconds"] == pytest.approx(3.60)
    assert e.monthly_without_free_tier == pytest.approx(1.20 + 0.5625 + 3.60 + 0.72 + 0.003)
    assert e.lines_after_free == pytest.approx({"invocations": 0.40, "gb_seconds": 0.0, "ghz_seconds": 1.60,
                                                "egress_gb": 0.12, "bucket_storage": 0.0})
    assert e.monthly == pytest.approx(2.12)
    assert e.binding_free_limit == "ghz_seconds"
    assert e.binding_free_limit_requests_per_day == pytest.approx(200_000 / 0.12 / 30)


def test_gen2_free_tier_edge():
    tier = cost.Tier(512, 1.0)
    at_limit = cost.estimate("gen2", cost.Traffic(60_000, 0.0, 0.0, 0.1, 0.0, 0.15), tier, PRICES)
    assert at_limit.usage["vcpu_seconds"] == pytest.approx(180_000)
    assert at_limit.monthly == pytest.approx(0.0, abs=1e-12)
    over = cost.estimate("gen2", cost.Traffic(60_001, 0.0, 0.0, 0.1, 0.0, 0.15), tier, PRICES)
    assert over.lines_after_free["vcpu_seconds"] == pytest.approx(3 * 0.000024)
    assert over.binding_free_limit == "vcpu_seconds"


def test_lambda_hand_worked():
    e = cost.estimate("lambda", cost.Traffic(50_000, 0.5, 2.0, 0.2, 0.0, 0.0), cost.Tier(1024), PRICES)
    # 1.5M requests; billed 1 ms steps: half 2.0 s, half 0.2 s -> 1.65M GB-s at 1 GB
    assert e.usage["gb_seconds"] == pytest.approx(1_650_000)
    assert e.lines_after_free["gb_seconds"] == pytest.approx((1_650_000 - 400_000) * 0.0000166667)
    assert e.lines_after_free["requests"] == pytest.approx(500_000 * 0.0000002)


def test_min_instances_add_idle_cost():
    base = cost.estimate("gen2", cost.Traffic(0, 0, 0, 0), cost.Tier(512, 1.0, 1), PRICES)
    assert base.lines["min_instances_idle"] == pytest.approx(30 * 86400 * (0.5 * 0.0000025 + 0.0000025))


def test_idle_gap_model():
    assert cost.cold_share_from_idle_gap(16, 15) == pytest.approx(math.exp(-16 / 86400 * 900))
    assert cost.cold_share_from_idle_gap(100_000, 15) < 1e-6
    assert cost.cold_share_from_idle_gap(0, 15) == 0.0


def test_worst_case_of_the_deploy_settings():
    deploy = {"generation": 2, "memory_mb": 512, "cpu": 1, "max_instances": 3, "region_tier": 1}
    assert cost.worst_case_monthly(deploy, PRICES) == pytest.approx(3 * (0.5 * 0.0000025 + 0.000024) * 2_592_000)


def test_bad_inputs_are_named():
    with pytest.raises(cost.CostError, match="1st gen memory"):
        cost.estimate("gen1", cost.Traffic(1, 0, 1, 1), cost.Tier(300), PRICES)
    with pytest.raises(cost.CostError, match="cold share"):
        cost.estimate("gen2", cost.Traffic(1, 2, 1, 1), cost.Tier(), PRICES)


def log_lines(count: int, duration_ms: float, cold_every: int = 0) -> list[str]:
    lines = ["not json", json.dumps({"message": "something else"})]
    for i in range(count):
        lines.append(json.dumps({"message": "request", "status": 200, "duration_ms": duration_ms, "memory_mb": 512,
                                 "cold_start": bool(cold_every and i % cold_every == 0),
                                 "time": f"2026-11-{1 + i * 2 // count:02d}T{(i * 7) % 24:02d}:00:00+00:00"}))
    return lines


def test_from_logs_matches_the_estimate_for_the_same_traffic():
    records = cost.parse_log_lines(log_lines(100, 150.0))
    assert len(records) == 100
    result = cost.from_logs(records, "gen2", cost.Tier(512, 1.0), PRICES)
    assert result["billed_seconds"] == pytest.approx(100 * 0.2)  # 150 ms billed as 200 ms
    assert result["monthly_from_logs"]["monthly_without_free_tier"] == pytest.approx(
        result["monthly_estimate"]["monthly_without_free_tier"])


def test_cloud_logging_export_format():
    entries = [json.dumps({"timestamp": "2026-11-01T00:00:00Z", "jsonPayload": json.loads(line)})
               for line in log_lines(3, 50.0)[2:]]
    records = cost.parse_log_lines(entries)
    assert len(records) == 3 and all(r["duration_ms"] == 50.0 for r in records)


def test_cli_commands(tmp_path):
    runner = CliRunner()
    estimate = runner.invoke(cli.main, ["cost", "estimate", "--requests-per-day", "1000", "--cold-s", "1",
                                        "--warm-s", "0.05", "--json"])
    assert estimate.exit_code == 0, estimate.output
    assert set(json.loads(estimate.output)["estimates"]) == {"gen1", "gen2", "lambda"}
    budget = runner.invoke(cli.main, ["cost", "budget", "--per-day", "7", "--duration-s", "256", "--memory-mb",
                                      "1024", "--provider", "lambda", "--gb-second-price", "0.00001667"])
    assert budget.exit_code == 0 and "1,640 requests" in budget.output
    log = tmp_path / "function.log"
    log.write_text("\n".join(log_lines(20, 80.0, cold_every=10)))
    logs = runner.invoke(cli.main, ["cost", "from-logs", str(log)])
    assert logs.exit_code == 0 and "20 requests" in logs.output and "10.0% cold" in logs.output
    empty = tmp_path / "empty.log"
    empty.write_text("nothing here\n")
    assert runner.invoke(cli.main, ["cost", "from-logs", str(empty)]).exit_code == 1
    both = runner.invoke(cli.main, ["cost", "budget", "--per-day", "1", "--per-month", "2", "--duration-s", "1"])
    assert both.exit_code == 2 and "exactly one" in both.output


def test_a_shared_cache_takes_requests_off_the_function_and_adds_its_own_charges():
    tier = cost.Tier(512, 1.0)
    plain = cost.estimate("gen2", cost.Traffic(100_000, 0.0, 0.0, 0.1, 2.0, 0.0), tier, PRICES)
    cached = cost.estimate("gen2", cost.Traffic(100_000, 0.0, 0.0, 0.1, 2.0, 0.0, cache_hit_share=0.8), tier, PRICES)
    assert cached.requests_per_month == plain.requests_per_month == 3_000_000
    assert cached.usage["requests"] == pytest.approx(600_000)  # only the misses reach the function
    assert cached.usage["vcpu_seconds"] == pytest.approx(plain.usage["vcpu_seconds"] * 0.2)
    # hand-worked: 3M lookups at $0.0075 per 10k; 2.4M hits x 2 kB at $0.08/GiB; one rule all month
    assert cached.lines["cdn_lookups"] == pytest.approx(2.25)
    assert cached.lines["cdn_egress"] == pytest.approx(2_400_000 * 2000 / 2**30 * 0.08)
    assert cached.lines["load_balancer"] == pytest.approx(0.025 * 24 * 30)
    assert "cdn_lookups" not in plain.lines


def test_from_logs_counts_cache_hits():
    lines = [json.loads(line) for line in log_lines(4, 50.0)[2:]]
    for record, used in zip(lines, ["miss", "hit", "hit", "off"]):
        record["cache"] = used
    result = cost.from_logs(cost.parse_log_lines([json.dumps(r) for r in lines]), "gen2", cost.Tier(512, 1.0), PRICES)
    assert result["cache_hits"] == 2 and result["cache_hit_share"] == pytest.approx(0.5)
