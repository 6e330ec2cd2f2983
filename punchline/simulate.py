"""`punchline simulate` and `punchline plan`: a discrete-event simulation (simpy) of Cloud Functions serving a
traffic profile with given deploy settings, from this function's measured figures.

The platform, as its documentation describes it (Cloud Run, which runs 2nd gen functions):
- instances start on demand, each taking the measured cold start before it answers, up to --max-instances;
  --min-instances stay started;
- an instance serves up to --concurrency requests at once (1st gen: always one; below 1 vCPU, Cloud Run
  allows only one);
- when every instance is full and no more may start, a request waits in a queue for up to 60 s, then fails
  with 429 ("Maximum instances and traffic spikes", cloud.google.com/run/docs/configuring/max-instances);
- a request running longer than --timeout fails with 504;
- an idle instance is kept for up to 15 minutes, then retired (cloud.google.com/run/docs/about-instance-
  autoscaling: idle instances are kept up to 15 minutes to lessen cold starts);
- billing is per instance, for the time it has at least one request in flight, cold start included, rounded
  up to 100 ms (request-based billing), plus the idle time of min instances.

The function, from `punchline bench`: cold start, and the time a request takes when k requests are in flight
on one instance, k / throughput(k), throughput interpolated between the measured 1 and 8 concurrent clients,
spread as the measured p95/p50 of warm requests (a lognormal). The per-client rate limit refuses a visitor's
request over RATE_LIMIT per minute.
"""

import json
import math
import random
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import simpy

from punchline import cost

QUEUE_LIMIT_S = 60.0  # Cloud Run: a request waits this long for an instance, then 429
IDLE_RETIRE_S = 900.0  # idle instances are kept up to 15 minutes
SAMPLE_S = 10.0  # the timeline's resolution


class SimulationError(ValueError):
    pass


@dataclass(frozen=True)
class Deploy:
    generation: int = 2
    max_instances: int = 3
    concurrency: int = 4
    min_instances: int = 0
    memory_mb: int = 512
    cpu: float = 1.0
    timeout_s: float = 60.0
    rate_limit_per_minute: int = 60

    def check(self) -> None:
        if self.generation not in (1, 2):
            raise SimulationError(f"generation must be 1 or 2, got {self.generation}")
        if self.max_instances < 1 or self.concurrency < 1 or self.min_instances < 0:
            raise SimulationError("max_instances and concurrency must be at least 1, min_instances at least 0")
        if self.min_instances > self.max_instances:
            raise SimulationError(f"min_instances ({self.min_instances}) exceeds max_instances ({self.max_instances})")
        if self.generation == 2 and self.cpu < 1 and self.concurrency > 1:
            raise SimulationError(f"concurrency {self.concurrency} needs at least 1 vCPU (Cloud Run allows only "
                                  f"concurrency 1 below 1 vCPU), got cpu {self.cpu:g}")

    @property
    def per_instance(self) -> int:
        return 1 if self.generation == 1 else self.concurrency

    def flags(self) -> str:
        return (f"--{'gen2' if self.generation == 2 else 'no-gen2'} --memory={self.memory_mb}Mi"
                + (f" --cpu={self.cpu:g} --concurrency={self.concurrency}" if self.generation == 2 else "")
                + f" --max-instances={self.max_instances} --min-instances={self.min_instances}"
                f" --timeout={self.timeout_s:g}s")


@dataclass(frozen=True)
class Measured:
    """The function's figures, as `punchline bench` measured them."""
    cold_start_s: float
    rps_c1: float
    rps_c8: float
    spread: float = 1.25  # p95 / p50 of a warm request
    label: str = ""

    @classmethod
    def from_bench(cls, path: Path) -> "Measured":
        try:
            report = json.loads(path.read_text(encoding="utf-8"))
            spread = report["warm_p95_ms_n1"] / report["warm_p50_ms_n1"]
            return cls(report["cold_start_s"], report["rps_c1"], report["rps_c8"], max(1.0, spread),
                       f"{path} ({report.get('quantization', '?')}, {report.get('machine', '?')})")
        except (OSError, KeyError, ValueError, ZeroDivisionError) as exc:
            raise SimulationError(f"cannot read the measured figures from {path}: {exc}") from None

    def throughput(self, k: int) -> float:
        if k <= 1:
            return self.rps_c1
        return self.rps_c1 + (self.rps_c8 - self.rps_c1) * (min(k, 8) - 1) / 7

    def service_s(self, in_flight: int, rng: random.Random) -> float:
        mean = in_flight / self.throughput(in_flight)
        sigma = math.log(self.spread) / 1.645
        return mean * math.exp(rng.gauss(0, sigma) - sigma * sigma / 2)


