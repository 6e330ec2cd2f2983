"""The function as a real functions-framework process against the real emulator, over loopback HTTP."""

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from punchline import processes, upload


def get(url: str, headers: dict | None = None, timeout: float = 30):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


@pytest.fixture
def function_factory(tmp_path):
    started = []

    def start(**env):
        service = processes.start_function({k: str(v) for k, v in env.items()}, log=tmp_path / "function.log")
        started.append(service)
        return service

    yield start
    for service in started:
        service.stop()
        assert not service.alive()


def test_real_process_cold_then_warm_json_and_text(function_factory, bucket_uri, emulator):
    fn = function_factory(MODEL_URI=bucket_uri, STORAGE_EMULATOR_HOST=emulator.url)
    status, _, body = get(f"{fn.url}/status")
    assert status == 200 and json.loads(body)["state"] == "cold"
    status, _, body = get(f"{fn.url}/?prompt=hello&n=3")
    first = json.loads(body)
    assert status == 200 and len(first["punchlines"]) == 3 and first["cold_start"] is True
    status, headers, body = get(f"{fn.url}/?prompt=hello&n=3", {"Accept": "text/plain"})
    assert status == 200 and headers["Content-Type"].startswith("text/plain")
    assert len(body.decode().strip().split("\n")) == 3
    second = json.loads(get(f"{fn.url}/?n=1")[2])
    assert second["cold_start"] is False
    assert fn.alive()
    logs = [json.loads(line) for line in fn.log.read_text().splitlines() if line.startswith("{")]
    generated = [r for r in logs if r.get("message") == "request" and r["path"] == "/"]
    assert [(r["status"], r["cold_start"]) for r in generated] == [(200, True), (200, False), (200, False)]
    assert generated[0]["bytes_fetched"] > 0 and generated[0]["load_ms"] > 0


def test_emulator_down_at_cold_start_then_back(function_factory, tiny_bundle, tmp_path, monkeypatch):
    port = processes.free_port()
    uri = "gs://punchline-recover/model"
    fn = function_factory(MODEL_URI=uri, STORAGE_EMULATOR_HOST=f"http://127.0.0.1:{port}", FETCH_TIMEOUT_S=2,
                          RETRY_AFTER_S=7)
    status, headers, body = get(f"{fn.url}/?n=1")
    assert status == 503 and headers["Retry-After"] == "7"
    assert "punchline-recover" in json.loads(body)["error"]
    assert json.loads(get(f"{fn.url}/status")[2])["state"] == "failed"
    emulator = processes.start_emulator(port)
    try:
        upload.upload(tiny_bundle, uri, create_bucket=True, endpoint=emulator.url)
        status, _, body = get(f"{fn.url}/?n=2")
        assert status == 200, body
        assert json.loads(body)["cold_start"] is True
    finally:
        emulator.stop()
    status, _, body = get(f"{fn.url}/?n=1")  # the model stays in memory when the bucket goes away
    assert status == 200 and json.loads(body)["cold_start"] is False


def test_stopping_kills_the_whole_process_group(function_factory, tiny_bundle):
    fn = function_factory(MODEL_URI=str(tiny_bundle))
    assert get(f"{fn.url}/?n=1")[0] == 200
    pgid = fn.proc.pid
    assert len(processes.group_members(pgid)) >= 2  # gunicorn's master and its worker
    fn.stop()  # returns only once every member of the group has gone
    assert processes.group_members(pgid) == []


def test_a_service_that_ignores_sigterm_is_killed_after_the_timeout():
    stubborn = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", stubborn], stdout=subprocess.PIPE, start_new_session=True)
    assert proc.stdout.readline() == b"ready\n"  # its SIGTERM handler is in place
    proc.stdout.close()
    service = processes.Service("stubborn", proc, "http://127.0.0.1:1", 1)
    started = time.monotonic()
    service.stop(timeout_s=1)
    assert processes.group_members(proc.pid) == [] and proc.returncode == -9
    assert time.monotonic() - started < 10


def test_real_process_behind_a_balancer_gives_each_client_its_own_limit(function_factory, bucket_uri, emulator):
    fn = function_factory(MODEL_URI=bucket_uri, STORAGE_EMULATOR_HOST=emulator.url, RATE_LIMIT="2/minute",
                          TRUSTED_PROXY_HOPS=2)
    alice = {"X-Forwarded-For": "203.0.113.7, 34.120.0.1"}
    bob = {"X-Forwarded-For": "198.51.100.9, 34.120.0.1"}
    assert [get(f"{fn.url}/?n=1", alice)[0] for _ in range(3)] == [200, 200, 429]
    assert [get(f"{fn.url}/?n=1", bob)[0] for _ in range(3)] == [200, 200, 429]
    forged = {"X-Forwarded-For": "198.51.100.1, 203.0.113.7, 34.120.0.1"}
    assert get(f"{fn.url}/?n=1", forged)[0] == 429
    logs = [json.loads(line) for line in fn.log.read_text().splitlines() if line.startswith("{")]
    keys = {r["client"]["key"] for r in logs if r.get("path") == "/"}
    assert len(keys) == 2 and {r["client"]["source"] for r in logs if r.get("path") == "/"} == {"x-forwarded-for[-2]"}
