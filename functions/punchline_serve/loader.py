"""The process-global model: loaded by the first request that needs it, once, under a lock."""

import threading
import time
from dataclasses import dataclass

from . import bundle, decode
from .errors import ModelUnavailable
from .model import Model
from .rhyme import Lexicon
from .settings import Settings


@dataclass(frozen=True)
class Loaded:
    """A bundle ready to serve: the one way from a model location to punchlines (function, bench and eval)."""

    model: Model
    lexicon: Lexicon | None
    uri: str
    fetch_ms: float
    load_ms: float  # fetch + verify + interpreter set-up
    bytes_fetched: int

    def punchlines(self, setup: str, n: int, temperature: float, max_chars: int, seed: int) -> tuple[list[str], bool]:
        """n punchlines for the setup and whether they rhyme with it (a bundle without a lexicon never does)."""
        return decode.punchlines(self.model, self.lexicon, setup, n, temperature, max_chars, seed)

    def plain(self, setup: str, n: int, temperature: float, max_chars: int, seed: int) -> list[str]:
        """n lines sampled straight from the model (no rhyme, no choosing): what eval compares with."""
        return decode.plain(self.model, setup, n, temperature, max_chars, seed)


def load(uri: str, threads: int, timeout_s: float = 60.0, endpoint: str | None = None) -> Loaded:
    """Fetch, verify and set up the bundle at `uri` (gs://bucket/prefix or a folder; endpoint: an emulator's URL,
    else the storage library's default)."""
    start = time.perf_counter()
    fetched = bundle.fetch(uri, timeout_s, endpoint)
    model = Model(fetched.manifest, fetched.data, threads)
    lexicon = Lexicon(fetched.lexicon, fetched.manifest.lexicon_file) if fetched.lexicon else None
    return Loaded(model, lexicon, uri, fetched.fetch_ms, (time.perf_counter() - start) * 1000, fetched.bytes_fetched)


_lock = threading.Lock()
_loaded: Loaded | None = None
_state = "cold"  # cold | loading | ready | failed
_last_error: str | None = None
_started = time.time()


def get_model(settings: Settings) -> tuple[Loaded, bool]:
    """Return (the loaded model, whether this call paid for loading it)."""
    global _loaded, _state, _last_error
    current = _loaded
    if current is not None and current.uri == settings.model_uri:
        return current, False
    with _lock:  # concurrent cold requests wait here for the one fetch
        if _loaded is not None and _loaded.uri == settings.model_uri:
            return _loaded, False
        _state = "loading"
        try:
            _loaded = load(settings.model_uri, settings.inference_threads, settings.fetch_timeout_s,
                           settings.storage_endpoint)
        except ModelUnavailable as exc:
            _state, _last_error = "failed", str(exc)
            raise  # nothing is kept: the next request tries again
        _state, _last_error = "ready", None
        return _loaded, True


def status() -> dict:
    """This instance's view of the model, without loading anything."""
    loaded = _loaded
    info = {"state": _state, "instance_uptime_s": round(time.time() - _started, 1)}
    if loaded is not None:
        manifest = loaded.model.manifest
        info["model"] = {"name": manifest.name, "version": manifest.version}
        info["load_ms"] = round(loaded.load_ms, 1)
        info["bytes_fetched"] = loaded.bytes_fetched
    if _last_error:
        info["last_error"] = _last_error
    return info


def reset() -> None:
    """Forget the loaded model (tests use this to simulate a fresh instance)."""
    global _loaded, _state, _last_error
    with _lock:
        _loaded, _state, _last_error = None, "cold", None
