"""The function in-process (functions_framework.create_app + Flask test client)."""

import json
import threading

import pytest

from punchline import upload


def test_cold_then_warm_from_the_emulated_bucket(make_client, bucket_uri):
    client = make_client(MODEL_URI=bucket_uri)
    first = client.get("/?prompt=hello&n=3")
    second = client.get("/?prompt=hello&n=3")
    assert first.status_code == 200, first.json
    assert len(first.json["punchlines"]) == 3 and all(isinstance(p, str) for p in first.json["punchlines"])
    assert first.json["cold_start"] is True and first.json["timings_ms"]["load"] > 0
    assert second.json["cold_start"] is False and second.json["timings_ms"]["load"] == 0
    assert first.json["model"]["name"] == "tiny-test"


def test_local_folder_model(make_client, tiny_bundle):
    response = make_client(MODEL_URI=str(tiny_bundle)).post("/", json={"prompt": "yo", "n": 2})
    assert response.status_code == 200
    assert len(response.json["punchlines"]) == 2


def test_same_seed_same_lines_and_the_seed_is_reported(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle))
    a = client.get("/?prompt=my%20flow&n=4&seed=42&temperature=1.5").json
    b = client.post("/", json={"prompt": "my flow", "n": 4, "seed": 42, "temperature": 1.5}).json
    c = client.get("/?prompt=my%20flow&n=4&seed=43&temperature=1.5").json
    assert a["punchlines"] == b["punchlines"] and a["seed"] == 42
    assert c["punchlines"] != a["punchlines"]
    assert isinstance(client.get("/").json["seed"], int)


def test_punchlines_respect_max_chars_and_never_end_mid_word(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle))
    body = client.get("/?n=8&max_chars=12&temperature=2&seed=3").json
    for line in body["punchlines"]:
        assert len(line) <= 12
        assert line == line.strip()


def test_plain_text_for_curl(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle))
    by_header = client.get("/?n=3&seed=1", headers={"Accept": "text/plain"})
    by_param = client.get("/?n=3&seed=1&format=text")
    assert by_header.mimetype == "text/plain" and by_param.mimetype == "text/plain"
    assert by_header.data == by_param.data
    assert len(by_header.get_data(as_text=True).rstrip("\n").split("\n")) == 3
    browser = client.get("/?n=1", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.mimetype == "application/json"


def test_form_posts_work(make_client, tiny_bundle):
    response = make_client(MODEL_URI=str(tiny_bundle)).post("/", data={"prompt": "yo", "n": "2"})
    assert response.status_code == 200 and len(response.json["punchlines"]) == 2


@pytest.mark.parametrize("query, field", [
    ("n=0", "n"), ("n=100", "n"), ("n=x", "n"), ("temperature=9", "temperature"), ("temperature=nan", "temperature"),
    ("max_chars=1", "max_chars"), ("seed=-3", "seed"), ("prompt=" + "a" * 500, "prompt"), ("color=red", "color"),
    ("n=1&n=2", "n"), ("format=yaml", "format"),
])
def test_bad_input_is_a_400_naming_the_field(make_client, tiny_bundle, query, field):
    response = make_client(MODEL_URI=str(tiny_bundle)).get(f"/?{query}")
    assert response.status_code == 400
    assert response.json["field"] == field and response.json["error"]


def test_bad_json_body_is_a_400(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle))
    for body in (b"{", b"[]", b'"x"', b"\xff"):
        response = client.post("/", data=body, content_type="application/json")
        assert response.status_code == 400 and response.json["field"] == "body"


def test_wrong_method_path_and_size(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle), MAX_BODY_BYTES=1000)
    put = client.put("/")
    assert put.status_code == 405 and "GET" in put.headers["Allow"] and put.json["error"]
    assert client.post("/status").status_code == 405
    assert client.get("/nope").status_code == 404
    big = client.post("/", data=json.dumps({"prompt": "x" * 5000}), content_type="application/json")
    assert big.status_code == 413 and "MAX_BODY_BYTES" in big.json["error"]
    big_form = client.post("/", data={"prompt": "x" * 5000})
    assert big_form.status_code == 413


def test_cors_for_allowed_origins_only(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle), ALLOWED_ORIGINS="https://punchline.example")
    ok = client.options("/", headers={"Origin": "https://punchline.example",
                                      "Access-Control-Request-Method": "POST"})
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == "https://punchline.example"
    assert "POST" in ok.headers["Access-Control-Allow-Methods"]
    refused = client.options("/", headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    get = client.get("/?n=1", headers={"Origin": "https://punchline.example"})
    assert get.headers["Access-Control-Allow-Origin"] == "https://punchline.example"
    assert get.headers["Access-Control-Expose-Headers"] == "Retry-After"  # the page reads it on 429/503
    assert "Access-Control-Allow-Origin" not in client.get("/?n=1", headers={"Origin": "https://evil.example"}).headers


def test_wildcard_origin_is_a_configuration_error(make_client, tiny_bundle):
    response = make_client(MODEL_URI=str(tiny_bundle), ALLOWED_ORIGINS="*").get("/")
    assert response.status_code == 500 and "ALLOWED_ORIGINS" in response.json["error"]


def test_status_does_not_load_and_warmup_does(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle))
    assert client.get("/status").json["state"] == "cold"
    warm = client.post("/warmup").json
    assert warm["state"] == "ready" and warm["cold_start"] is True and warm["load_ms"] > 0
    assert client.get("/warmup").json["cold_start"] is False
    assert client.get("/?n=1").json["cold_start"] is False


