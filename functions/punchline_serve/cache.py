"""Answers that repeat: a request naming its seed is deterministic (same setup, settings, seed and model
version give the same lines), so its answer can carry an HTTP validator and be kept in memory.

- `Key`: what decides the lines; the model version is part of it, so a new model never serves old answers.
- `etag`: a strong entity tag for one representation (JSON or text) of a key's answer.
- `lines_for`: the lines from a bounded, per-instance LRU (cachetools), generating them on a miss.
"""

import hashlib
import json
import threading
from dataclasses import astuple, dataclass

from cachetools import LRUCache
from werkzeug.http import quote_etag

# Browsers keep a seeded answer an hour; shared caches (Cloud CDN) a day. A new model changes the tags, and
# the README says how to invalidate a CDN when one is deployed.
CACHEABLE = "public, max-age=3600, s-maxage=86400"
UNCACHEABLE = "no-store"
VARY = "Origin, Accept"  # the CORS header and the body's format depend on these
# Netlify's CDN keeps a proxied answer only when told to with its own header (stripped before the browser),
# keyed on the URL unless told to vary on more.
NETLIFY = {"Netlify-CDN-Cache-Control": "public, s-maxage=86400", "Netlify-Vary": "header=Accept|Origin"}


@dataclass(frozen=True)
class Key:
    version: str
    prompt: str
    n: int
    temperature: float
    max_chars: int
    seed: int


def etag(key: Key, text: bool) -> str:
    """A strong ETag (quoted) for the JSON or the text answer to key."""
    digest = hashlib.sha256(json.dumps([*astuple(key), "text" if text else "json"]).encode()).hexdigest()
    return quote_etag(digest[:32])


_lock = threading.Lock()
_store: LRUCache | None = None


def _cache(size: int) -> LRUCache:
    global _store
    with _lock:
        if _store is None or _store.maxsize != size:
            _store = LRUCache(maxsize=size)
        return _store


def lines_for(key: Key, size: int, generate) -> tuple[list[str], bool, str]:
    """(lines, rhymed, "hit" | "miss" | "off"): from the cache of `size` answers, else generate() (and keep
    the result). Two requests missing at once both generate; the answers are the same."""
    if size <= 0:
        return (*generate(), "off")
    store = _cache(size)
    with _lock:
        found = store.get(key)
    if found is not None:
        return (*found, "hit")
    lines, rhymed = generate()
    with _lock:
        store[key] = (list(lines), rhymed)
    return lines, rhymed, "miss"


def size() -> int:
    """How many answers the cache holds now."""
    with _lock:
        return 0 if _store is None else len(_store)


def reset() -> None:
    """Forget every answer (a new instance; tests use this)."""
    global _store
    with _lock:
        _store = None
