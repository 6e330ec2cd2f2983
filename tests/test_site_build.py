"""The site build: deterministic output, function URL from the environment, Netlify config and headers."""

import html as html_module
import json
import re
import subprocess
import sys
import tomllib

import pytest

from punchline import processes

REPO = processes.REPO


def build(out, *args, env=None):
    import os

    return subprocess.run([sys.executable, str(REPO / "build_site.py"), "--out", str(out), *args],
                          capture_output=True, text=True, cwd=REPO, env={**os.environ, **(env or {})}, timeout=60)


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_inputs_same_bytes(tmp_path):
    url = "https://us-central1-demo.cloudfunctions.net/punchline"
    assert build(tmp_path / "a", "--function-url", url).returncode == 0
    assert build(tmp_path / "b", "--function-url", url).returncode == 0
    assert tree(tmp_path / "a") == tree(tmp_path / "b")


def test_production_build_needs_the_function_url(tmp_path):
    result = build(tmp_path / "p", env={"CONTEXT": "production", "PUNCHLINE_FUNCTION_URL": ""})
    assert result.returncode != 0 and "PUNCHLINE_FUNCTION_URL" in result.stderr
    result = build(tmp_path / "p", "--production", "--function-url", "ftp://nope")
    assert result.returncode != 0 and "ftp://nope" in result.stderr


def test_function_url_from_the_environment_lands_in_config_and_csp(tmp_path):
    url = "https://europe-west1-demo.cloudfunctions.net/punchline"
    assert build(tmp_path / "s", env={"PUNCHLINE_FUNCTION_URL": url, "CONTEXT": "production"}).returncode == 0
    html = (tmp_path / "s" / "index.html").read_text()
    config = json.loads(re.search(r'<script type="application/json" id="config">(.*?)</script>', html).group(1))
    assert config["functionUrl"] == url
    headers = (tmp_path / "s" / "_headers").read_text()
    connect = re.search(r"connect-src ([^;]+);", headers).group(1).split()
    assert connect == ["'self'", "https://europe-west1-demo.cloudfunctions.net"]
    assert "frame-ancestors 'none'" in headers
    meta = html_module.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1))
    assert "connect-src 'self' https://europe-west1-demo.cloudfunctions.net;" in meta


def test_assets_are_fingerprinted_and_linked(tmp_path):
    assert build(tmp_path / "s").returncode == 0
    html = (tmp_path / "s" / "index.html").read_text()
    for name in re.findall(r'(?:src|href)="(/assets/[^"]+)"', html):
        assert re.search(r"\.[0-9a-f]{10}\.(js|css|svg)$", name)
        assert (tmp_path / "s" / name.lstrip("/")).is_file()
    assert (tmp_path / "s" / "404.html").is_file()
    assert "{{" not in html and "{%" not in html


def test_no_function_url_is_typed_into_templates_or_scripts():
    for path in list((REPO / "site").rglob("*")):
        if path.is_file() and path.suffix in (".html", ".js", ".css"):
            text = path.read_text()
            assert not re.search(r"https?://(127\.0\.0\.1|localhost|[\w.-]+\.(cloudfunctions\.net|run\.app))", text), path


def test_bench_figures_are_quoted_only_when_measured(tmp_path):
    assert build(tmp_path / "none", "--bench-json", str(tmp_path / "missing.json")).returncode == 0
    assert "benchmark" not in (tmp_path / "none" / "index.html").read_text()
    report = tmp_path / "bench.json"
    report.write_text(json.dumps({"cold_start_s": 1.234, "warm_p50_ms_n1": 56.7, "machine": "a 2-core test box"}))
    assert build(tmp_path / "with", "--bench-json", str(report)).returncode == 0
    html = (tmp_path / "with" / "index.html").read_text()
    assert "1.2&nbsp;s" in html and "57&nbsp;ms" in html and "a 2-core test box" in html


