"""HTTP routing, CORS, error mapping and the per-request log line."""

import json
import math
import secrets
import sys
import time
import traceback
from datetime import datetime, timezone

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import RequestEntityTooLarge

from . import cache, loader, params, ratelimit, settings as settings_module
from .errors import BodyTooLarge, MethodNotAllowed, NotFound, OriginRefused, PunchlineError

GENERATE_METHODS = ("GET", "POST")
LIMITED_PATHS = ("/", "/warmup")  # the paths that make the function work
BILLING_INCREMENT_MS = 100  # Cloud Functions bills request time in 100 ms steps
STATUS_METHODS = ("GET",)
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def _log(record: dict) -> None:
    """One JSON object per line on stdout: Cloud Logging parses it into fields."""
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def _cors_headers(request, settings) -> dict:
    origin = (request.headers.get("Origin") or "").rstrip("/")
    if not origin or origin not in settings.allowed_origins:
        return {}
    # Retry-After (on 429 and 503) must be exposed, or the page cannot read it across origins.
    return {"Access-Control-Allow-Origin": origin, "Access-Control-Expose-Headers": "Retry-After", "Vary": "Origin"}


def _preflight(request, settings):
    headers = _cors_headers(request, settings)
    if not headers:
        raise OriginRefused(request.headers.get("Origin", ""))
    headers.update({
        "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        "Access-Control-Allow-Headers": "Content-Type, Accept",
        "Access-Control-Max-Age": "3600",
    })
    return "", 204, headers


def _read_values(request, settings) -> dict:
    request.max_content_length = settings.max_body_bytes
    content_type = (request.mimetype or "").lower()
    try:
        if content_type in FORM_TYPES:
            form, body = request.form, b""
        else:
            form, body = MultiDict(), request.get_data(cache=True)
    except RequestEntityTooLarge:
        # functions-framework drains the body after the response; mark it consumed so that
        # drain neither reads the oversized body nor raises a second time.
        request._cached_data = b""
        raise BodyTooLarge(f"request body is larger than MAX_BODY_BYTES={settings.max_body_bytes}") from None
    return params.collect(request.args, form, body, content_type)


def _wants_text(request) -> bool:
    """Accept prefers text/plain over JSON (JSON wins ties, */* and a missing header)."""
    return request.accept_mimetypes.best_match(["application/json", "text/plain"]) == "text/plain"


def _load_model(settings) -> tuple[loader.Loaded, dict]:
    """The model (loading it if this instance has none yet) and what loading cost, for the log line."""
    loaded, cold = loader.get_model(settings)
    return loaded, {"cold_start": cold, "load_ms": round(loaded.load_ms, 1) if cold else 0.0,
                    "fetch_ms": round(loaded.fetch_ms, 1) if cold else 0.0,
                    "bytes_fetched": loaded.bytes_fetched if cold else 0}


def _generate(request, settings):
    parsed = params.parse(_read_values(request, settings), settings, _wants_text(request))
    loaded, facts = _load_model(settings)
    manifest = loaded.model.manifest
    seed = parsed.seed if parsed.seed is not None else secrets.randbelow(params.SEED_MAX + 1)
    key = cache.Key(manifest.version, parsed.prompt, parsed.n, parsed.temperature, parsed.max_chars, seed)
    # A GET naming its seed is the same answer every time for this model: HTTP caches may keep it.
    cacheable = parsed.seed is not None and request.method == "GET"
    headers = {"Cache-Control": cache.UNCACHEABLE}
    if cacheable:
        headers = {"ETag": cache.etag(key, parsed.text), "Cache-Control": cache.CACHEABLE, "Vary": cache.VARY,
                   **cache.NETLIFY}
        if request.if_none_match.contains_weak(headers["ETag"].strip('"')):
            facts.update(cache="hit", generate_ms=0.0, n=parsed.n)
            return "", 304, headers, facts
    start = time.perf_counter()

    def generate():
        return loaded.punchlines(parsed.prompt, parsed.n, parsed.temperature, parsed.max_chars, seed)

    size = settings.cache_size if parsed.seed is not None else 0
    lines, rhymed, used = cache.lines_for(key, size, generate)
    facts.update(generate_ms=round((time.perf_counter() - start) * 1000, 1), n=parsed.n, rhymed=rhymed, cache=used)
    if parsed.text:
        return "\n".join(lines) + "\n", 200, {**headers, "Content-Type": "text/plain; charset=utf-8"}, facts
    body = {
        "punchlines": lines,
        "prompt": parsed.prompt,
        "seed": seed,
        "temperature": parsed.temperature,
        "max_chars": parsed.max_chars,
        "model": {"name": manifest.name, "version": manifest.version},
        "rhymed": rhymed,
    }
    if not cacheable:  # what this request cost: a cached copy would repeat it to requests it does not describe
        body.update(cold_start=facts["cold_start"],
                    timings_ms={"load": facts["load_ms"], "fetch": facts["fetch_ms"], "generate": facts["generate_ms"]})
    return body, 200, headers, facts


def _warmup(request, settings):
    _, facts = _load_model(settings)
    return {**loader.status(), "cold_start": facts["cold_start"]}, 200, {"Cache-Control": cache.UNCACHEABLE}, facts


def _status(request, settings):
    return loader.status(), 200, {"Cache-Control": cache.UNCACHEABLE}, {}


ROUTES = {
    "/": (GENERATE_METHODS, _generate),
    "/warmup": (GENERATE_METHODS, _warmup),
    "/status": (STATUS_METHODS, _status),
}


def handle(request):
    """Answer one HTTP request; every failure becomes a JSON error with the right status."""
    start = time.perf_counter()
    path = "/" + request.path.strip("/")
    record = {"severity": "INFO", "message": "request", "method": request.method, "path": path[:200]}
    headers: dict = {}
    settings = None
    try:
        settings = settings_module.load()
        headers.update(_cors_headers(request, settings))
        if path not in ROUTES:
            raise NotFound(f"no such path {path[:100]!r}; try /, /warmup or /status")
        methods, view = ROUTES[path]
        if request.method == "OPTIONS":
            body, status, extra = _preflight(request, settings)
        elif request.method not in methods:
            raise MethodNotAllowed(request.method, methods + ("OPTIONS",))
        else:
            client = ratelimit.client(request.environ, settings.trusted_proxy_hops)
            record["client"] = client.for_log()
            if settings.rate_limit and path in LIMITED_PATHS:
                ratelimit.check(client, settings.rate_limit)
            body, status, extra, facts = view(request, settings)
            record.update(facts)
        headers.update(extra)
    except PunchlineError as exc:
        body, status = exc.payload(), exc.status
        record.update(severity="WARNING" if status < 500 else "ERROR", error=str(exc)[:500])
        headers.update(exc.headers(settings))
        headers["Cache-Control"] = cache.UNCACHEABLE
    except Exception as exc:  # a bug: say so, log the traceback, keep serving
        body, status = {"error": "internal error; this is a bug, please report it"}, 500
        headers["Cache-Control"] = cache.UNCACHEABLE
        record.update(severity="ERROR", error=f"{type(exc).__name__}: {exc}"[:500],
                      traceback=traceback.format_exc()[-4000:])
    duration_ms = (time.perf_counter() - start) * 1000
    record.update(status=status, duration_ms=round(duration_ms, 1),
                  billed_ms=BILLING_INCREMENT_MS * max(1, math.ceil(duration_ms / BILLING_INCREMENT_MS)),
                  memory_mb=settings.memory_mb if settings else None,
                  time=datetime.now(timezone.utc).isoformat(timespec="milliseconds"))
    _log(record)
    return body, status, headers

