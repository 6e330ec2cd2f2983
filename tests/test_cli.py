"""The `punchline` command: --help everywhere, train and upload on a tiny corpus."""

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from punchline import cli, processes
from punchline_serve import bundle, storage


@pytest.mark.parametrize("command", [[], ["train"], ["upload"], ["dev"]])
def test_help(command):
    result = CliRunner().invoke(cli.main, command + ["--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_python_dash_m_works():
    out = subprocess.run([sys.executable, "-m", "punchline", "--help"], capture_output=True, text=True,
                         cwd=processes.REPO, timeout=60)
    assert out.returncode == 0 and "train" in out.stdout and "upload" in out.stdout


def test_train_then_upload_to_the_emulator(tiny_corpus, tmp_path, emulator_env):
    out = tmp_path / "bundle"
    result = CliRunner().invoke(cli.main, ["train", str(tiny_corpus), "--out", str(out), "--units", "8",
                                           "--layers", "1", "--epochs", "1", "--max-words", "100",
                                           "--ngram-buckets", "64", "--also-quantize", "int8"])
    assert result.exit_code == 0, result.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["architecture"]["units"] == 8 and manifest["training"]["epochs"] == 1
    assert manifest["architecture"]["ngram_buckets"] == 64 and manifest["architecture"]["quantization"] == "none"
    assert manifest["architecture"]["embedding"] == 128 and manifest["training"]["preset"] == "default"  # from it
    variant = json.loads((tmp_path / "bundle-int8" / "manifest.json").read_text())
    assert variant["architecture"]["quantization"] == "int8"
    assert variant["files"]["model.tflite"]["size"] < manifest["files"]["model.tflite"]["size"]
    result = CliRunner().invoke(cli.main, ["upload", str(out), "gs://cli-test/m1", "--create-bucket"])
    assert result.exit_code == 0, result.output
    fetched = bundle.fetch("gs://cli-test/m1", timeout_s=5)
    assert fetched.data == (out / "model.tflite").read_bytes()


def test_train_rejects_a_corpus_that_is_not_utf8(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe not utf-8 " * 50)
    result = CliRunner().invoke(cli.main, ["train", str(bad), "--out", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not UTF-8" in result.output


def test_upload_errors_are_clear(tiny_bundle, tmp_path, emulator_env):
    runner = CliRunner()
    missing_bucket = runner.invoke(cli.main, ["upload", str(tiny_bundle), "gs://no-such-bucket/x"])
    assert missing_bucket.exit_code == 1 and "--create-bucket" in missing_bucket.output
    not_gs = runner.invoke(cli.main, ["upload", str(tiny_bundle), "s3://bucket/x"])
    assert not_gs.exit_code == 1 and "gs://" in not_gs.output
    empty = tmp_path / "empty"
    empty.mkdir()
    not_bundle = runner.invoke(cli.main, ["upload", str(empty), "gs://cli-test/x", "--create-bucket"])
    assert not_bundle.exit_code == 1 and "manifest.json is missing" in not_bundle.output


def test_upload_writes_the_manifest_last(bundle_copy, emulator_env):
    """A bundle whose weights fail to upload leaves no manifest behind to be picked up."""
    from punchline import upload

    (bundle_copy / "model.tflite").write_bytes(b"oops")  # size no longer matches the manifest
    with pytest.raises(upload.UploadError):
        upload.upload(bundle_copy, "gs://cli-test/half", create_bucket=True)
    assert not storage.client().bucket("cli-test").blob("half/manifest.json").exists()