@dataclass
class Visitor:
    arrival_s: float
    punchlines: int
    think_s: float


def spike(visitors: int, hours: float, punchlines: int, think_s: float, seed: int) -> list[Visitor]:
    """`visitors` arriving at random over `hours`, each asking `punchlines` times, `think_s` apart on average."""
    rng = random.Random(seed)
    return sorted((Visitor(rng.uniform(0, hours * 3600), punchlines, think_s) for _ in range(visitors)),
                  key=lambda v: v.arrival_s)


def steady(requests_per_s: float, hours: float, seed: int) -> list[Visitor]:
    """Independent one-request visitors at a steady rate (Poisson arrivals)."""
    rng, t, out = random.Random(seed), 0.0, []
    while requests_per_s > 0:
        t += rng.expovariate(requests_per_s)
        if t >= hours * 3600:
            break
        out.append(Visitor(t, 1, 0.0))
    return out


def daily(visitors_per_day: float, punchlines: int, think_s: float, seed: int) -> list[Visitor]:
    """A day whose arrival rate follows a cycle: quiet at 4 in the morning, busiest at 4 in the afternoon."""
    rng, out = random.Random(seed), []
    peak = 2 * visitors_per_day / 86400
    t = 0.0
    while visitors_per_day > 0:
        t += rng.expovariate(peak)
        if t >= 86400:
            break
        if rng.random() < (1 - math.cos(2 * math.pi * (t - 4 * 3600) / 86400)) / 2:  # thinning
            out.append(Visitor(t, punchlines, think_s))
    return out


