"""The process-global model: loaded by the first request that needs it, once, under a lock."""

import threading
import time
from dataclasses import dataclass

from . import bundle
from .errors import ModelUnavailable
from .generate import Generator
from .model import CharModel
from .rhyme import Lexicon
from .settings import Settings


@dataclass(frozen=True)
class Loaded:
    model: CharModel
    generator: Generator
    lexicon: Lexicon | None
    uri: str
    fetch_ms: float
    load_ms: float  # fetch + verify + interpreter set-up
    bytes_fetched: int


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
        start = time.perf_counter()
        try:
            fetched = bundle.fetch(settings.model_uri, settings.fetch_timeout_s)
            model = CharModel(fetched.manifest, fetched.data, settings.inference_threads)
            lexicon = Lexicon(fetched.lexicon, fetched.manifest.lexicon_file) if fetched.lexicon else None
        except ModelUnavailable as exc:
            _state, _last_error = "failed", str(exc)
            raise  # nothing is kept: the next request tries again
        _loaded = Loaded(model, Generator(model), lexicon, settings.model_uri, fetched.fetch_ms,
                         (time.perf_counter() - start) * 1000, fetched.bytes_fetched)
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
