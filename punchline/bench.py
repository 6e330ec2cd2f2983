"""`punchline bench`: cold start, warm latency, throughput and memory of the real function, against the
original recipe, on this machine, with a model of the ~150 MB production configuration."""

import dataclasses
import hashlib
import http.client
import json
import math
import os
import platform
import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np

from punchline import corpus, modelling, processes, rehearse, train, upload
from punchline_serve import decode

REPO = processes.REPO
BASELINE_SOURCE = REPO / "bench" / "baseline_function" / "main.py"
# ~150 MB of float32 weights, most of them in the hashed n-gram table, which a step only gathers from.
PRODUCTION = {key: modelling.PRESETS["production"][key] for key in modelling.ARCHITECTURE_KEYS}
SETUP = "they said I could never make it"
WORDS_PER_LINE = 12  # the random model ends a line after about this many words, as the shipped model does (eval mean_words)
MAX_CHARS = 80


class BenchError(RuntimeError):
    pass


def _say(message: str, log) -> None:
    if log:
        log(message)


def production_architecture(corpus_path: Path) -> tuple[modelling.Architecture, list[str]]:
    vocab = train.vocabulary(corpus.load_pairs(corpus_path), modelling.PRESETS["production"]["max_words"])
    return modelling.Architecture(vocab_size=len(vocab), **PRODUCTION), vocab


def build_models(work: Path, corpus_path: Path, quantization: str, log=None):
    """Ours (a bundle, exported as `punchline train` exports) and the baseline's Keras file, cached by config.

    Returns (our bundle folder, the baseline's folder, the architecture).
    """
    arch, vocab = production_architecture(corpus_path)
    code = [(REPO / path).read_text() for path in (
        "punchline/modelling.py", "functions/punchline_serve/model.py", "punchline/bench.py")]  # random weights too
    key = hashlib.sha256(json.dumps([arch.to_manifest(), vocab, quantization, code]).encode()).hexdigest()[:12]
    folder = work / f"model-{key}"
    ours, baseline = folder / "ours", folder / "baseline"
    if (ours / "manifest.json").is_file() and (baseline / "baseline.json").is_file():
        _say(f"reusing the production-size models in {folder}", log)
        return ours, baseline, arch
    _say(f"building a production-size model ({arch.weight_bytes() / 1e6:.0f} MB of float32 weights, random)", log)
    import keras

    model = modelling.build(arch, zeros=True)  # zeros: Keras' default initializers take seconds at this size
    rng = np.random.default_rng(0)
    weights = [(rng.standard_normal(w.shape, dtype=np.float32) * 0.05) for w in model.get_weights()]
    # the line break about once in WORDS_PER_LINE - MIN_WORDS words, once decoding allows it
    weights[-1][vocab.index("\n")] = math.log(len(vocab) / (WORDS_PER_LINE - decode.MIN_WORDS))
    model.set_weights(weights)
    trained = train.Trained(model, arch, vocab, loss=float("nan"), val_loss=None, epochs_run=0)
    train.write_bundle(ours, trained, name="bench-production", quantization=quantization,
                       training={"random_weights": True})
    baseline.mkdir(parents=True, exist_ok=True)
    keras.saving.save_model(model, baseline / "model.keras")
    (baseline / "baseline.json").write_text(json.dumps({"architecture": dataclasses.asdict(arch),
                                                        "vocabulary": vocab}))
    return ours, baseline, arch


def upload_baseline(baseline: Path, uri: str, endpoint: str | None = None) -> None:
    from punchline_serve import storage

    location = storage.parse_uri(uri)
    bucket = storage.client(endpoint).bucket(location.bucket)
    if not bucket.exists():
        storage.client(endpoint).create_bucket(location.bucket)
    for name in ("model.keras", "baseline.json"):
        bucket.blob(location.object_name(name)).upload_from_filename(str(baseline / name), timeout=300)


def _get(url: str, timeout: float = 300) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return json.loads(response.read())


class _KeepAlive:
    """One client's HTTP/1.1 connection, reused across its requests as a browser or curl session would."""

    def __init__(self, url: str, timeout: float = 300):
        parts = urllib.parse.urlsplit(url)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)

    def get(self, path: str) -> dict:
        self.connection.request("GET", path)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise BenchError(f"GET {path} answered {response.status}: {body[:200]!r}")
        return json.loads(body)

    def close(self) -> None:
        self.connection.close()


def _query(n: int) -> str:
    """A request without a seed: every one is generated (a seeded repeat could be answered from the function's
    cache), and its answer reports the cold start and timings."""
    return urllib.parse.urlencode({"prompt": SETUP, "n": n, "max_chars": MAX_CHARS})


