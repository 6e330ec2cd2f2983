"""Seeded answers: HTTP validators and lifetimes, and the per-instance LRU, in-process and in a real process."""

import json

import pytest

from punchline import processes, train
from punchline_serve import cache

SEEDED = "/?prompt=the%20beat%20goes%20on&n=2&seed=7"


def log_records(capfd) -> list[dict]:
    return [json.loads(line) for line in capfd.readouterr().out.splitlines() if line.startswith("{")]


def test_a_seeded_get_is_cacheable_and_revalidates_with_304(make_client, tiny_bundle, capfd):
    client = make_client(MODEL_URI=str(tiny_bundle))
    first = client.get(SEEDED)
    assert first.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith('"') and not tag.startswith('W/')  # strong
    assert first.headers["Cache-Control"] == cache.CACHEABLE
    assert {v.strip() for v in first.headers["Vary"].split(",")} >= {"Origin", "Accept"}
    # what one request cost would be a lie in a copy served to another: cacheable bodies leave it out
    assert "cold_start" not in first.json and "timings_ms" not in first.json
    capfd.readouterr()
    again = client.get(SEEDED, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == tag
    assert client.get(SEEDED, headers={"If-None-Match": f'"other", W/{tag}'}).status_code == 304  # weak match
    assert client.get(SEEDED, headers={"If-None-Match": '"something-else"'}).status_code == 200
    records = log_records(capfd)
    assert [(r["status"], r["cache"]) for r in records] == [(304, "hit"), (304, "hit"), (200, "hit")]
    assert client.get(SEEDED).json == first.json  # the same answer, every time


def test_each_representation_has_its_own_tag(make_client, tiny_bundle):
    client = make_client(MODEL_URI=str(tiny_bundle))
    as_json = client.get(SEEDED)
    as_text = client.get(SEEDED, headers={"Accept": "text/plain"})
    assert as_text.headers["Content-Type"].startswith("text/plain")
    assert as_json.headers["ETag"] != as_text.headers["ETag"]
    assert as_text.data.decode().splitlines() == as_json.json["punchlines"]
    other_seed = client.get(SEEDED.replace("seed=7", "seed=8"))
    assert other_seed.headers["ETag"] != as_json.headers["ETag"]


@pytest.mark.parametrize("method, path, data", [
    ("GET", "/?prompt=hi&n=1", None),  # no seed: a new answer each time
    ("POST", "/", {"prompt": "hi", "n": 1, "seed": 7}),
    ("GET", "/?n=0&seed=1", None),  # an error
    ("GET", "/status", None),
    ("POST", "/warmup", None),
    ("GET", "/nowhere", None),
])
def test_everything_else_is_not_stored(make_client, tiny_bundle, method, path, data):
    client = make_client(MODEL_URI=str(tiny_bundle))
    response = client.open(path, method=method, json=data)
    assert response.headers["Cache-Control"] == "no-store" and "ETag" not in response.headers


def test_an_unseeded_answer_still_says_what_it_cost(make_client, tiny_bundle):
    body = make_client(MODEL_URI=str(tiny_bundle)).get("/?n=1").json
    assert body["cold_start"] is True and body["timings_ms"]["load"] > 0


def test_a_new_model_version_changes_the_tags(make_client, tiny_bundle, trained, tmp_path):
    other = tmp_path / "other"
    train.write_bundle(other, trained, name="tiny-test", quantization="float16", training={})
    old = make_client(MODEL_URI=str(tiny_bundle)).get(SEEDED)
    from punchline_serve import loader

    loader.reset()  # a new instance, deployed with the new model
    client = make_client(MODEL_URI=str(other))
    new = client.get(SEEDED, headers={"If-None-Match": old.headers["ETag"]})
    assert new.status_code == 200 and new.json["model"]["version"] != old.json["model"]["version"]
    assert new.headers["ETag"] != old.headers["ETag"]


def test_the_lru_keeps_at_most_cache_size_answers(make_client, tiny_bundle, capfd):
    client = make_client(MODEL_URI=str(tiny_bundle), CACHE_SIZE=2)
    capfd.readouterr()
    for seed in (1, 2, 3, 3, 1):
        client.get(f"/?n=1&seed={seed}")
    assert [r["cache"] for r in log_records(capfd)] == ["miss", "miss", "miss", "hit", "miss"]  # 1 went first
    assert cache.size() == 2
    client.post("/", json={"n": 1, "seed": 3})  # POST answers are not HTTP-cacheable but reuse the LRU
    client.get("/?n=1")  # no seed: never cached
    assert [r["cache"] for r in log_records(capfd)] == ["hit", "off"]


def test_cache_size_zero_turns_it_off(make_client, tiny_bundle, capfd):
    client = make_client(MODEL_URI=str(tiny_bundle), CACHE_SIZE=0)
    capfd.readouterr()
    client.get(SEEDED)
    client.get(SEEDED)
    assert [r["cache"] for r in log_records(capfd)] == ["off", "off"] and cache.size() == 0


def test_bad_cache_size_names_the_variable(make_client, tiny_bundle):
    response = make_client(MODEL_URI=str(tiny_bundle), CACHE_SIZE="-1").get("/")
    assert response.status_code == 500 and "CACHE_SIZE='-1'" in response.json["error"]


def test_a_real_process_answers_a_repeat_without_a_model_pass(tiny_bundle, tmp_path):
    import urllib.request

    service = processes.start_function({"MODEL_URI": str(tiny_bundle)}, log=tmp_path / "function.log")
    try:
        bodies = [urllib.request.urlopen(f"{service.url}{SEEDED}", timeout=30).read() for _ in range(2)]
    finally:
        service.stop()
    assert bodies[0] == bodies[1]
    records = [json.loads(line) for line in service.log.read_text().splitlines() if line.startswith("{")]
    generated = [r for r in records if r.get("path") == "/"]
    assert [r["cache"] for r in generated] == ["miss", "hit"]
    assert generated[0]["generate_ms"] > generated[1]["generate_ms"]
