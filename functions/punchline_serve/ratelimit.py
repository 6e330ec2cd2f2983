"""Per-client rate limiting, in memory per instance, with `limits` (the library Flask-Limiter is built on).

It caps what one client can make one instance do; the bill's hard ceiling is the deployment's
--max-instances (see the README).
"""

import math
import threading
import time

from .errors import RateLimited

_lock = threading.Lock()
_limiter = None
_items: dict = {}


def _get(rate: str):
    global _limiter
    from limits import parse, storage, strategies

    with _lock:
        if _limiter is None:
            _limiter = strategies.MovingWindowRateLimiter(storage.MemoryStorage())
        if rate not in _items:
            _items[rate] = parse(rate)
        return _limiter, _items[rate]


def validate(rate: str) -> None:
    """Raise ValueError if rate is not a limits expression such as '60/minute'."""
    from limits import parse

    parse(rate)


def client_key(request) -> str:
    """The client's address: the last X-Forwarded-For entry (the one the platform's front end added;
    earlier entries can be set by the client), else the peer address."""
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded.strip():
        return forwarded.split(",")[-1].strip()[:64]
    return request.remote_addr or "unknown"


def check(request, rate: str) -> None:
    """Count one request for its client; raise RateLimited with a Retry-After when over the rate."""
    limiter, item = _get(rate)
    key = client_key(request)
    if not limiter.hit(item, "punchline", key):
        reset = limiter.get_window_stats(item, "punchline", key).reset_time
        raise RateLimited(rate, max(1, math.ceil(reset - time.time())))


def reset() -> None:
    """Forget every count (tests use this to start clean)."""
    global _limiter
    with _lock:
        _limiter = None
