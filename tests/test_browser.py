"""The page in a real headless Chromium (Debian's), against the real function and bucket emulator."""

import os
import re
from pathlib import Path

import pytest

from punchline import processes, upload

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = processes.REPO / "test-artifacts" / "screenshots"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
RECORD_STATES = """
window.__states = [];
document.addEventListener('DOMContentLoaded', () => {
  const el = document.getElementById('state');
  if (!el) return;  // not the punchline page
  window.__states.push(el.dataset.state);
  new MutationObserver(() => {
    const s = el.dataset.state;
    if (window.__states[window.__states.length - 1] !== s) window.__states.push(s);
  }).observe(el, {attributes: true, attributeFilter: ['data-state']});
});
"""


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def stack(emulator, tiny_bundle, tmp_path_factory):
    """Function (reading the emulated bucket) + built site, each on its own loopback port."""
    root = tmp_path_factory.mktemp("stack")
    os.environ["STORAGE_EMULATOR_HOST"] = emulator.url
    uri = "gs://punchline-browser/model"
    upload.upload(tiny_bundle, uri, create_bucket=True)
    site_port, function_port = processes.free_port(), processes.free_port()
    origin = f"http://127.0.0.1:{site_port}"
    function = processes.start_function({"MODEL_URI": uri, "STORAGE_EMULATOR_HOST": emulator.url,
                                         "ALLOWED_ORIGINS": origin}, function_port, root / "function.log")
    processes.build_site(root / "site", function.url, bench_json=root / "no-bench.json")
    site = processes.start_static_site(root / "site", site_port, root / "site.log")
    yield {"site": site, "function": function, "root": root, "emulator": emulator}
    site.stop()
    function.stop()


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def new_page(browser, **context_args):
    context = browser.new_context(**context_args)
    page = context.new_page()
    page.add_init_script(RECORD_STATES)
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.errors = errors
    return page


def drop(page, setup: str) -> None:
    page.fill("#prompt", setup)
    page.click("#drop")
    page.wait_for_selector("#lines li", timeout=30_000)


def test_cold_visit_shows_waking_then_ready_then_a_punchline(browser, stack):
    page = new_page(browser)
    held = []  # hold the warm-up request for a moment, as a slow cold start would
    page.route("**/warmup", lambda route: held.append(route))
    served = page.goto(stack["site"].url + "/").text()
    assert 'data-state="asleep"' in served  # asleep until the script starts the warm-up
    assert "first punchline can take a while" in page.text_content("#wake-note")
    page.wait_for_selector("#state[data-state=waking]")
    page.wait_for_timeout(1200)
    assert page.text_content("#state-label") == "Waking up…"
    ticked = re.match(r"(\d+\.\d) s", page.text_content("#state-detail"))
    assert ticked and float(ticked.group(1)) >= 1.0, page.text_content("#state-detail")  # the clock runs
    assert page.is_visible("#wake-progress")
    screenshot(page, "cold-waking")
    held[0].continue_()
    page.wait_for_selector("#state[data-state=ready]", timeout=30_000)
    states = page.evaluate("window.__states")
    assert states[:2] == ["waking", "ready"], states
    assert "woke up in" in page.text_content("#state-detail")
    drop(page, "they said I could not make it")
    assert page.locator("#lines li").count() == 3
    assert page.text_content("#setup") == "they said I could not make it"
    screenshot(page, "cold")
    assert page.errors == []
    page.context.close()


def test_warm_call_says_it_was_fast(browser, stack):
    page = new_page(browser)
    page.goto(stack["site"].url + "/")
    page.wait_for_selector("#state[data-state=ready]", timeout=30_000)
    assert "already up" in page.text_content("#state-detail")
    page.select_option("#n", "1")
    drop(page, "my flow is like the river")
    assert page.locator("#lines li").count() == 1
    assert "Warm call" in page.text_content("#call-status")
    screenshot(page, "warm")
    page.context.close()


def test_setup_line_with_html_and_script_is_shown_literally(browser, stack):
    page = new_page(browser)
    page.goto(stack["site"].url + "/")
    page.wait_for_selector("#state[data-state=ready]", timeout=30_000)
    drop(page, XSS)
    assert page.text_content("#setup") == XSS
    assert page.locator("#result img, #result script").count() == 0
    assert page.evaluate("window.__xss") is None
    page.context.close()


def tab_until(page, expression: str, wanted: str, presses: int = 10) -> None:
    """Press Tab until the focused element matches, as a keyboard user would."""
    for _ in range(presses):
        page.keyboard.press("Tab")
        if page.evaluate(expression) == wanted:
            return
    raise AssertionError(f"{presses} Tabs never focused {wanted!r}")


