"""The bundle format: written by training, read and verified by the function."""

import json

import pytest

from punchline_serve import bundle
from punchline_serve.errors import BundleError


def test_written_bundle_lists_every_file_with_size_and_checksum(tiny_bundle):
    manifest = bundle.parse_manifest((tiny_bundle / "manifest.json").read_bytes(), "m")
    data = (tiny_bundle / manifest.serving_file).read_bytes()
    assert manifest.files[manifest.serving_file] == {"size": len(data), "sha256": bundle.sha256(data)}
    assert manifest.architecture["type"] == "word-lstm"
    assert "\n" in manifest.vocabulary
    bundle.verify(manifest, manifest.serving_file, data, "here")


def test_fetch_from_a_local_folder(tiny_bundle):
    fetched = bundle.fetch(str(tiny_bundle), timeout_s=5)
    assert fetched.manifest.name == "tiny-test"
    assert fetched.bytes_fetched == sum(p.stat().st_size for p in tiny_bundle.iterdir())


def test_truncated_and_corrupted_files_are_refused(bundle_copy):
    manifest = bundle.parse_manifest((bundle_copy / "manifest.json").read_bytes(), "m")
    data = (bundle_copy / manifest.serving_file).read_bytes()
    with pytest.raises(BundleError, match="truncated"):
        bundle.verify(manifest, manifest.serving_file, data[:-1], "model.tflite")
    flipped = bytes([data[0] ^ 1]) + data[1:]
    with pytest.raises(BundleError, match="checksum"):
        bundle.verify(manifest, manifest.serving_file, flipped, "model.tflite")


@pytest.mark.parametrize("change, message", [
    (lambda m: m.update(format_version=99), "format_version 99"),
    (lambda m: m.update(format="other"), "format is 'other'"),
    (lambda m: m.pop("vocabulary"), "vocabulary"),
    (lambda m: m.update(serving_file="nope.tflite"), "serving_file 'nope.tflite'"),
    (lambda m: m["files"].update({"../x": {"size": 1, "sha256": "0" * 64}}), "not allowed"),
    (lambda m: m["files"]["model.tflite"].update(size="big"), "integer 'size'"),
])
def test_invalid_manifests_say_what_is_wrong(tiny_bundle, change, message):
    raw = json.loads((tiny_bundle / "manifest.json").read_text())
    change(raw)
    with pytest.raises(BundleError, match=message.replace("(", r"\(")):
        bundle.parse_manifest(json.dumps(raw).encode(), "gs://b/p/manifest.json")


def test_non_json_manifest():
    with pytest.raises(BundleError, match="not JSON"):
        bundle.parse_manifest(b"\x00\x01", "gs://b/p/manifest.json")


def test_a_bad_lexicon_is_a_bundle_error():
    from punchline_serve.rhyme import Lexicon

    for data in (b"not json", b'{"rhyming_parts": 5, "known_words": []}', b'{"rhyming_parts": {}, "known_words": 3}'):
        with pytest.raises(BundleError, match="invalid lexicon"):
            Lexicon(data, "gs://b/p/lexicon.json")
