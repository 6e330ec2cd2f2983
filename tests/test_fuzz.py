"""Property-based abuse of the function in-process: no input may cause a 5xx, and every error is JSON."""

import json
import time
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

FIELDS = ["prompt", "n", "temperature", "max_chars", "seed", "format"]
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

keys = st.one_of(st.sampled_from(FIELDS), st.text(max_size=12))
scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=300))
json_values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                            st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                           max_leaves=12)


@pytest.fixture(scope="module")
def client(tiny_bundle):
    import os

    import functions_framework

    from punchline import processes
    from punchline_serve import loader, ratelimit

    saved = dict(os.environ)
    os.environ.update(MODEL_URI=str(tiny_bundle), RATE_LIMIT="none", MAX_CHARS_LIMIT="60", DEFAULT_MAX_CHARS="40")
    loader.reset()
    ratelimit.reset()
    yield functions_framework.create_app(target="punchline", source=str(processes.FUNCTION_SOURCE)).test_client()
    os.environ.clear()
    os.environ.update(saved)
    loader.reset()


def check(response, started: float) -> None:
    assert response.status_code < 500, response.get_data()[:300]
    assert time.perf_counter() - started < 10
    if response.status_code >= 400:
        body = json.loads(response.get_data())
        assert isinstance(body["error"], str) and body["error"]
    elif response.mimetype == "application/json":
        body = json.loads(response.get_data())
        assert isinstance(body["punchlines"], list) and all(isinstance(p, str) for p in body["punchlines"])


@SETTINGS
@given(pairs=st.lists(st.tuples(keys, st.one_of(st.text(max_size=60), st.integers().map(str))), max_size=6))
def test_any_query_string(client, pairs):
    started = time.perf_counter()
    check(client.get("/?" + urlencode(pairs)), started)


@SETTINGS
@given(body=st.dictionaries(keys, json_values, max_size=6))
def test_any_json_object(client, body):
    started = time.perf_counter()
    payload = json.dumps(body, allow_nan=True)
    check(client.post("/", data=payload, content_type="application/json"), started)


@SETTINGS
@given(raw=st.binary(max_size=2000),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                     "multipart/form-data; boundary=xyz", "application/octet-stream", ""]))
def test_any_bytes_with_any_content_type(client, raw, content_type):
    started = time.perf_counter()
    check(client.post("/", data=raw, content_type=content_type), started)


@SETTINGS
@given(method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE"]),
       path=st.sampled_from(["/", "/warmup", "/status", "/nope", "//", "/%00", "/status/extra"]),
       accept=st.sampled_from(["*/*", "text/plain", "application/json", "text/html;q=0.9", "garbage/;;q=x", ""]))
def test_any_method_path_and_accept(client, method, path, accept):
    started = time.perf_counter()
    response = client.open(path, method=method, headers={"Accept": accept, "Origin": "http://127.0.0.1:8000"})
    assert response.status_code < 500
    if response.status_code >= 400 and method != "HEAD":
        assert json.loads(response.get_data())["error"]
    assert time.perf_counter() - started < 10


def test_nan_and_huge_numbers_are_400s(client):
    for body in ('{"temperature": NaN}', '{"temperature": Infinity}', '{"n": 1e400}',
                 '{"n": ' + "9" * 5000 + "}", '{"seed": -1}'):
        response = client.post("/", data=body, content_type="application/json")
        assert response.status_code == 400, body
    assert client.get("/?prompt=%ff%fe%00").status_code == 200  # invalid UTF-8 is replaced, not fatal