def from_file(path: Path) -> list[Visitor]:
    """A profile file: JSON {"visitors": [{"arrival_s": 0.5, "punchlines": 3, "think_s": 10}, ...]}."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return sorted((Visitor(float(v["arrival_s"]), int(v.get("punchlines", 1)), float(v.get("think_s", 0)))
                       for v in data["visitors"]), key=lambda v: v.arrival_s)
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise SimulationError(f"{path} is not a profile ({{\"visitors\": [{{\"arrival_s\": ...}}]}}): {exc}") from None


@dataclass
class Result:
    requests: int = 0
    ok: int = 0
    refused: int = 0  # 429: the queue limit or the rate limit
    timed_out: int = 0  # 504
    cold_starts: int = 0
    latencies_cold: list = field(default_factory=list)
    latencies_warm: list = field(default_factory=list)
    visitors: int = 0
    visitors_cold: int = 0
    billed_instance_s: float = 0.0
    duration_s: float = 0.0
    timeline: list = field(default_factory=list)  # (t, instances, busy requests, queued, p95 of the window)
    peak_instances: int = 0


class Platform:
    def __init__(self, env: simpy.Environment, deploy: Deploy, measured: Measured, rng: random.Random):
        self.env, self.deploy, self.measured, self.rng = env, deploy, measured, rng
        self.instances: list[dict] = []
        self.queue: list = []  # (arrival, counter, event) waiting for a slot
        self.counter = 0
        self.result = Result(peak_instances=deploy.min_instances)
        for _ in range(deploy.min_instances):
            self.instances.append({"ready": True, "in_flight": 0, "busy_since": None, "idle_since": 0.0,
                                   "keep": True, "waiting": 0})

    # -- slots -------------------------------------------------------------------------------------------
    def _free(self):
        """A ready instance with room (the least loaded), or None."""
        ready = [i for i in self.instances if i["ready"] and i["in_flight"] < self.deploy.per_instance]
        return min(ready, key=lambda i: i["in_flight"]) if ready else None

    def _starting_with_room(self):
        starting = [i for i in self.instances if not i["ready"] and i["waiting"] < self.deploy.per_instance]
        return starting[0] if starting else None

    def acquire(self):
        """A process yielding (instance, cold) once a slot is held, or (None, False) after the queue limit."""
        free = self._free()
        if free is not None:
            self._occupy(free)
            return free, False
        starting = self._starting_with_room()
        if starting is None and len(self.instances) < self.deploy.max_instances:
            starting = {"ready": False, "in_flight": 0, "busy_since": None, "idle_since": None,
                        "keep": False, "waiting": 0, "started": self.env.event()}
            self.instances.append(starting)
            self.result.cold_starts += 1
            self.result.peak_instances = max(self.result.peak_instances, len(self.instances))
            self.env.process(self._boot(starting))
        if starting is not None:
            starting["waiting"] += 1
            yield starting["started"]
            starting["waiting"] -= 1
            self._occupy(starting)
            return starting, True
        wake = self.env.event()
        self.counter += 1
        entry = (self.env.now, self.counter, wake)
        self.queue.append(entry)
        outcome = yield wake | self.env.timeout(QUEUE_LIMIT_S)
        if wake in outcome:
            return wake.value, False
        self.queue.remove(entry)
        return None, False

    def _boot(self, instance):
        instance["busy_since"] = self.env.now  # request-based billing counts the start a request caused
        yield self.env.timeout(self.measured.cold_start_s)
        instance["ready"] = True
        instance["started"].succeed()

    def _occupy(self, instance):
        if instance["in_flight"] == 0 and instance["busy_since"] is None:
            instance["busy_since"] = self.env.now
        instance["in_flight"] += 1

    def release(self, instance):
        instance["in_flight"] -= 1
        if self.queue:
            _, _, wake = self.queue.pop(0)
            instance["in_flight"] += 1
            wake.succeed(instance)
            return
        if instance["in_flight"] == 0:
            busy = self.env.now - instance["busy_since"]
            self.result.billed_instance_s += math.ceil(busy * 10 - 1e-9) / 10
            instance["busy_since"] = None
            instance["idle_since"] = self.env.now
            self.env.process(self._retire_later(instance, self.env.now))

    def _retire_later(self, instance, idle_since):
        yield self.env.timeout(IDLE_RETIRE_S)
        if instance["idle_since"] == idle_since and instance["in_flight"] == 0 and instance in self.instances:
            kept = sum(1 for i in self.instances if i["keep"])
            if not instance["keep"] or kept > self.deploy.min_instances:
                self.instances.remove(instance)

    # -- visitors ----------------------------------------------------------------------------------------
    def visitor(self, visitor: Visitor, index: int, recent: dict):
        yield self.env.timeout(max(0.0, visitor.arrival_s - self.env.now))
        self.result.visitors += 1
        saw_cold = False
        for k in range(visitor.punchlines):
            if k:
                yield self.env.timeout(self.rng.expovariate(1 / visitor.think_s) if visitor.think_s > 0 else 0)
            self.result.requests += 1
            times = recent.setdefault(index, [])
            while times and times[0] <= self.env.now - 60:
                times.pop(0)
            if len(times) >= self.deploy.rate_limit_per_minute:
                self.result.refused += 1
                continue
            times.append(self.env.now)
            start = self.env.now
            instance, cold = yield from self.acquire()
            if instance is None:
                self.result.refused += 1
                continue
            service = self.measured.service_s(instance["in_flight"], self.rng)
            left = self.deploy.timeout_s - (self.env.now - start)
            yield self.env.timeout(max(0.0, min(service, left)))
            self.release(instance)
            if service > left:
                self.result.timed_out += 1
                continue
            self.result.ok += 1
            self.result.duration_s = self.env.now  # the last answer so far
            latency = self.env.now - start
            (self.result.latencies_cold if cold else self.result.latencies_warm).append(latency)
            saw_cold = saw_cold or cold
        self.result.visitors_cold += saw_cold

    def sampler(self, until: float, progress=None):
        last = 0
        while self.env.now < until:
            yield self.env.timeout(SAMPLE_S)
            done = self.result.latencies_cold + self.result.latencies_warm
            recent = done[last:]
            last = len(done)
            p95 = _percentile(recent, 95)  # NaN for a window with no answers: the chart leaves a gap
            busy = sum(i["in_flight"] for i in self.instances)
            self.result.timeline.append((self.env.now, len(self.instances), busy, len(self.queue), p95))
            if progress:
                progress(SAMPLE_S)


def _percentile(values, q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))]


def run(visitors: list[Visitor], deploy: Deploy, measured: Measured, seed: int = 0, progress=None) -> dict:
    """Simulate the profile; return the summary (JSON-able), with the timeline."""
    deploy.check()
    env = simpy.Environment()
    platform = Platform(env, deploy, measured, random.Random(seed))
    recent: dict = {}
    for index, visitor in enumerate(visitors):
        env.process(platform.visitor(visitor, index, recent))
    end = (max((v.arrival_s for v in visitors), default=0.0) + 600)
    env.process(platform.sampler(end, progress))
    env.run(until=end + QUEUE_LIMIT_S + deploy.timeout_s + IDLE_RETIRE_S)
    return summarize(platform.result, deploy, end)


def summarize(result: Result, deploy: Deploy, period_s: float) -> dict:
    tier = cost.Tier(deploy.memory_mb, deploy.cpu, deploy.min_instances)
    provider = "gen2" if deploy.generation == 2 else "gen1"
    bill = cost.bill(provider, result.billed_instance_s, result.requests, tier, period_s)
    every = result.latencies_cold + result.latencies_warm
    n = max(1, result.requests)
    return {
        "deploy": asdict(deploy), "requests": result.requests, "ok": result.ok,
        "refused_share": result.refused / n, "timed_out_share": result.timed_out / n,
        "cold_starts": result.cold_starts, "peak_instances": result.peak_instances,
        "visitors": result.visitors, "visitors_cold_share": result.visitors_cold / max(1, result.visitors),
        "latency_s": {"p50": _percentile(every, 50), "p95": _percentile(every, 95), "p99": _percentile(every, 99)},
        "latency_warm_s": {"p50": _percentile(result.latencies_warm, 50),
                           "p95": _percentile(result.latencies_warm, 95)},
        "latency_cold_s": {"p50": _percentile(result.latencies_cold, 50),
                           "p95": _percentile(result.latencies_cold, 95)},
        "billed_instance_s": result.billed_instance_s, "period_s": period_s, "bill_usd": bill,
        "timeline": result.timeline,
    }


def variations(deploy: Deploy) -> list[tuple[str, Deploy]]:
    """Each setting varied one at a time around `deploy`."""
    out = [("as given", deploy)]
    for label, changed in [
        ("max instances ×2", replace(deploy, max_instances=deploy.max_instances * 2)),
        ("max instances ½", replace(deploy, max_instances=max(1, deploy.max_instances // 2),
                                    min_instances=min(deploy.min_instances, max(1, deploy.max_instances // 2)))),
        ("concurrency ×2", replace(deploy, concurrency=deploy.concurrency * 2)),
        ("concurrency 1", replace(deploy, concurrency=1)),
        ("min instances +1", replace(deploy, min_instances=min(deploy.max_instances, deploy.min_instances + 1))),
        ("1st gen", replace(deploy, generation=1)),
    ]:
        if changed != deploy:
            out.append((label, changed))
    return out


def plan(visitors: list[Visitor], bundles: dict[str, Measured], p95_goal_s: float, max_failed: float,
         budget_usd: float | None, seed: int = 0, progress=None) -> list[dict]:
    """Every candidate setting simulated; sorted cheapest first among those meeting the goal, then the rest."""
    rows = []
    for name, measured in bundles.items():
        memory = 256 if name == "int8" else 512
        for max_instances in (1, 2, 3, 5, 10):
            for concurrency in (1, 4, 8):
                for min_instances in (0, 1):
                    deploy = Deploy(2, max_instances, concurrency, min_instances, memory, 1.0 if memory >= 512 else 0.5)
                    if deploy.cpu < 1 and concurrency > 1:
                        if progress:
                            progress(1)
                        continue  # not a setting Cloud Run accepts
                    slow = replace(measured, rps_c1=measured.rps_c1 * deploy.cpu, rps_c8=measured.rps_c8 * deploy.cpu)
                    summary = run(visitors, deploy, slow, seed)
                    failed = summary["refused_share"] + summary["timed_out_share"]
                    meets = (summary["latency_s"]["p95"] <= p95_goal_s and failed <= max_failed
                             and (budget_usd is None or summary["bill_usd"]["total"] <= budget_usd))
                    summary.pop("timeline")
                    rows.append({"bundle": name, "meets": meets, **summary})
                    if progress:
                        progress(1)
    return sorted(rows, key=lambda r: (not r["meets"], r["bill_usd"]["total"], r["latency_s"]["p95"]))


def chart(summary: dict, path: Path, title: str) -> None:
    """Instances, requests in flight and queued, and the p95 latency over the simulated period."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t, instances, busy, queued, p95 = zip(*summary["timeline"]) if summary["timeline"] else ([], [], [], [], [])
    hours = [x / 3600 for x in t]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    top.step(hours, instances, label="instances", where="post")
    top.plot(hours, busy, label="requests in flight", alpha=0.7)
    top.set_ylabel("instances, requests in flight")
    queue_axis = top.twinx()  # the queue can be thousands long: its own scale
    queue_axis.plot(hours, queued, label="queued (right scale)", color="#2ca02c", alpha=0.7)
    queue_axis.set_ylabel("queued requests")
    handles = top.get_legend_handles_labels()[0] + queue_axis.get_legend_handles_labels()[0]
    top.legend(handles=handles, loc="upper right")
    top.set_title(title, fontsize=9, wrap=True)
    bottom.plot(hours, p95, color="#d62728")
    bottom.set_ylabel("p95 latency (s), 10 s windows")
    bottom.set_xlabel("hours")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def closed_loop(clients: int, requests: int, measured: Measured, seed: int = 0) -> dict:
    """What `punchline load` does against one instance: `clients` sending back to back; throughput and
    latency percentiles, for the agreement check with a real run."""
    deploy = Deploy(2, 1, max(clients, 1), 1, 512, 1.0, 600, 10**9)
    each = [requests // clients + (i < requests % clients) for i in range(clients)]
    visitors = [Visitor(0.0, k, 0.0) for k in each]
    env = simpy.Environment()
    platform = Platform(env, deploy, measured, random.Random(seed))
    for i, v in enumerate(visitors):
        env.process(platform.visitor(v, i, {}))
    env.run()
    latencies = platform.result.latencies_warm
    span = platform.result.duration_s
    return {"rps": len(latencies) / span if span else float("nan"),
            "p50_ms": 1000 * _percentile(latencies, 50), "p95_ms": 1000 * _percentile(latencies, 95)}


AGREEMENT_TOLERANCE = 0.35  # the simulator's throughput and median latency within 35 % of a real load test


def agreement(bundle_dir: Path, concurrencies=(2, 4), requests: int = 400, log=None) -> list[dict]:
    """The simulator against this machine's real function (one instance, `punchline load`): calibrate the
    service model from real runs at 1 and 8 clients, predict the others, and measure them."""
    from punchline import load

    def measure(clients):
        report = load.run(bundle_dir, requests, clients, cache_size=0)
        if log:
            log(f"measured {clients} clients: {report['rps']:.1f} requests/s, p50 {report['p50_ms']:.0f} ms")
        return report

    one, eight = measure(1), measure(8)
    spread = max(1.0, one["p95_ms"] / one["p50_ms"])
    measured = Measured(1.0, one["rps"], eight["rps"], spread, f"{bundle_dir} on this machine")
    rows = []
    for clients in concurrencies:
        predicted = closed_loop(clients, requests, measured)
        real = measure(clients)
        rows.append({"clients": clients, "predicted": predicted,
                     "measured": {"rps": real["rps"], "p50_ms": real["p50_ms"], "p95_ms": real["p95_ms"]},
                     "rps_error": predicted["rps"] / real["rps"] - 1,
                     "p50_error": predicted["p50_ms"] / real["p50_ms"] - 1})
    return rows
