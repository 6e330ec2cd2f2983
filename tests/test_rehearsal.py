"""Deploy rehearsals: the function built and run as Cloud Functions would (its own requirements only, the
files .gcloudignore lets through, PORT), and the site built as Netlify would (netlify.toml's base directory,
its requirements only, the production command)."""

import json
import re
import urllib.error
import urllib.request

import pytest

from punchline import rehearse, upload

FUNCTION_URL = "https://us-central1-example.cloudfunctions.net/punchline"


def get(url: str, headers: dict | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


@pytest.fixture(scope="session")
def function_env(tmp_path_factory):
    return rehearse.environment(tmp_path_factory.mktemp("function-env") / "venv",
                                rehearse.FUNCTION_DIR / "requirements.txt")


@pytest.fixture(scope="session")
def site_env(tmp_path_factory):
    site = rehearse.netlify_site(rehearse.REPO)
    assert site.requirements is not None, "the site's base directory must hold the requirements Netlify installs"
    return rehearse.environment(tmp_path_factory.mktemp("site-env") / "venv", site.requirements)


def test_the_upload_is_exactly_what_gcloudignore_lets_through():
    upload_files = {p.as_posix() for p in rehearse.function_upload()}
    assert "main.py" in upload_files and "requirements.txt" in upload_files
    assert "punchline_serve/handler.py" in upload_files
    assert not any(p.endswith((".pyc", ".md")) or "__pycache__" in p or p == ".gcloudignore" for p in upload_files)


def test_the_function_runs_from_its_own_requirements_and_upload(function_env, tiny_bundle, emulator, tmp_path,
                                                                record_property):
    staged = tmp_path / "upload"
    upload_bytes = rehearse.stage_function(staged)
    uri = "gs://punchline-rehearsal/model"
    upload.upload(tiny_bundle, uri, create_bucket=True, endpoint=emulator.url)
    # nothing from the development environment: no TensorFlow, no project package, no test helpers
    check = __import__("subprocess").run([str(function_env), "-c", "import tensorflow"], capture_output=True)
    assert check.returncode != 0
    service = rehearse.start_function(function_env, staged, {"MODEL_URI": uri, "STORAGE_EMULATOR_HOST": emulator.url},
                                      log=tmp_path / "function.log")
    try:
        status, body = get(f"{service.url}/status")
        assert status == 200 and json.loads(body)["state"] == "cold"
        status, body = get(f"{service.url}/?prompt=the%20city%20never%20sleeps&n=2&seed=3")
        answer = json.loads(body)
        assert status == 200 and len(answer["punchlines"]) == 2, body
        status, body = get(f"{service.url}/?n=99")
        assert status == 400 and json.loads(body)["field"] == "n"
        status, body = get(f"{service.url}/status")
        assert json.loads(body)["state"] == "ready"
    finally:
        service.stop()
    size = rehearse.installed_mib(function_env)
    record_property("function_environment_mib", round(size, 1))
    record_property("function_upload_bytes", upload_bytes)
    print(f"function environment {size:.0f} MiB installed; upload {upload_bytes / 1024:.0f} KiB")
    assert 20 < size < 250 and upload_bytes < 1_000_000


def test_the_netlify_build_installs_only_the_site_needs():
    site = rehearse.netlify_site(rehearse.REPO)
    names = [re.split(r"[=<>\[ ]", line)[0].lower() for line in site.requirements.read_text().splitlines()
             if line.strip() and not line.startswith("#")]
    assert sorted(names) == ["click", "jinja2", "pillow"]
    assert site.base == rehearse.REPO / "site" and site.publish == rehearse.REPO / "site" / "public"


def test_the_production_build_as_netlify_runs_it(site_env, tmp_path):
    copy = rehearse.copy_for_site(tmp_path / "repo")
    site = rehearse.netlify_site(copy, "production")
    result = rehearse.netlify_build(site, site_env, {"PUNCHLINE_FUNCTION_URL": FUNCTION_URL})
    assert result.returncode == 0, result.stderr
    published = site.publish
    for page in ("index.html", "cost.html", "404.html", "_headers"):
        assert (published / page).is_file(), page
    assets = [p.name for p in (published / "assets").iterdir()]
    assert any(re.fullmatch(r"app\.[0-9a-f]{8,}\.js", a) for a in assets), assets
    assert any(re.fullmatch(r"style\.[0-9a-f]{8,}\.css", a) for a in assets), assets
    headers = (published / "_headers").read_text()
    assert "Content-Security-Policy" in headers and "https://us-central1-example.cloudfunctions.net" in headers
    assert FUNCTION_URL in (published / "index.html").read_text()


def test_a_production_build_without_the_function_url_fails_clearly(site_env, tmp_path):
    copy = rehearse.copy_for_site(tmp_path / "repo")
    site = rehearse.netlify_site(copy, "production")
    result = rehearse.netlify_build(site, site_env, {})
    assert result.returncode != 0 and "PUNCHLINE_FUNCTION_URL" in result.stderr
    assert not (site.publish / "index.html").exists()