def test_keyboard_only(browser, stack):
    page = new_page(browser)
    page.goto(stack["site"].url + "/")
    page.wait_for_selector("#state[data-state=ready]", timeout=30_000)
    tab_until(page, "document.activeElement.id", "prompt")
    page.keyboard.type("keyboard only")
    page.keyboard.press("Enter")
    page.wait_for_selector("#lines li", timeout=30_000)
    tab_until(page, "document.activeElement.textContent", "Copy")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "focused control shows no focus ring"
    page.context.close()


def test_phone_width(browser, stack):
    page = new_page(browser, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(stack["site"].url + "/")
    page.wait_for_selector("#state[data-state=ready]", timeout=30_000)
    drop(page, "a long setup line " * 8)
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert page.locator("#drop").bounding_box()["width"] <= 375
    screenshot(page, "phone")
    page.context.close()


def test_unreachable_function_gives_a_friendly_error_and_retry_works(browser, stack, tiny_bundle):
    root: Path = stack["root"]
    site_port, function_port = processes.free_port(), processes.free_port()
    processes.build_site(root / "site-down", f"http://127.0.0.1:{function_port}", bench_json=root / "none.json")
    site = processes.start_static_site(root / "site-down", site_port)
    function = None
    try:
        page = new_page(browser)
        page.goto(site.url + "/")
        page.wait_for_selector("#state[data-state=failed]", timeout=30_000)
        page.wait_for_selector("#error:not([hidden])")
        assert "Can't reach" in page.text_content("#error-text")
        page.fill("#prompt", "is anybody there")
        # No string predicates (wait_for_function): the page's CSP forbids eval, and Chromium enforces it on them.
        with page.expect_event("requestfailed", lambda r: "prompt=is+anybody+there" in r.url, timeout=30_000):
            page.click("#drop")
        page.wait_for_selector("#drop:enabled")
        assert page.is_visible("#error") and not page.is_visible("#result")
        screenshot(page, "error")
        function = processes.start_function({"MODEL_URI": str(tiny_bundle), "ALLOWED_ORIGINS": site.url},
                                            function_port)
        page.click("#retry")
        page.wait_for_selector("#lines li", timeout=30_000)
        assert not page.is_visible("#error")
        assert page.get_attribute("#state", "data-state") == "ready"
        page.context.close()
    finally:
        site.stop()
        if function:
            function.stop()


def test_rate_limited_drop_says_when_to_try_again(browser, stack, tiny_bundle):
    """A 429 from the function (another origin) shows its Retry-After: the header must be exposed by CORS."""
    root: Path = stack["root"]
    site_port, function_port = processes.free_port(), processes.free_port()
    site_url = f"http://127.0.0.1:{site_port}"
    function = processes.start_function({"MODEL_URI": str(tiny_bundle), "ALLOWED_ORIGINS": site_url,
                                         "RATE_LIMIT": "2/minute"}, function_port)
    processes.build_site(root / "site-limited", function.url, bench_json=root / "none.json")
    site = processes.start_static_site(root / "site-limited", site_port)
    try:
        page = new_page(browser)
        page.goto(site.url + "/")
        page.wait_for_selector("#state[data-state=ready]", timeout=30_000)  # the warm-up: 1 of 2
        drop(page, "one more before the limit")  # 2 of 2
        page.click("#drop")
        page.wait_for_selector("#error:not([hidden])", timeout=30_000)
        assert re.search(r"Too many punchlines at once.*try again in \d+ s\.", page.text_content("#error-text"))
        assert page.locator("#lines li").count() >= 1  # the punchline already shown stays
        page.context.close()
    finally:
        site.stop()
        function.stop()


def test_the_site_is_served_with_netlifys_headers_and_404_page(browser, stack):
    """The built site behind netlify_local: the CSP arrives as a header (not only a <meta>), with
    netlify.toml's headers, and an unknown path gets the 404 page with status 404."""
    page = new_page(browser)
    response = page.goto(stack["site"].url + "/")
    headers = response.headers
    csp = headers["content-security-policy"]
    assert f"connect-src 'self' {stack['function'].url}" in csp and "script-src 'self'" in csp
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    # the header is enforced: an inline script injected into the page does not run
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__ran = 1';
                             document.body.append(s); }""")
    assert page.evaluate("window.__ran === undefined")
    asset = page.locator("script[src^='/assets/']").first.get_attribute("src")
    assert "immutable" in page.request.get(stack["site"].url + asset).headers["cache-control"]
    missing = page.goto(stack["site"].url + "/no/such/page")
    assert missing.status == 404 and "content-security-policy" in missing.headers
    assert page.locator("h1").count() == 1 and "404" in page.title() + page.text_content("body")
    assert page.errors == []
