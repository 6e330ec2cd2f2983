"""The word model, run one step at a time by LiteRT (no TensorFlow in the serving path).

The model reads lines right to left, one word a step: a setup, a line break, then its punchline from the last
word back to the first (so decoding can choose the rhyming word first and write the line towards it). The
exported `step` signature takes the current word ids, optionally the hashed ids of the word n-grams ending
there, and the recurrent state; it returns next-word logits and the new state. StepBatcher merges the step
calls that concurrent requests make at the same moment into one invoke.
"""

import threading
from dataclasses import dataclass

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from .bundle import Manifest
from .errors import BundleError
from .text import LINE_BREAK, UNKNOWN

SIGNATURE = "step"
_FNV_OFFSET, _FNV_PRIME, _MASK = 0x811C9DC5, 0x01000193, 0xFFFFFFFF


def ngram_ids(history: np.ndarray, ids: np.ndarray, orders: tuple[int, ...], buckets: int) -> np.ndarray:
    """Hash the n-grams (one per order) ending at each of `ids`, given the previous words.

    history is [batch, max(orders) - 1] word ids, oldest first; returns [batch, len(orders)] int32.
    Training and serving both call this, so the buckets always agree.
    """
    window = np.concatenate([history, ids.reshape(-1, 1)], axis=1).astype(np.uint64)
    width = window.shape[1]
    columns = []
    for order in orders:
        h = np.full(len(window), _FNV_OFFSET + order, dtype=np.uint64)
        for j in range(width - order, width):
            h = ((h ^ window[:, j]) * np.uint64(_FNV_PRIME)) & np.uint64(_MASK)
        columns.append(h % np.uint64(buckets))
    return np.stack(columns, axis=1).astype(np.int32)


@dataclass(frozen=True)
class Carry:
    """What one generation carries from step to step: the recurrent state and recent words."""

    state: np.ndarray  # [batch, state_size] float32
    history: np.ndarray  # [batch, context] int32, oldest first

    def repeat(self, n: int) -> "Carry":
        return Carry(np.repeat(self.state, n, axis=0), np.repeat(self.history, n, axis=0))

    def __getitem__(self, rows) -> "Carry":
        """The carry of some rows: a slice, a boolean mask or a list of row numbers (the last two copy)."""
        return Carry(self.state[rows], self.history[rows])

    @staticmethod
    def concat(carries: list["Carry"]) -> "Carry":
        """The rows of several carries, one after the other."""
        return Carry(np.concatenate([c.state for c in carries]), np.concatenate([c.history for c in carries]))


class StepBatcher:
    """Merge concurrent calls into one run: whoever finds it idle runs everything queued, then hands over."""

    def __init__(self, run):
        self._run = run
        self._cond = threading.Condition()
        self._queue: list[dict] = []
        self._busy = False

    def __call__(self, inputs: dict) -> dict:
        job = {"inputs": inputs, "done": False, "result": None, "error": None}
        with self._cond:
            self._queue.append(job)
            while self._busy and not job["done"]:
                self._cond.wait()
            if not job["done"]:
                self._busy = True
                batch, self._queue = self._queue, []
        if not job["done"]:
            self._run_batch(batch)
        if job["error"] is not None:
            raise job["error"]
        return job["result"]

    def _run_batch(self, batch: list[dict]) -> None:
        try:
            merged = {k: np.concatenate([j["inputs"][k] for j in batch]) for k in batch[0]["inputs"]}
            out = self._run(merged)
            start = 0
            for job in batch:
                rows = len(job["inputs"]["ids"])
                job["result"] = {k: v[start:start + rows] for k, v in out.items()}
                start += rows
        except Exception as exc:  # every caller in the batch sees the failure
            for job in batch:
                job["error"] = exc
        finally:
            with self._cond:
                for job in batch:
                    job["done"] = True
                self._busy = False
                self._cond.notify_all()


class Model:
    """Wraps the exported step signature of a bundle's LiteRT model."""

    def __init__(self, manifest: Manifest, model_bytes: bytes, threads: int):
        self.manifest = manifest
        self.vocabulary = manifest.vocabulary
        self.index = {token: i for i, token in enumerate(self.vocabulary)}
        self.newline = self.index[LINE_BREAK]
        self.unknown = self.index.get(UNKNOWN)
        self.lengths = np.array([len(token) for token in self.vocabulary])
        arch = manifest.architecture
        try:
            self.state_size = int(arch["state_size"])
            self.ngram_orders = tuple(int(o) for o in arch.get("ngram_orders", ()))
            self.ngram_buckets = int(arch.get("ngram_buckets", 0))
            interpreter = Interpreter(model_content=model_bytes, num_threads=threads)
            runner = interpreter.get_signature_runner(SIGNATURE)
        except (KeyError, TypeError, ValueError, RuntimeError) as exc:
            raise BundleError(f"model {manifest.name} {manifest.version} cannot be loaded: {exc}") from exc
        if self.ngram_orders and (self.ngram_buckets < 1 or min(self.ngram_orders) < 1):
            raise BundleError(f"model {manifest.name}: ngram_orders needs ngram_buckets >= 1")
        self.context = max(self.ngram_orders, default=1) - 1
        self._interpreter = interpreter  # keeps the runner's interpreter alive
        self._runner = runner
        self._batcher = StepBatcher(self._invoke)  # also keeps the interpreter to one pass at a time
        self.passes = 0  # model passes run so far (tests and the bench read these two)
        self.rows = 0  # rows those passes computed

    def encode(self, tokens: list[str]) -> list[int]:
        """Word ids; a word outside the vocabulary reads as the unknown token (or is skipped without one)."""
        ids = [self.index.get(t, self.unknown) for t in tokens]
        return [i for i in ids if i is not None]

    def start(self, batch: int) -> Carry:
        """The carry at the start of a line: zero state, a history of line breaks."""
        return Carry(np.zeros((batch, self.state_size), dtype=np.float32),
                     np.full((batch, self.context), self.newline, dtype=np.int32))

    def step(self, ids: np.ndarray, carry: Carry) -> tuple[np.ndarray, Carry]:
        """One model pass for a batch of rows: next-word logits and the new carry."""
        ids = ids.astype(np.int32)
        inputs = {"ids": ids, "state": carry.state}
        if self.ngram_orders:
            inputs["ngrams"] = ngram_ids(carry.history, ids, self.ngram_orders, self.ngram_buckets)
        out = self._batcher(inputs)
        history = np.concatenate([carry.history, ids.reshape(-1, 1)], axis=1)[:, 1:] if self.context else carry.history
        return out["logits"], Carry(out["state"], history)

    def read(self, ids: list[int]) -> tuple[np.ndarray, Carry]:
        """Feed one row of ids from the start of a line; the logits after the last and the carry."""
        carry, logits = self.start(1), None
        for token in ids:
            logits, carry = self.step(np.array([token]), carry)
        return logits, carry

    def _invoke(self, inputs: dict) -> dict:
        out = self._runner(**inputs)
        self.passes += 1
        self.rows += len(inputs["ids"])
        return out