def test_missing_object_is_a_503_naming_bucket_and_object(make_client, emulator_env):
    response = make_client(MODEL_URI="gs://punchline-test/does-not-exist", FETCH_TIMEOUT_S=3).get("/")
    assert response.status_code == 503
    assert "punchline-test" in response.json["error"] and "does-not-exist/manifest.json" in response.json["error"]
    assert int(response.headers["Retry-After"]) > 0


def test_corrupted_weights_are_refused_then_recovered(make_client, bundle_copy, emulator_env):
    uri = "gs://punchline-test/corrupted"
    weights = bundle_copy / "model.tflite"
    good = weights.read_bytes()
    upload.upload(bundle_copy, uri, create_bucket=True)
    weights.write_bytes(good[:100] + bytes([good[100] ^ 0xFF]) + good[101:])
    from punchline_serve import storage
    blob = storage.client().bucket("punchline-test").blob("corrupted/model.tflite")
    blob.upload_from_string(weights.read_bytes())
    client = make_client(MODEL_URI=uri)
    bad = client.get("/")
    assert bad.status_code == 503 and "checksum" in bad.json["error"] and "corrupted/model.tflite" in bad.json["error"]
    assert client.get("/status").json["state"] == "failed"
    blob.upload_from_string(good)
    assert client.get("/").status_code == 200


def test_concurrent_cold_requests_cause_one_fetch(make_client, tiny_bundle, capfd):
    client_factory = make_client
    client = client_factory(MODEL_URI=str(tiny_bundle))
    results = []

    def call():
        results.append(client.get("/?n=1").json)

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 8
    assert sum(r["cold_start"] for r in results) == 1
    logs = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    assert sum(1 for r in logs if r.get("bytes_fetched")) == 1


def test_one_structured_log_line_per_request(make_client, tiny_bundle, capfd):
    client = make_client(MODEL_URI=str(tiny_bundle))
    capfd.readouterr()
    client.get("/?n=2")
    client.get("/?n=0")
    lines = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["status"] for r in lines] == [200, 400]
    ok = lines[0]
    assert ok["cold_start"] is True and ok["load_ms"] > 0 and ok["generate_ms"] > 0 and ok["bytes_fetched"] > 0
    assert lines[1]["severity"] == "WARNING" and "n must be" in lines[1]["error"]


def test_rate_limit_per_client_with_retry_after(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle), RATE_LIMIT="3/minute")
    alice = {"X-Forwarded-For": "203.0.113.7"}
    assert [client.get("/?n=1", headers=alice).status_code for _ in range(3)] == [200, 200, 200]
    limited = client.get("/?n=1", headers=alice)
    assert limited.status_code == 429 and "3/minute" in limited.json["error"]
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert client.get("/?n=1", headers={"X-Forwarded-For": "198.51.100.9"}).status_code == 200
    assert client.get("/status", headers=alice).status_code == 200  # status is cheap and never limited
    spoofed = {"X-Forwarded-For": "1.2.3.4, 203.0.113.7"}  # the client can only prepend entries
    assert client.get("/?n=1", headers=spoofed).status_code == 429


def test_bad_rate_limit_setting_names_the_variable(make_client, tiny_bundle):
    response = make_client(MODEL_URI=str(tiny_bundle), RATE_LIMIT="lots").get("/")
    assert response.status_code == 500 and "RATE_LIMIT='lots'" in response.json["error"]


def test_work_per_request_is_capped(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle), MAX_WORK_CHARS=300)
    capped = client.get("/?n=4&max_chars=100")
    assert capped.status_code == 400 and capped.json["field"] == "n" and "300" in capped.json["error"]
    assert client.get("/?n=3&max_chars=100").status_code == 200


def test_a_setup_gets_punchlines_that_rhyme_with_it(make_client, tiny_bundle, capfd):
    import pronouncing

    client = make_client(MODEL_URI=str(tiny_bundle))
    body = client.get("/?prompt=I%20keep%20on%20trying%20every%20day&n=3&seed=5").json
    assert len(body["punchlines"]) == 3
    for line in body["punchlines"]:
        last = line.split()[-1].lower()
        assert last != "day" and last in pronouncing.rhymes("day"), line
        assert line.lower() != "i keep on trying every day"
    assert len({line.split()[-1].lower() for line in body["punchlines"]}) >= 2  # "way" and "today" both known
    fallback = client.get("/?prompt=nothing%20rhymes%20with%20xqzt&n=2").json
    assert len(fallback["punchlines"]) == 2
    logs = [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]
    assert [r["rhymed"] for r in logs if r["path"] == "/"] == [True, False]
