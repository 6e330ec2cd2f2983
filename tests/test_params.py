"""Validation of request parameters: every bad value names its field and the allowed range."""

import pytest
from werkzeug.datastructures import MultiDict

from punchline_serve import params, settings
from punchline_serve.errors import BadRequest

SETTINGS = settings.load({})


def parse(**values):
    return params.parse(values, SETTINGS, accept_text=False)


def test_defaults():
    p = parse()
    assert (p.prompt, p.n, p.temperature, p.max_chars, p.seed, p.text) == ("", 1, 1.0, 80, None, False)


def test_strings_from_a_query_string_are_converted():
    p = parse(prompt="yo", n="3", temperature="1.2", max_chars="40", seed="7", format="text")
    assert (p.prompt, p.n, p.temperature, p.max_chars, p.seed, p.text) == ("yo", 3, 1.2, 40, 7, True)


@pytest.mark.parametrize("field, value, expect", [
    ("n", 0, "from 1 to 8"),
    ("n", 9, "from 1 to 8"),
    ("n", "1.5", "integer"),
    ("n", True, "integer"),
    ("n", [1], "integer"),
    ("n", "9" * 5000, "integer"),
    ("temperature", "nan", "0.1 to 2.0"),
    ("temperature", float("inf"), "0.1 to 2.0"),
    ("temperature", 0, "0.1 to 2.0"),
    ("temperature", "1e999", "0.1 to 2.0"),
    ("temperature", {"a": 1}, "number"),
    ("max_chars", 5, "from 8 to 200"),
    ("max_chars", 201, "from 8 to 200"),
    ("seed", -1, "from 0 to 4294967295"),
    ("seed", "abc", "integer"),
    ("prompt", "x" * 201, "limit is 200"),
    ("prompt", 5, "string"),
    ("format", "xml", "'json' or 'text'"),
    ("tempreature", 1, "unknown field"),
])
def test_bad_values_name_the_field(field, value, expect):
    with pytest.raises(BadRequest) as caught:
        parse(**{field: value})
    assert caught.value.field == field
    assert expect in str(caught.value)


def test_collect_rejects_a_field_given_twice():
    with pytest.raises(BadRequest) as caught:
        params.collect(MultiDict([("n", "1"), ("n", "2")]), MultiDict(), b"", "")
    assert caught.value.field == "n"


@pytest.mark.parametrize("body, field", [
    (b"{not json", "body"),
    (b"[1, 2]", "body"),
    (b"\xff\xfe", "body"),
    (b"[" * 100_000, "body"),
    (b'{"n": 1' + b"0" * 5000 + b"}", "body"),
])
def test_collect_rejects_bad_json(body, field):
    with pytest.raises(BadRequest) as caught:
        params.collect(MultiDict(), MultiDict(), body, "application/json")
    assert caught.value.field == field


def test_collect_merges_query_and_json_but_not_twice():
    values = params.collect(MultiDict([("format", "text")]), MultiDict(), b'{"n": 2}', "application/json")
    assert values == {"format": "text", "n": 2}
    with pytest.raises(BadRequest):
        params.collect(MultiDict([("n", "1")]), MultiDict(), b'{"n": 2}', "application/json")
