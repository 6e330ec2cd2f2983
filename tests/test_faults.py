"""Bucket faults against the real emulator and a real function process: 503 naming the cause, never a
half-loaded model, and recovery on its own once the bucket is right."""

import json
import threading
import urllib.error
import urllib.request

import pytest

from punchline import processes, upload
from punchline_serve import storage

from .slowproxy import SlowProxy


def get(url: str, timeout: float = 60):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), json.loads(err.read())


@pytest.fixture
def seeded(bundle_copy, emulator_env):
    """A fresh prefix holding a good copy of the tiny bundle; returns (uri, prefix, local copy)."""
    import uuid

    prefix = f"faults-{uuid.uuid4().hex[:8]}"
    upload.upload(bundle_copy, f"gs://punchline-faults/{prefix}", create_bucket=True)
    return f"gs://punchline-faults/{prefix}", prefix, bundle_copy


@pytest.fixture
def function(emulator, tmp_path):
    started = []

    def start(uri, emulator_url=None, **env):
        service = processes.start_function({"MODEL_URI": uri, "STORAGE_EMULATOR_HOST": emulator_url or emulator.url,
                                            "RATE_LIMIT": "none", **{k: str(v) for k, v in env.items()}},
                                           log=tmp_path / f"function-{len(started)}.log")
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()


def blob(prefix, name):
    return storage.client().bucket("punchline-faults").blob(f"{prefix}/{name}")


def test_truncated_weights_then_fixed(seeded, function):
    uri, prefix, local = seeded
    good = (local / "model.tflite").read_bytes()
    blob(prefix, "model.tflite").upload_from_string(good[: len(good) // 2])
    fn = function(uri)
    status, headers, body = get(f"{fn.url}/?n=1")
    assert status == 503 and "truncated" in body["error"] and f"{prefix}/model.tflite" in body["error"]
    assert int(headers["Retry-After"]) > 0
    blob(prefix, "model.tflite").upload_from_string(good)
    status, _, body = get(f"{fn.url}/?n=1")
    assert status == 200 and body["cold_start"] is True


def test_manifest_that_does_not_match_the_weights(seeded, function, tmp_path):
    uri, prefix, local = seeded
    manifest = json.loads((local / "manifest.json").read_text())
    manifest["files"]["model.tflite"]["sha256"] = "0" * 64
    blob(prefix, "manifest.json").upload_from_string(json.dumps(manifest))
    fn = function(uri)
    status, _, body = get(f"{fn.url}/?n=1")
    assert status == 503 and "checksum" in body["error"]
    assert get(f"{fn.url}/status")[2]["state"] == "failed"
    blob(prefix, "manifest.json").upload_from_string((local / "manifest.json").read_bytes())
    assert get(f"{fn.url}/?n=1")[0] == 200


def test_missing_weights_object(seeded, function):
    uri, prefix, _ = seeded
    blob(prefix, "model.tflite").delete()
    fn = function(uri)
    status, _, body = get(f"{fn.url}/?n=1")
    assert status == 503 and "not found" in body["error"] and "punchline-faults" in body["error"]


def test_an_object_replaced_while_loading_is_not_read_across_versions(seeded):
    _, prefix, _ = seeded
    looked_up = storage.client().bucket("punchline-faults").get_blob(f"{prefix}/model.tflite")
    blob(prefix, "model.tflite").upload_from_string(b"a different model")
    from google.api_core import exceptions

    with pytest.raises(exceptions.NotFound):  # the read is pinned to the generation looked up
        storage._download(looked_up, timeout_s=5)


def test_slow_bucket_hits_the_fetch_timeout_then_recovers(seeded, function, emulator):
    uri, _, _ = seeded
    proxy = SlowProxy(emulator.port)
    try:
        proxy.delay_s = 4.0
        fn = function(uri, emulator_url=proxy.url, FETCH_TIMEOUT_S=1)
        status, headers, body = get(f"{fn.url}/?n=1", timeout=30)
        assert status == 503 and "cannot fetch" in body["error"] and "Retry-After" in headers
        proxy.delay_s = 0.0
        status, _, body = get(f"{fn.url}/?n=1", timeout=30)
        assert status == 200 and body["cold_start"] is True
    finally:
        proxy.close()


def test_32_concurrent_cold_requests_cause_exactly_one_fetch(seeded, function):
    uri, _, _ = seeded
    fn = function(uri)
    results = []

    def call():
        results.append(get(f"{fn.url}/?n=1&max_chars=20", timeout=120))

    threads = [threading.Thread(target=call) for _ in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r[0] for r in results] == [200] * 32
    assert sum(r[2]["cold_start"] for r in results) == 1
    logs = [json.loads(line) for line in fn.log.read_text().splitlines() if line.startswith("{")]
    assert sum(1 for r in logs if r.get("bytes_fetched")) == 1