def test_netlify_toml():
    config = tomllib.loads((REPO / "netlify.toml").read_text())
    assert config["build"]["publish"] == "public"
    assert "build_site.py" in config["build"]["command"]
    assert config["build"]["environment"]["PYTHON_VERSION"] == "3.11"
    assert "--production" in config["context"]["production"]["command"]
    assert "deploy-preview" in config["context"]
    every = next(h for h in config["headers"] if h["for"] == "/*")["values"]
    assert every["X-Content-Type-Options"] == "nosniff"
    assert every["X-Frame-Options"] == "DENY"
    assert every["Referrer-Policy"]
    assets = next(h for h in config["headers"] if h["for"] == "/assets/*")["values"]
    assert "immutable" in assets["Cache-Control"] and "max-age=31536000" in assets["Cache-Control"]
    assert any(r["status"] == 404 and r["to"] == "/404.html" for r in config["redirects"])


@pytest.mark.parametrize("template", ["index.html", "404.html", "cost.html"])
def test_pages_have_a_language_a_viewport_and_one_h1(tmp_path, template):
    assert build(tmp_path / "s").returncode == 0
    html = (tmp_path / "s" / template).read_text()
    assert '<html lang="en">' in html and 'name="viewport"' in html
    assert html.count("<h1") == 1


def test_cost_page_is_computed_from_the_estimator_and_the_benchmark(tmp_path):
    from punchline import cost

    report = tmp_path / "bench.json"
    report.write_text(json.dumps({"cold_start_s": 2.0, "warm_p50_ms_n1": 100.0, "machine": "box"}))
    assert build(tmp_path / "s", "--bench-json", str(report)).returncode == 0
    page = (tmp_path / "s" / "cost.html").read_text()
    deploy = cost.deploy_settings()
    assert f'id="worst-case">${cost.worst_case_monthly(deploy):.2f}<' in page
    traffic = cost.Traffic(100_000, cost.cold_share_from_idle_gap(100_000, cost.DEFAULT_IDLE_MINUTES), 2.0, 0.1)
    gen2 = cost.estimate("gen2", traffic, cost.Tier(deploy["memory_mb"], deploy["cpu"], deploy["min_instances"],
                                                    deploy["region_tier"]))
    assert f"${gen2.monthly:.2f} <span" in page and "100,000" in page and "<svg" in page
    assert build(tmp_path / "none", "--bench-json", str(tmp_path / "missing.json")).returncode == 0
    assert "No benchmark report" in (tmp_path / "none" / "cost.html").read_text()


def test_readme_deploy_command_matches_deploy_json():
    from punchline import cost

    deploy = cost.deploy_settings()
    readme = (REPO / "README.md").read_text()
    command = readme[readme.index("gcloud functions deploy"):].split("```", 1)[0]
    assert f"--memory={deploy['memory_mb']}Mi" in command and f"--max-instances={deploy['max_instances']}" in command
    assert f"--concurrency={deploy['concurrency']}" in command and f"--timeout={deploy['timeout_s']}s" in command
    assert f"--cpu={deploy['cpu']}" in command and ("--gen2" in command) == (deploy["generation"] == 2)
    assert f"--region=$REGION" in command and f"REGION={deploy['region']}" in readme
    assert f"MEMORY_MB={deploy['memory_mb']}" in command


def test_the_page_starts_at_the_function_default_temperature(tmp_path):
    """The slider's starting value and its label are the temperature the function uses when none is sent."""
    from punchline_serve.params import DEFAULT_TEMPERATURE

    assert build(tmp_path / "s").returncode == 0
    html = (tmp_path / "s" / "index.html").read_text()
    slider = re.search(r'<input id="temperature"[^>]*value="([0-9.]+)"', html)
    label = re.search(r'<output id="temperature-value"[^>]*>([0-9.]+)</output>', html)
    assert slider and label and float(slider.group(1)) == float(label.group(1)) == DEFAULT_TEMPERATURE
