"""Every environment variable the function reads, in one place, with its default."""

import os
from dataclasses import dataclass

from . import ratelimit
from .errors import ConfigError

# name -> (default, meaning). The README's configuration table is checked against this.
DOCUMENTED = {
    "MODEL_URI": ("gs://punchline-models/default", "Model bundle: gs://bucket/prefix or a local folder."),
    "ALLOWED_ORIGINS": (
        "http://127.0.0.1:8000,http://localhost:8000",
        "Comma-separated origins allowed by CORS. Empty allows none.",
    ),
    "FETCH_TIMEOUT_S": ("30", "Give up fetching the bundle after this many seconds (503)."),
    "RETRY_AFTER_S": ("5", "Retry-After seconds sent with a 503."),
    "MAX_BODY_BYTES": ("16384", "Largest request body accepted (413 above)."),
    "MAX_PROMPT_CHARS": ("200", "Longest setup line accepted."),
    "MAX_N": ("8", "Most punchlines one request may ask for."),
    "MAX_CHARS_LIMIT": ("200", "Upper bound of the max_chars parameter."),
    "DEFAULT_MAX_CHARS": ("80", "max_chars when the request gives none."),
    "MAX_WORK_CHARS": ("1600", "Hard cap on n × max_chars for one request (400 above)."),
    "RATE_LIMIT": ("60/minute", "Requests per client per instance, e.g. 60/minute; 'none' turns it off."),
    "TRUSTED_PROXY_HOPS": (
        "1",
        "Proxies that append to X-Forwarded-For in front of the function: 1 for Cloud Functions as deployed, "
        "2 behind an external Application Load Balancer (Cloud CDN), 0 to use the peer address (local runs).",
    ),
    "CACHE_SIZE": (
        "512",
        "Seeded answers each instance keeps in memory (least recently used go first); 0 turns the cache off.",
    ),
    "INFERENCE_THREADS": ("2", "Threads LiteRT uses for one model pass."),
    "MEMORY_MB": ("512", "Memory the function is deployed with; logged with each request for cost reports."),
    "STORAGE_EMULATOR_HOST": (
        "",
        "Set to a GCS emulator's URL (http://127.0.0.1:4443) to read the bucket from it; unset in production.",
    ),
}


@dataclass(frozen=True)
class Settings:
    model_uri: str
    allowed_origins: tuple[str, ...]
    fetch_timeout_s: float
    retry_after_s: int
    max_body_bytes: int
    max_prompt_chars: int
    max_n: int
    max_chars_limit: int
    default_max_chars: int
    max_work_chars: int
    rate_limit: str | None
    trusted_proxy_hops: int
    cache_size: int
    inference_threads: int
    memory_mb: int
    storage_endpoint: str | None  # an emulator's URL, or None for the real API


def _raw(environ, name: str) -> str:
    """The variable's value, or its documented default when it is unset."""
    return environ.get(name, DOCUMENTED[name][0])


def _number(environ, name: str, kind, low, high):
    raw = _raw(environ, name).strip()
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a valid {kind.__name__}") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={raw!r} must be between {low} and {high}")
    return value


def load(environ=None) -> Settings:
    """Read the settings from the environment; raise ConfigError naming a bad variable."""
    environ = os.environ if environ is None else environ
    origins = tuple(o.strip().rstrip("/") for o in _raw(environ, "ALLOWED_ORIGINS").split(",") if o.strip())
    if "*" in origins:
        raise ConfigError("ALLOWED_ORIGINS must list origins explicitly; '*' is not accepted")
    model_uri = _raw(environ, "MODEL_URI").strip()
    max_chars_limit = _number(environ, "MAX_CHARS_LIMIT", int, 1, 2000)
    rate_limit = _raw(environ, "RATE_LIMIT").strip()
    if rate_limit.lower() in ("", "none", "off"):
        rate_limit = None
    else:
        try:
            ratelimit.validate(rate_limit)
        except ValueError:
            raise ConfigError(f"RATE_LIMIT={rate_limit!r} is not a rate such as '60/minute' (or 'none')") from None
    return Settings(
        model_uri=model_uri,
        allowed_origins=origins,
        fetch_timeout_s=_number(environ, "FETCH_TIMEOUT_S", float, 0.1, 600),
        retry_after_s=_number(environ, "RETRY_AFTER_S", int, 1, 3600),
        max_body_bytes=_number(environ, "MAX_BODY_BYTES", int, 64, 10_000_000),
        max_prompt_chars=_number(environ, "MAX_PROMPT_CHARS", int, 0, 5000),
        max_n=_number(environ, "MAX_N", int, 1, 64),
        max_chars_limit=max_chars_limit,
        default_max_chars=_number(environ, "DEFAULT_MAX_CHARS", int, 1, max_chars_limit),
        max_work_chars=_number(environ, "MAX_WORK_CHARS", int, 1, 1_000_000),
        rate_limit=rate_limit,
        trusted_proxy_hops=_number(environ, "TRUSTED_PROXY_HOPS", int, 0, 8),
        cache_size=_number(environ, "CACHE_SIZE", int, 0, 1_000_000),
        inference_threads=_number(environ, "INFERENCE_THREADS", int, 1, 64),
        memory_mb=_number(environ, "MEMORY_MB", int, 128, 32768),
        storage_endpoint=_endpoint(_raw(environ, "STORAGE_EMULATOR_HOST").strip()),
    )


def _endpoint(value: str) -> str | None:
    """An emulator's URL (a bare host:port is taken as http), or None."""
    if not value:
        return None
    return value if "://" in value else f"http://{value}"
