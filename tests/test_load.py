"""A bounded load test of the real process on loopback: 2,000 requests at concurrency 16, zero errors,
memory flat. (`punchline load` runs the same against the default model and prints the figures.)"""

from punchline import load


def test_two_thousand_requests_at_concurrency_16(tiny_bundle):
    report = load.run(tiny_bundle, requests=2000, concurrency=16)
    assert report["errors"] == 0, report["first_errors"]
    assert report["ok"] == 2000
    assert report["p50_ms"] <= report["p95_ms"] <= report["p99_ms"] <= report["max_ms"]
    assert report["rss_after_mib"] <= report["rss_before_mib"] * 1.2 + 10, report


def test_the_repeat_mix_is_answered_from_the_cache_when_it_is_on(tiny_bundle):
    on = load.run(tiny_bundle, requests=300, concurrency=4, mix="repeat", cache_size=512)
    off = load.run(tiny_bundle, requests=300, concurrency=4, mix="repeat", cache_size=0)
    assert on["errors"] == off["errors"] == 0
    assert 0.6 <= on["cache_hit_rate"] <= load.REPEAT_SHARE and off["cache_hit_rate"] == 0.0
    assert on["cpu_seconds"] > 0 and off["cpu_seconds"] > 0


def test_the_mixes():
    repeat = [load.query(i, "repeat")[0] for i in range(2000)]
    unique = [load.query(i, "unique")[0] for i in range(2000)]
    assert len(set(unique)) == 2000
    assert len(set(repeat)) < 2000 * (1 - load.REPEAT_SHARE) + load.PERMALINKS + 50
