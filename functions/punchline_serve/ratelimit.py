"""Per-client rate limiting, in memory per instance, with `limits` (the library Flask-Limiter is built on).

It caps what one client can make one instance do; the bill's hard ceiling is the deployment's
--max-instances (see the README).

Who the client is: the address werkzeug's ProxyFix(x_for=TRUSTED_PROXY_HOPS) would set, that is the
X-Forwarded-For entry that many places from the end (each trusted proxy appends one entry; whatever comes
before them, the client may have written), or the peer address when the header has fewer entries than that
or when TRUSTED_PROXY_HOPS is 0. An IPv6 client is counted by its /64, the block one subscriber is given.
"""

import hashlib
import ipaddress
import math
import secrets
import threading
import time
from dataclasses import dataclass

from werkzeug.http import parse_list_header
from werkzeug.middleware.proxy_fix import ProxyFix

from .errors import RateLimited

IPV6_CLIENT_PREFIX = 64  # one subscriber's block: a client may pick any address in it
_lock = threading.Lock()
_limiter = None
_items: dict = {}
_salt = secrets.token_bytes(16)  # per instance: the digests in the logs cannot be reversed into addresses


@dataclass(frozen=True)
class Client:
    key: str  # what the limit counts against
    source: str  # "x-forwarded-for[-N]" or "peer"

    def for_log(self) -> dict:
        """The key's source and a salted digest of it, never the address itself."""
        digest = hashlib.sha256(_salt + self.key.encode()).hexdigest()[:12]
        return {"source": self.source, "key": digest}


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


def _proxy_fixed_address(environ: dict, hops: int) -> str | None:
    """REMOTE_ADDR as ProxyFix(x_for=hops) leaves it (the library applied to a copy of the environ)."""
    seen = {}

    def app(env, start_response):
        seen["address"] = env.get("REMOTE_ADDR")
        return []

    ProxyFix(app, x_for=hops, x_proto=0, x_host=0, x_port=0, x_prefix=0)(dict(environ), lambda *args: None)
    return seen["address"]


def _normalized(address: str | None) -> str | None:
    """The key for an address (IPv6 by its /64), or None when it is not an IP address."""
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return None
    if ip.version == 6:
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(ip)


def client(environ: dict, hops: int) -> Client:
    """The client a request counts against, given how many trusted proxies appended to X-Forwarded-For."""
    header = environ.get("HTTP_X_FORWARDED_FOR", "")
    used_header = hops > 0 and bool(header) and len(parse_list_header(header)) >= hops
    key = _normalized(_proxy_fixed_address(environ, hops))
    if used_header and key is not None:
        return Client(key, f"x-forwarded-for[-{hops}]")
    # No usable entry at that position: the peer, never a value the client could have written.
    peer = environ.get("REMOTE_ADDR") or "unknown"
    return Client(_normalized(peer) or peer[:64], "peer")


def check(client_: Client, rate: str) -> None:
    """Count one request for its client; raise RateLimited with a Retry-After when over the rate."""
    limiter, item = _get(rate)
    if not limiter.hit(item, "punchline", client_.key):
        reset = limiter.get_window_stats(item, "punchline", client_.key).reset_time
        raise RateLimited(rate, max(1, math.ceil(reset - time.time())))


def reset() -> None:
    """Forget every count (tests use this to start clean)."""
    global _limiter
    with _lock:
        _limiter = None
