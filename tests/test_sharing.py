"""Sharing in the real browser: a permalink brings back the exact punchline; a link from an older model says
so; tampered links are refused plainly; the history survives a reload and clears; link previews point at a
real card image."""

import re
import urllib.parse

import pytest

from tests.test_browser import ARTIFACTS, browser, new_page, screenshot, stack  # noqa: F401 (fixtures)

SETUP = "my alarm clock is the sound of bills under the door"


def clipboard_page(browser, stack, **context_args):  # noqa: F811
    page = new_page(browser, **context_args)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack["site"].url)
    return page


def drop_and_link(page, stack, index: int = 1):  # noqa: F811
    """Drop three punchlines for SETUP and copy the link of the one at `index`; (its text, the link)."""
    page.goto(stack["site"].url + "/")
    page.wait_for_selector("#state[data-state=ready]", timeout=30_000)
    page.fill("#prompt", SETUP)
    page.click("#drop")
    page.wait_for_selector("#lines li", timeout=30_000)
    item = page.locator("#lines li").nth(index)
    item.get_by_role("button", name="Copy a link to this punchline").click()
    item.get_by_role("button", name="Copy a link to this punchline").filter(has_text="Link copied").wait_for()
    return item.locator(".line").text_content(), page.evaluate("navigator.clipboard.readText()")


def test_a_link_brings_back_the_exact_punchline_in_a_fresh_browser(browser, stack):  # noqa: F811
    page = clipboard_page(browser, stack)
    line, link = drop_and_link(page, stack)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)
    assert query["s"] == [SETUP] and query["i"] == ["1"] and query["n"] == ["3"] and re.fullmatch(r"\d+", query["seed"][0])
    assert len(link) < 400
    for name, size in (("shared-desktop", {"width": 1280, "height": 900}), ("shared-375", {"width": 375, "height": 800})):
        fresh = new_page(browser, viewport=size)  # a new context: no storage, no cache
        fresh.goto(link)
        assert fresh.input_value("#prompt") == SETUP
        fresh.wait_for_selector("#lines li.shared", timeout=30_000)
        assert fresh.locator("#lines li.shared .line").text_content() == line
        assert fresh.locator("#lines li").nth(1).get_attribute("aria-current") == "true"
        assert "highlighted" in fresh.text_content("#link-notice")
        screenshot(fresh, name)
        assert fresh.errors == []
        fresh.context.close()


def test_another_one_asks_with_the_next_seed_and_the_history_keeps_links(browser, stack):  # noqa: F811
    page = clipboard_page(browser, stack)
    _, link = drop_and_link(page, stack)
    seed = int(urllib.parse.parse_qs(urllib.parse.urlsplit(link).query)["seed"][0])
    with page.expect_response(lambda r: "seed=" in r.url and "/warmup" not in r.url) as answer:
        page.click("#another")
    assert f"seed={seed + 1}" in answer.value.url
    assert page.input_value("#prompt") == SETUP
    page.locator("#history-list li").nth(5).wait_for()  # (no wait_for_function: the CSP forbids eval)
    page.reload()
    page.wait_for_selector("#history:not([hidden])")
    assert page.locator("#history-list li").count() == 6  # survives a reload
    first = page.locator("#history-list a").first.get_attribute("href")
    assert first.startswith(stack["site"].url + "/?") and f"seed={seed + 1}" in first
    page.click("#clear-history")
    assert page.locator("#history-list li").count() == 0 and page.is_hidden("#history")
    page.reload()
    assert page.locator("#history-list li").count() == 0
    assert page.errors == []


def test_a_link_from_an_older_model_says_so(browser, stack):  # noqa: F811
    page = clipboard_page(browser, stack)
    _, link = drop_and_link(page, stack)
    old = re.sub(r"v=[0-9a-f]+", "v=0123456789ab", link)
    fresh = new_page(browser)
    fresh.goto(old)
    fresh.wait_for_selector("#lines li", timeout=30_000)
    notice = fresh.text_content("#link-notice")
    assert "earlier model" in notice and "0123456789ab" in notice
    assert fresh.locator("#lines li.shared").count() == 0 and fresh.locator("#lines li").count() == 3
    assert fresh.errors == []


@pytest.mark.parametrize("query", [
    "seed=abc&t=0.8&m=80&n=3&i=0&v=abcdef12",  # a seed that is not a number
    "seed=1&t=9&m=80&n=3&i=0&v=abcdef12",  # creativity out of range
    "seed=1&t=0.8&m=80&n=3&i=5&v=abcdef12",  # a line that is not there
    "seed=99999999999&t=0.8&m=80&n=3&i=0&v=abcdef12",  # seed too large
    "seed=1&t=0.8&m=80&n=3&i=0&v=<script>",  # not a version
    "s=" + "x" * 5000 + "&seed=1&t=0.8&m=80&n=3&i=0&v=abcdef12",  # a 5 KB setup
    "s=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E&seed=1&t=0.8&m=80&n=3&i=0&v=abcdef12&extra=1",  # unknown field
    "seed=1&seed=2&t=0.8&m=80&n=3&i=0&v=abcdef12",  # a field twice
])
def test_tampered_links_give_a_plain_message_and_an_empty_form(browser, stack, query):  # noqa: F811
    page = new_page(browser)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    response = page.goto(stack["site"].url + "/?" + query)
    assert response.status == 200
    page.wait_for_selector("#link-notice:not([hidden])")
    assert "broken or was changed" in page.text_content("#link-notice")
    assert page.input_value("#prompt") == "" and page.is_hidden("#result")
    assert page.evaluate("window.location.search") == ""
    page.wait_for_timeout(300)
    assert dialogs == [] and page.errors == []


def test_link_previews_point_at_a_built_card_image(stack):  # noqa: F811
    import urllib.request

    html = urllib.request.urlopen(stack["site"].url + "/").read().decode()
    tags = dict(re.findall(r'<meta (?:property|name)="((?:og|twitter):[a-z:_]+)" content="([^"]*)"', html))
    assert tags["og:title"] and tags["og:description"] and tags["twitter:card"] == "summary_large_image"
    image = tags["og:image"]
    assert re.search(r"/assets/card\.[0-9a-f]{12}\.png$", image) and tags["twitter:image"] == image
    path = urllib.parse.urlsplit(image).path
    with urllib.request.urlopen(stack["site"].url + path) as response:
        data = response.read()
        assert response.headers["Content-Type"] == "image/png" and "immutable" in response.headers["Cache-Control"]
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and int.from_bytes(data[16:20], "big") == 1200
