"""Sampling punchlines from the character model, one batched step per character."""

import numpy as np

from .model import CharModel

_WORD_END = set(" \t.,!?;:)\"'")


def _sample(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    scaled = logits.astype(np.float64) / temperature
    scaled -= scaled.max(axis=1, keepdims=True)
    probs = np.exp(scaled)
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.random(len(logits)) * cumulative[:, -1]
    picks = (cumulative < draws[:, None]).sum(axis=1)
    return np.minimum(picks, logits.shape[1] - 1)


def _finish(chars: list[str], max_chars: int, ended: bool) -> str:
    """Trim a sampled line: whole if it ended itself, else cut back to the last word end."""
    text = "".join(chars)
    if not ended:
        if len(text) > max_chars and text[max_chars] not in _WORD_END:
            cut = max((text.rfind(c, 0, max_chars + 1) for c in " \t"), default=-1)
            text = text[:cut] if cut > 0 else text[:max_chars]
        text = text[:max_chars]
    return " ".join(text.split())


def punchlines(model: CharModel, prompt: str, n: int, temperature: float, max_chars: int,
               seed: int) -> list[str]:
    """n punchlines answering `prompt`; the same inputs and seed give the same lines."""
    rng = np.random.default_rng(seed)
    context = model.encode(" ".join(prompt.split())) + [model.newline]
    state = model.initial_state(1)
    for char_id in context:  # prime the state with the setup line
        logits, state = model.step(np.array([char_id]), state)
    logits, state = np.repeat(logits, n, axis=0), np.repeat(state, n, axis=0)
    logits[:, model.newline] = -np.inf  # a punchline is never empty
    lines: list[list[str]] = [[] for _ in range(n)]
    ended = [False] * n
    for _ in range(max_chars + 1):
        picks = _sample(logits, temperature, rng)
        for row, char_id in enumerate(picks):
            if ended[row] or len(lines[row]) > max_chars:
                continue
            if char_id == model.newline:
                ended[row] = True
            else:
                lines[row].append(model.vocabulary[char_id])
        if all(ended[row] or len(lines[row]) > max_chars for row in range(n)):
            break
        logits, state = model.step(picks, state)
    return [_finish(chars, max_chars, done) for chars, done in zip(lines, ended)]
