"""`punchline load`: a bounded load test of the real function on loopback."""

import json
import os
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from punchline import processes

SETUPS = ["they said I could never make it", "my flow is like the river", "", "the city never sleeps",
          "I came in with a whisper"]
MIXES = ("unique", "repeat")  # every request different | most requests repeat a few shared links
PERMALINKS = 20  # the repeat mix: this many links ...
REPEAT_SHARE = 0.8  # ... draw this share of the requests


def query(i: int, mix: str) -> tuple[str, int]:
    """(query string, n) of the i-th request. The repeat mix sends REPEAT_SHARE of requests to one of
    PERMALINKS fixed links (chosen by a fixed pseudo-random sequence) and the rest to fresh seeds."""
    if mix == "repeat" and (i * 2654435761) % 1000 < REPEAT_SHARE * 1000:
        i = (i * 40503) % PERMALINKS
    else:
        i += PERMALINKS
    n = 1 + i % 4
    return urllib.parse.urlencode({"prompt": SETUPS[i % len(SETUPS)], "n": n,
                                   "temperature": 0.5 + (i % 10) / 10, "seed": i}), n


def cpu_seconds(service) -> float:
    """User + system CPU time used so far by the service's processes (gunicorn's master and workers)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in [service.proc.pid] + processes.children(service.proc.pid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def _phase(url: str, requests: int, concurrency: int, timeout_s: float, log=None,
           mix: str = "unique", offset: int = 0) -> tuple[list[float], list[str]]:
    """Send `requests` requests from `concurrency` threads; return (latencies in ms, errors)."""
    latencies: list[float] = []
    errors: list[str] = []
    counter = iter(range(requests))
    lock = threading.Lock()
    deadline = time.monotonic() + timeout_s * 10

    def client():
        while time.monotonic() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            text, n = query(offset + i, mix)
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{url}/?{text}", timeout=timeout_s) as response:
                    body = json.loads(response.read())
                    if len(body["punchlines"]) != n:
                        raise ValueError(f"asked for {n} punchlines, got {len(body['punchlines'])}")
            except (OSError, ValueError, KeyError) as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}"[:200])
                continue
            with lock:
                latencies.append((time.perf_counter() - start) * 1000)
                if log and len(latencies) % 500 == 0:
                    log(f"{len(latencies)} of {requests} done")

    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors


def run(bundle_dir: Path, requests: int, concurrency: int, timeout_s: float = 120, log=None,
        mix: str = "unique", cache_size: int | None = None, log_file: Path | None = None) -> dict:
    """Warm up, then send `requests` requests from `concurrency` clients in the given mix; report errors,
    latency percentiles, the serving processes' CPU time, the in-memory cache's hit rate (from the
    function's own log lines) and RSS before and after the measured run. cache_size: the function's
    CACHE_SIZE (None: its default)."""
    if mix not in MIXES:
        raise ValueError(f"mix must be one of {', '.join(MIXES)}, got {mix!r}")
    env = {"MODEL_URI": str(bundle_dir.resolve()), "RATE_LIMIT": "none"}
    if cache_size is not None:
        env["CACHE_SIZE"] = str(cache_size)
    with tempfile.TemporaryDirectory() as scratch:
        log_path = log_file or Path(scratch) / "function.log"
        service = processes.start_function(env, log=log_path)
        try:
            urllib.request.urlopen(f"{service.url}/warmup", data=b"", timeout=timeout_s).read()
            # a first burst sizes the interpreter's buffers for concurrent batches; RSS is compared after it
            # (fresh seeds, so the measured run starts with an empty cache of its own requests)
            _phase(service.url, concurrency * 8, concurrency, timeout_s, offset=10**6)
            rss_before = processes.memory_mib(service, "VmRSS")
            cpu_before = cpu_seconds(service)
            measured_from = len(log_path.read_text().splitlines())
            started = time.perf_counter()
            latencies, errors = _phase(service.url, requests, concurrency, timeout_s, log, mix)
            elapsed = time.perf_counter() - started
            cpu = cpu_seconds(service) - cpu_before
            rss_after = processes.memory_mib(service, "VmRSS")
        finally:
            service.stop()
        records = [json.loads(line) for line in log_path.read_text().splitlines()[measured_from:]
                   if line.startswith("{")]
    served = [r for r in records if r.get("message") == "request" and r.get("path") == "/"]
    hits = sum(1 for r in served if r.get("cache") == "hit")
    values = np.array(latencies) if latencies else np.array([float("nan")])
    return {"requests": requests, "concurrency": concurrency, "mix": mix, "cache_size": cache_size,
            "cache_hit_rate": hits / len(served) if served else 0.0, "cpu_seconds": cpu,
            "cpu_ms_per_request": cpu * 1000 / max(1, len(latencies)), "ok": len(latencies), "errors": len(errors),
            "first_errors": errors[:5], "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95)),
            "p99_ms": float(np.percentile(values, 99)), "max_ms": float(values.max()),
            "rss_before_mib": rss_before, "rss_after_mib": rss_after}
