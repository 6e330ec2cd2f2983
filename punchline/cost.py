"""What serving costs: Cloud Functions 1st and 2nd gen, AWS Lambda for comparison.

Pure Python (the site build imports it on Netlify). Prices live in data/pricing.json with their sources.
"""

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

PRICING_FILE = Path(__file__).with_name("data") / "pricing.json"
REPO = Path(__file__).resolve().parent.parent
DEPLOY_FILE = REPO / "deploy.json"
BENCH_FILE = REPO / "reports" / "bench.json"
PROVIDERS = ("gen1", "gen2", "lambda")
GEN1_MEMORY_TIERS = (128, 256, 512, 1024, 2048, 4096, 8192)
DEFAULT_IDLE_MINUTES = 15.0  # how long an idle instance is kept before it is shut down (an assumption)


class CostError(ValueError):
    pass


def pricing(path: Path = PRICING_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def deploy_settings(path: Path = DEPLOY_FILE) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def bench_durations(path: Path = BENCH_FILE) -> tuple[float, float] | None:
    """(cold start s, warm request s) from the latest benchmark, if there is one."""
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return float(report["cold_start_s"]), float(report["warm_p50_ms_n1"]) / 1000
    except (OSError, ValueError, KeyError):
        return None


def cold_share_from_idle_gap(requests_per_day: float, idle_minutes: float) -> float:
    """Share of requests that find no warm instance, for requests arriving at random (Poisson):
    a request is cold when the gap since the previous one exceeds the idle timeout."""
    if requests_per_day <= 0:
        return 0.0
    rate_per_s = requests_per_day / 86400
    return math.exp(-rate_per_s * idle_minutes * 60)


def billed_seconds(duration_s: float, increment_ms: int) -> float:
    """A request's billed time: rounded up to the provider's increment."""
    increments = math.ceil(round(duration_s * 1000, 6) / increment_ms)
    return max(1, increments) * increment_ms / 1000


@dataclass
class Traffic:
    requests_per_day: float
    cold_share: float
    cold_s: float
    warm_s: float
    response_kb: float = 2.0
    bucket_gb: float = 0.15
    cache_hit_share: float = 0.0  # answered by a shared cache (Cloud CDN) without reaching the function


@dataclass
class Tier:
    memory_mb: int = 512
    cpu: float = 1.0  # vCPU (2nd gen); 1st gen's CPU follows from memory
    min_instances: int = 0
    region_tier: int = 1


@dataclass
class Estimate:
    provider: str
    requests_per_month: float
    usage: dict  # dimension -> amount used in the month
    free: dict  # dimension -> free amount
    lines: dict  # item -> cost without the free tier
    lines_after_free: dict  # item -> cost after the free tier
    monthly_without_free_tier: float
    monthly: float
    per_1000_requests: float  # after the free tier
    per_1000_requests_list: float  # at list price, no free tier
    binding_free_limit: str | None  # the free-tier allowance used up first as traffic grows
    binding_free_limit_requests_per_day: float | None
    assumptions: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def _validate(traffic: Traffic, tier: Tier, provider: str) -> None:
    if provider not in PROVIDERS:
        raise CostError(f"provider {provider!r} is not one of {', '.join(PROVIDERS)}")
    if traffic.requests_per_day < 0:
        raise CostError(f"requests per day must be 0 or more, got {traffic.requests_per_day}")
    if not 0 <= traffic.cold_share <= 1:
        raise CostError(f"cold share must be between 0 and 1, got {traffic.cold_share}")
    if traffic.cold_s < 0 or traffic.warm_s < 0:
        raise CostError("durations must be 0 or more")
    if not 0 <= traffic.cache_hit_share <= 1:
        raise CostError(f"cache hit share must be between 0 and 1, got {traffic.cache_hit_share}")
    if provider == "gen1" and tier.memory_mb not in GEN1_MEMORY_TIERS:
        raise CostError(f"1st gen memory must be one of {GEN1_MEMORY_TIERS} MB, got {tier.memory_mb}")
    if tier.region_tier not in (1, 2):
        raise CostError(f"region tier must be 1 or 2, got {tier.region_tier}")


def estimate(provider: str, traffic: Traffic, tier: Tier, prices: dict | None = None,
             billed_s_per_request: float | None = None) -> Estimate:
    """Monthly cost of serving `traffic` on `provider` at `tier`, with and without the free tier.

    billed_s_per_request replaces the cold/warm model with a measured mean (from logs).
    """
    _validate(traffic, tier, provider)
    prices = prices or pricing()
    p = prices[provider]
    month_s = prices["month_days"] * 86400
    asked = traffic.requests_per_day * prices["month_days"]
    requests = asked * (1 - traffic.cache_hit_share)  # what reaches the function
    increment = p["billing_increment_ms"]
    if billed_s_per_request is None:
        billed_s_per_request = (traffic.cold_share * billed_seconds(traffic.cold_s, increment)
                                + (1 - traffic.cold_share) * billed_seconds(traffic.warm_s, increment))
    seconds = requests * billed_s_per_request
    egress_gb = requests * traffic.response_kb / 1e6
    rt = str(tier.region_tier)
    gb = tier.memory_mb / 1024
    assumptions = [f"billed time per request rounded up to {increment} ms",
                   "a cold request is billed for the whole cold start"]
    if provider == "gen1":
        ghz = prices["gen1"]["ghz_by_memory_mb"][str(tier.memory_mb)]
        idle_s = tier.min_instances * month_s
        usage = {"invocations": requests, "gb_seconds": seconds * gb, "ghz_seconds": seconds * ghz,
                 "egress_gb": egress_gb}
        rates = {"invocations": p["per_invocation"], "gb_seconds": p["gb_second"][rt],
                 "ghz_seconds": p["ghz_second"][rt], "egress_gb": p["egress_per_gb"]}
        idle = idle_s * (gb * p["gb_second"][rt] + ghz * p["idle_ghz_second"][rt])
    elif provider == "gen2":
        usage = {"requests": requests, "gib_seconds": seconds * gb, "vcpu_seconds": seconds * tier.cpu,
                 "egress_gb": egress_gb}
        rates = {"requests": p["per_request"], "gib_seconds": p["gib_second"][rt],
                 "vcpu_seconds": p["vcpu_second"][rt], "egress_gb": p["egress_per_gb"]}
        idle = tier.min_instances * month_s * (gb * p["gib_second"][rt] + tier.cpu * p["idle_vcpu_second"][rt])
        assumptions.append("request-based billing (CPU only while serving); egress priced as 1st gen")
    else:
        usage = {"requests": requests, "gb_seconds": seconds * gb}
        rates = {"requests": p["per_request"], "gb_seconds": p["gb_second"]}
        idle = 0.0
        assumptions.append("Lambda egress and provisioned concurrency are not modelled")
    free = {k: float(v) for k, v in p["free"].items() if k in usage}
    lines = {k: usage[k] * rates[k] for k in usage}
    after = {k: max(0.0, usage[k] - free.get(k, 0.0)) * rates[k] for k in usage}
    storage_gb = traffic.bucket_gb
    lines["bucket_storage"] = storage_gb * prices["gcs"]["gb_month"]
    after["bucket_storage"] = max(0.0, storage_gb - prices["gcs"]["free_gb_months"]) * prices["gcs"]["gb_month"]
    if provider == "lambda":
        assumptions.append("the model still lives in a GCS bucket")
    if idle:
        lines["min_instances_idle"] = after["min_instances_idle"] = idle
    if traffic.cache_hit_share > 0:  # Cloud CDN needs an external load balancer in front of the function
        cdn = prices["cdn"]
        hits = asked - requests
        lines["cdn_lookups"] = after["cdn_lookups"] = asked / 10_000 * cdn["per_10000_lookups"]
        lines["cdn_egress"] = after["cdn_egress"] = hits * traffic.response_kb * 1000 / 2**30 * cdn["egress_per_gib"]
        lines["load_balancer"] = after["load_balancer"] = cdn["forwarding_rule_hour"] * 24 * prices["month_days"]
        assumptions.append(f"{traffic.cache_hit_share:.0%} of requests answered by Cloud CDN; its lookups, cache "
                           "egress and the load balancer's forwarding rule are added, with no free tier")
    binding, binding_rpd = None, None
    per_request_use = {k: usage[k] / asked for k in free if asked and usage[k] > 0}
    if per_request_use:
        binding = min(per_request_use, key=lambda k: free[k] / per_request_use[k])
        binding_rpd = free[binding] / per_request_use[binding] / prices["month_days"]
    total, total_free = sum(lines.values()), sum(after.values())
    return Estimate(provider, asked, usage, free, lines, after, total, total_free,
                    total_free / asked * 1000 if asked else 0.0, total / asked * 1000 if asked else 0.0,
                    binding, binding_rpd, assumptions)


def requests_for_budget(provider: str, budget: float, duration_s: float, memory_mb: int, cpu: float = 1.0,
                        region_tier: int = 1, prices: dict | None = None,
                        gb_second_price: float | None = None) -> int:
    """How many requests `budget` buys (free tier ignored), each `duration_s` long at `memory_mb`.

    The CloudZero inversion: requests = budget / (price per GB-s x GB-s per request + price per request).
    gb_second_price overrides the list price (the article rounds Lambda's to $0.00001667).
    """
    if budget < 0 or duration_s <= 0:
        raise CostError("budget must be 0 or more and duration above 0")
    prices = prices or pricing()
    p = prices[provider]
    billed = billed_seconds(duration_s, p["billing_increment_ms"])
    gb = memory_mb / 1024
    rt = str(region_tier)
    if provider == "lambda":
        per_request = (gb_second_price or p["gb_second"]) * gb * billed + p["per_request"]
    elif provider == "gen1":
        ghz = p["ghz_by_memory_mb"][str(memory_mb)]
        per_request = ((gb_second_price or p["gb_second"][rt]) * gb + p["ghz_second"][rt] * ghz) * billed \
            + p["per_invocation"]
    else:
        per_request = ((gb_second_price or p["gib_second"][rt]) * gb + p["vcpu_second"][rt] * cpu) * billed \
            + p["per_request"]
    return math.floor(budget / per_request + 1e-9)


def worst_case_monthly(deploy: dict, prices: dict | None = None) -> float:
    """Every allowed instance busy all month: the most the deploy settings can cost (requests aside)."""
    prices = prices or pricing()
    month_s = prices["month_days"] * 86400
    rt = str(deploy.get("region_tier", 1))
    gb = deploy["memory_mb"] / 1024
    if deploy["generation"] == 1:
        p = prices["gen1"]
        per_s = gb * p["gb_second"][rt] + p["ghz_by_memory_mb"][str(deploy["memory_mb"])] * p["ghz_second"][rt]
    else:
        p = prices["gen2"]
        per_s = gb * p["gib_second"][rt] + deploy["cpu"] * p["vcpu_second"][rt]
    return deploy["max_instances"] * per_s * month_s


def parse_log_lines(lines) -> list[dict]:
    """The function's request records from JSON lines: its own stdout, or a Cloud Logging export
    (entries whose jsonPayload holds them). Other lines are skipped."""
    records = []
    for line in lines:
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            continue
        record = entry.get("jsonPayload", entry) if isinstance(entry, dict) else None
        if isinstance(record, dict) and record.get("message") == "request" and "duration_ms" in record:
            if "time" not in record and isinstance(entry.get("timestamp"), str):
                record = {**record, "time": entry["timestamp"]}
            records.append(record)
    return records


def from_logs(records: list[dict], provider: str, tier: Tier, prices: dict | None = None) -> dict:
    """The period's actual cost from the logged billed durations, and the estimate for the same traffic."""
    from datetime import datetime

    if not records:
        raise CostError("no request records found: expected the function's JSON log lines")
    prices = prices or pricing()
    times = sorted(datetime.fromisoformat(r["time"].replace("Z", "+00:00")) for r in records if r.get("time"))
    span_days = max((times[-1] - times[0]).total_seconds() / 86400, 1 / 24) if len(times) > 1 else 1.0
    increment = prices[provider]["billing_increment_ms"]
    cold = [r for r in records if r.get("cold_start")]
    warm = [r for r in records if not r.get("cold_start")]
    billed = sum(billed_seconds(r["duration_ms"] / 1000, increment) for r in records)

    def mean_s(rows):
        return sum(r["duration_ms"] for r in rows) / len(rows) / 1000 if rows else 0.0

    per_day = len(records) / span_days
    memory_mb = int(records[-1].get("memory_mb") or tier.memory_mb)
    tier = Tier(memory_mb, tier.cpu, tier.min_instances, tier.region_tier)
    traffic = Traffic(per_day, len(cold) / len(records), mean_s(cold), mean_s(warm))
    modelled = estimate(provider, traffic, tier, prices)
    # the same formula on what was actually billed: scale the period to a month
    month_scale = prices["month_days"] / span_days
    actual = estimate(provider, traffic, tier, prices, billed_s_per_request=billed / len(records))
    hits = sum(1 for r in records if r.get("cache") == "hit")
    return {"requests": len(records), "period_days": span_days, "requests_per_day": per_day,
            "cold_share": traffic.cold_share, "cache_hits": hits, "cache_hit_share": hits / len(records), "billed_seconds": billed, "memory_mb": memory_mb,
            "period_cost_without_free_tier": actual.monthly_without_free_tier / month_scale,
            "monthly_from_logs": actual.to_dict(), "monthly_estimate": modelled.to_dict()}


def bill(provider: str, billed_instance_s: float, requests: int, tier: Tier, period_s: float,
         prices: dict | None = None) -> dict:
    """What `requests` served in `billed_instance_s` of billed instance time cost at list price (no free tier),
    with tier.min_instances kept idle for the whole period_s: the simulator's bill for one simulated day."""
    prices = prices or pricing()
    p = prices[provider]
    rt = str(tier.region_tier)
    gb = tier.memory_mb / 1024
    if provider == "gen1":
        ghz = p["ghz_by_memory_mb"][str(tier.memory_mb)]
        compute = billed_instance_s * (gb * p["gb_second"][rt] + ghz * p["ghz_second"][rt])
        idle = tier.min_instances * period_s * (gb * p["gb_second"][rt] + ghz * p["idle_ghz_second"][rt])
        per_request = p["per_invocation"]
    elif provider == "gen2":
        compute = billed_instance_s * (gb * p["gib_second"][rt] + tier.cpu * p["vcpu_second"][rt])
        idle = tier.min_instances * period_s * (gb * p["gib_second"][rt] + tier.cpu * p["idle_vcpu_second"][rt])
        per_request = p["per_request"]
    else:
        raise CostError(f"the simulator bills Cloud Functions only, not {provider!r}")
    return {"compute": compute, "requests": requests * per_request, "min_instances_idle": idle,
            "total": compute + requests * per_request + idle}