def cold_start(env: dict, source: Path, warm: int = 0, timeout_s: float = 300, rhymed: bool = True) -> dict:
    """Fresh process start -> first punchline fully received; with the function's own breakdown.

    With warm > 0, that many warm n=1 requests follow on the same process (their latencies in ms; with
    rhymed, each must have gone through the rhyme step).
    """
    port = processes.free_port()
    start = time.perf_counter()
    service = processes.spawn_function(env, port, source=source)
    try:
        while True:
            if service.proc.poll() is not None:
                raise BenchError(f"{source} exited with {service.proc.returncode} during a cold start")
            try:
                body = _get(f"{service.url}/?{_query(1)}", timeout=timeout_s)
                break
            except urllib.error.HTTPError as err:
                raise BenchError(f"{source} answered {err.code}: {err.read()[:300]!r}") from None
            except (ConnectionError, urllib.error.URLError):
                if time.perf_counter() - start > timeout_s:
                    raise BenchError(f"{source} did not answer within {timeout_s} s") from None
                time.sleep(0.005)
        total = time.perf_counter() - start
        if not body.get("cold_start"):
            raise BenchError(f"{source}: the first request did not report a cold start")
        timings = body["timings_ms"]
        return {"total_s": total, "fetch_s": timings["fetch"] / 1000,
                "load_s": (timings["load"] - timings["fetch"]) / 1000, "generate_s": timings["generate"] / 1000,
                "start_and_imports_s": total - (timings["load"] + timings["generate"]) / 1000,
                "chars": len(body["punchlines"][0]),
                "warm_ms": warm_latencies(service.url, 1, warm, rhymed) if warm else [],
                "peak_rss_mib": processes.memory_mib(service)}
    finally:
        service.stop()


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values), q))


def warm_latencies(url: str, n: int, count: int, rhymed: bool = True) -> list[float]:
    client, times = _KeepAlive(url), []
    try:
        for i in range(count):
            start = time.perf_counter()
            body = client.get(f"/?{_query(n)}")
            times.append((time.perf_counter() - start) * 1000)
            if body.get("cold_start"):
                raise BenchError("a warm request reported a cold start")
            if rhymed and not body.get("rhymed"):  # the timings must include the rhyme step
                raise BenchError(f"a warm request did not go through the rhyme step: {body.get('punchlines')}")
    finally:
        client.close()
    return times


def throughput(url: str, concurrency: int, per_worker: int) -> float:
    """Requests per second for n=1 punchlines with `concurrency` clients in parallel."""
    errors: list[Exception] = []

    def client(worker: int):
        connection = _KeepAlive(url)
        try:
            for i in range(per_worker):
                try:
                    connection.get(f"/?{_query(1)}")
                except Exception as exc:  # counted, then reported
                    errors.append(exc)
                    connection.close()
                    connection = _KeepAlive(url)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(w,)) for w in range(concurrency)]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if errors:
        raise BenchError(f"{len(errors)} requests failed at concurrency {concurrency}: {errors[0]}")
    return concurrency * per_worker / elapsed


def concurrency_ceiling(bundle_dir: Path, threads: int, seeds=range(100, 112), full_batch: int | None = None,
                        setup: str = SETUP) -> dict:
    """How far batching concurrent requests could raise throughput on this machine, at best.

    In-process, with the function's own code: one rhymed request per seed, one at a time (as at
    concurrency 1), counting the model rows they compute; then the time per row of a pass as full as
    concurrency could make it. A request needs its rows whatever the batching, so c8/c1 can exceed (time per
    request alone) / (its rows at the full-batch rate) only by doing less work per request. The full batch
    defaults to the most rows eight n=1 requests can put in one pass: eight times the candidates per line.
    """
    from punchline_serve import loader, params

    full_batch = full_batch or 8 * decode.CANDIDATES_PER_LINE
    loaded = loader.load(str(bundle_dir), threads)
    model = loaded.model

    def ask(seed):
        return loaded.punchlines(setup, 1, params.DEFAULT_TEMPERATURE, MAX_CHARS, seed)[1]

    for seed in range(3):  # warm up
        ask(seed)
    rows, passes, start = model.rows, model.passes, time.perf_counter()
    rhymed = [ask(seed) for seed in seeds]
    requests = len(rhymed)
    alone_ms = (time.perf_counter() - start) * 1000 / requests
    if not all(rhymed):  # the bench's requests must be the rhymed ones the function serves
        raise BenchError(f"in-process requests for {setup!r} did not rhyme (no rhyme in the model's words?)")
    rows_per_request = (model.rows - rows) / requests
    rows_per_pass = (model.rows - rows) / (model.passes - passes)

    def pass_ms(batch):
        ids, carry = np.full(batch, model.newline), model.start(batch)
        model.step(ids, carry)
        start = time.perf_counter()
        for _ in range(20):
            model.step(ids, carry)
        return (time.perf_counter() - start) * 1000 / 20

    row_ms = pass_ms(full_batch) / full_batch
    alone_batch = max(1, round(rows_per_pass))
    return {"alone_ms": alone_ms, "rows_per_request": rows_per_request, "rows_per_pass_alone": rows_per_pass,
            "row_ms_alone": pass_ms(alone_batch) / alone_batch,
            "row_ms_full_batch": row_ms, "full_batch": full_batch,
            "ceiling_c8_c1": alone_ms / (rows_per_request * row_ms)}


