"""`punchline load`: a bounded load test of the real function on loopback."""

import json
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from punchline import processes

SETUPS = ["they said I could never make it", "my flow is like the river", "", "the city never sleeps",
          "I came in with a whisper"]


def _phase(url: str, requests: int, concurrency: int, timeout_s: float, log=None) -> tuple[list[float], list[str]]:
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
            n = 1 + i % 4
            query = urllib.parse.urlencode({"prompt": SETUPS[i % len(SETUPS)], "n": n,
                                            "temperature": 0.5 + (i % 10) / 10, "seed": i})
            start = time.perf_counter()
            try:
                with urllib.request.urlopen(f"{url}/?{query}", timeout=timeout_s) as response:
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


def run(bundle_dir: Path, requests: int, concurrency: int, timeout_s: float = 120, log=None) -> dict:
    """Warm up, then send `requests` requests from `concurrency` clients; report errors, latency
    percentiles and the serving process's RSS before and after the measured run."""
    service = processes.start_function({"MODEL_URI": str(bundle_dir.resolve()), "RATE_LIMIT": "none"})
    try:
        urllib.request.urlopen(f"{service.url}/warmup", data=b"", timeout=timeout_s).read()
        # a first burst sizes the interpreter's buffers for concurrent batches; RSS is compared after it
        _phase(service.url, concurrency * 8, concurrency, timeout_s)
        rss_before = processes.memory_mib(service, "VmRSS")
        started = time.perf_counter()
        latencies, errors = _phase(service.url, requests, concurrency, timeout_s, log)
        elapsed = time.perf_counter() - started
        rss_after = processes.memory_mib(service, "VmRSS")
    finally:
        service.stop()
    values = np.array(latencies) if latencies else np.array([float("nan")])
    return {"requests": requests, "concurrency": concurrency, "ok": len(latencies), "errors": len(errors),
            "first_errors": errors[:5], "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": float(np.percentile(values, 50)), "p95_ms": float(np.percentile(values, 95)),
            "p99_ms": float(np.percentile(values, 99)), "max_ms": float(values.max()),
            "rss_before_mib": rss_before, "rss_after_mib": rss_after}
