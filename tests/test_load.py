"""A bounded load test of the real process on loopback: 2,000 requests at concurrency 16, zero errors,
memory flat. (`punchline load` runs the same against the default model and prints the figures.)"""

from punchline import load


def test_two_thousand_requests_at_concurrency_16(tiny_bundle):
    report = load.run(tiny_bundle, requests=2000, concurrency=16)
    assert report["errors"] == 0, report["first_errors"]
    assert report["ok"] == 2000
    assert report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert report["rss_after_mib"] <= report["rss_before_mib"] * 1.2 + 10, report