def deployed_dependencies_mib(work: Path, log=None) -> float:
    """Installed size of a fresh environment holding only functions/requirements.txt (the deploy rehearsal's:
    what Cloud Functions' build installs)."""
    python = rehearse.environment(work / "function-env", rehearse.FUNCTION_DIR / "requirements.txt", log)
    return rehearse.installed_mib(python)


def run(*, quick: bool, quantization: str, corpus_path: Path, work: Path, log=None) -> dict:
    """Run every measurement; return the report (also what --json prints)."""
    from punchline_serve import settings

    runs = 2 if quick else 5
    ours_dir, baseline_dir, arch = build_models(work, corpus_path, quantization, log)
    emulator = processes.start_emulator()
    try:
        upload.upload(ours_dir, "gs://punchline-bench/ours", create_bucket=True, endpoint=emulator.url)
        upload_baseline(baseline_dir, "gs://punchline-bench/baseline", endpoint=emulator.url)
        # the rate limit would cap the load this bench generates from one client: off here
        ours_env = {"MODEL_URI": "gs://punchline-bench/ours", "STORAGE_EMULATOR_HOST": emulator.url,
                    "RATE_LIMIT": "none"}
        base_env = {"MODEL_URI": "gs://punchline-bench/baseline", "STORAGE_EMULATOR_HOST": emulator.url}
        ours_cold, base_cold = [], []
        for i in range(runs):
            ours_cold.append(cold_start(ours_env, processes.FUNCTION_SOURCE))
            _say(f"cold start {i + 1}/{runs}, ours: {ours_cold[-1]['total_s']:.2f} s", log)
            base_cold.append(cold_start(base_env, BASELINE_SOURCE, warm=2 if i == runs - 1 else 0,
                                        rhymed=False))  # the original recipe has no rhyme step
            _say(f"cold start {i + 1}/{runs}, baseline (the original recipe): {base_cold[-1]['total_s']:.2f} s", log)
        _say("how far batching could raise throughput here (in-process)", log)
        ceiling = concurrency_ceiling(ours_dir, settings.load(ours_env).inference_threads)
        _say("warm latency, throughput and memory: ours", log)
        service = processes.start_function(ours_env)
        try:
            _get(f"{service.url}/?{_query(1)}")  # pay the cold start first
            n1 = warm_latencies(service.url, 1, 15 if quick else 40)
            n8 = warm_latencies(service.url, 8, 8 if quick else 20)
            # this machine's speed drifts: alternate the two loads and compare medians
            rounds = [(throughput(service.url, 1, 10 if quick else 20), throughput(service.url, 8, 3 if quick else 6))
                      for _ in range(3)]
            rps_c1 = statistics.median(r[0] for r in rounds)
            rps_c8 = statistics.median(r[1] for r in rounds)
            peak_rss = processes.memory_mib(service)
        finally:
            service.stop()
    finally:
        emulator.stop()

    def median(rows, key):
        return statistics.median(r[key] for r in rows)

    manifest = json.loads((ours_dir / "manifest.json").read_text())
    report = {
        "machine": f"{os.cpu_count()}-core {platform.machine()} {_cpu_name()}, {_memory_gib():.0f} GiB",
        "quick": quick,
        "runs": runs,
        "model_bytes": manifest["files"]["model.tflite"]["size"],
        "model_float32_weight_bytes": arch.weight_bytes(),
        "quantization": quantization,
        "architecture": manifest["architecture"],
        "cold_start_s": median(ours_cold, "total_s"),
        "cold_start_breakdown_s": {k: median(ours_cold, k) for k in
                                   ("start_and_imports_s", "fetch_s", "load_s", "generate_s")},
        "baseline_cold_start_s": median(base_cold, "total_s"),
        "baseline_cold_start_breakdown_s": {k: median(base_cold, k) for k in
                                            ("start_and_imports_s", "fetch_s", "load_s", "generate_s")},
        "warm_p50_ms_n1": _percentile(n1, 50),
        "warm_p95_ms_n1": _percentile(n1, 95),
        "warm_p50_ms_n8": _percentile(n8, 50),
        "warm_p95_ms_n8": _percentile(n8, 95),
        "baseline_warm_p50_ms_n1": _percentile(base_cold[-1]["warm_ms"], 50),
        "rps_c1": rps_c1,
        "rps_c8": rps_c8,
        "peak_rss_mib": peak_rss,
        "baseline_peak_rss_mib": max(r["peak_rss_mib"] for r in base_cold),
        "deployed_dependencies_mib": deployed_dependencies_mib(work, log),
        "punchline_chars": MAX_CHARS,
        "setup_line": SETUP,
        "rhyme_step": True,
        "concurrency_ceiling": ceiling,
    }
    report["speedup_cold"] = report["baseline_cold_start_s"] / report["cold_start_s"]
    report["throughput_ratio_c8_c1"] = report["rps_c8"] / report["rps_c1"]
    report["fits_memory_tier_mib"] = next(t for t in (256, 512, 1024, 2048, 4096, 8192) if peak_rss <= t * 0.9)
    return report


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "CPU"


def _memory_gib() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
