"""Parse and validate the generation parameters of a request (query string, JSON or form)."""

import json
import math
from dataclasses import dataclass

from .errors import BadRequest
from .settings import Settings

TEMPERATURE_RANGE = (0.1, 2.0)
DEFAULT_TEMPERATURE = 1.0  # two blind readers preferred its lines to 0.8 and 0.6 (reports/review-temperature)
MIN_MAX_CHARS = 8
SEED_MAX = 2**32 - 1
FIELDS = ("prompt", "n", "temperature", "max_chars", "seed", "format")


@dataclass(frozen=True)
class GenerateParams:
    prompt: str
    n: int
    temperature: float
    max_chars: int
    seed: int | None
    text: bool  # answer in text/plain


def _int(field: str, value, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise BadRequest(field, f"{field} must be an integer from {low} to {high}")
    try:
        number = int(value.strip()) if isinstance(value, str) else value
    except ValueError:
        raise BadRequest(field, f"{field} must be an integer from {low} to {high}, got {str(value)[:40]!r}") from None
    if not low <= number <= high:
        raise BadRequest(field, f"{field} must be from {low} to {high}, got {number}")
    return number


def _float(field: str, value, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadRequest(field, f"{field} must be a number from {low} to {high}")
    try:
        number = float(value.strip()) if isinstance(value, str) else float(value)
    except (ValueError, OverflowError):
        raise BadRequest(field, f"{field} must be a number from {low} to {high}, got {str(value)[:40]!r}") from None
    if not math.isfinite(number) or not low <= number <= high:
        raise BadRequest(field, f"{field} must be from {low} to {high}, got {str(value)[:40]}")
    return number


def _prompt(value, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise BadRequest("prompt", "prompt must be a string")
    if len(value) > limit:
        raise BadRequest("prompt", f"prompt is {len(value)} characters; the limit is {limit}")
    return value


def collect(args, form, body: bytes, content_type: str) -> dict:
    """Merge the query string with a JSON object or form body into one dict of raw values."""
    values: dict = {}
    for source in (args, form):
        for key in source.keys():
            found = source.getlist(key)
            if len(found) > 1 or key in values:
                raise BadRequest(key, f"{key} is given more than once")
            values[key] = found[0]
    if content_type.startswith("application/json") and body.strip():
        try:
            data = json.loads(body.decode("utf-8"), parse_constant=lambda c: float(c))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # ValueError: bad JSON, huge ints
            raise BadRequest("body", f"body is not valid UTF-8 JSON: {str(exc)[:80]}") from None
        if not isinstance(data, dict):
            raise BadRequest("body", "JSON body must be an object such as {\"prompt\": \"...\", \"n\": 1}")
        for key, value in data.items():
            if key in values:
                raise BadRequest(key, f"{key} is given more than once")
            values[key] = value
    return values


def parse(values: dict, settings: Settings, accept_text: bool) -> GenerateParams:
    """Validate raw values into GenerateParams; raise BadRequest naming the field."""
    for key in values:
        if key not in FIELDS:
            raise BadRequest(str(key)[:40], f"unknown field {str(key)[:40]!r}; accepted: {', '.join(FIELDS)}")
    fmt = values.get("format")
    if fmt not in (None, "json", "text"):
        raise BadRequest("format", "format must be 'json' or 'text'")
    seed = values.get("seed")
    parsed = GenerateParams(
        prompt=_prompt(values.get("prompt"), settings.max_prompt_chars),
        n=_int("n", values.get("n", 1), 1, settings.max_n),
        temperature=_float("temperature", values.get("temperature", DEFAULT_TEMPERATURE), *TEMPERATURE_RANGE),
        max_chars=_int("max_chars", values.get("max_chars", settings.default_max_chars),
                       min(MIN_MAX_CHARS, settings.max_chars_limit), settings.max_chars_limit),
        seed=None if seed is None or seed == "" else _int("seed", seed, 0, SEED_MAX),
        text=fmt == "text" or (fmt is None and accept_text),
    )
    if parsed.n * parsed.max_chars > settings.max_work_chars:
        raise BadRequest("n", f"n × max_chars = {parsed.n} × {parsed.max_chars} = {parsed.n * parsed.max_chars} "
                              f"is more than this function allows ({settings.max_work_chars})")
    return parsed
