"""The character model, run one step at a time by LiteRT (no TensorFlow in the serving path)."""

import threading

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from .bundle import Manifest
from .errors import BundleError

SIGNATURE = "step"


class CharModel:
    """Wraps the exported `step(ids, state) -> (logits, state)` signature."""

    def __init__(self, manifest: Manifest, model_bytes: bytes, threads: int):
        self.manifest = manifest
        self.vocabulary = manifest.vocabulary
        self.index = {ch: i for i, ch in enumerate(self.vocabulary)}
        self.newline = self.index["\n"]
        try:
            self.state_size = int(manifest.architecture["state_size"])
            interpreter = Interpreter(model_content=model_bytes, num_threads=threads)
            self._runner = interpreter.get_signature_runner(SIGNATURE)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise BundleError(f"model {manifest.name} {manifest.version} cannot be loaded: {exc}") from exc
        self._interpreter = interpreter
        self._lock = threading.Lock()  # one interpreter, one pass at a time

    def encode(self, text: str) -> list[int]:
        """Character ids for text; characters the model never saw are dropped (case folded first)."""
        ids = []
        for ch in text:
            i = self.index.get(ch)
            if i is None:
                i = self.index.get(ch.lower())
            if i is not None:
                ids.append(i)
        return ids

    def initial_state(self, batch: int) -> np.ndarray:
        return np.zeros((batch, self.state_size), dtype=np.float32)

    def step(self, ids: np.ndarray, state: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One model pass for a batch: next-character logits and the new recurrent state."""
        with self._lock:
            out = self._runner(ids=ids.astype(np.int32), state=state)
        return out["logits"], out["state"]
