"""From a setup to its punchlines, in one direction: propose candidates, score them, choose.

1. Read the setup (right to left, as the model was trained) and a line break: the model's logits for the
   punchline's last word.
2. Propose: each candidate row gets an ending among the words the model knows that rhyme with the setup's
   last word, drawn by the model's own preference for them there (without a rhyme to aim for, the model draws
   the ending itself); then the row is written from its ending back to its first word, sampling with
   temperature and nucleus (top-p) truncation.
3. Score: a candidate's log-likelihood under the model per word (its ending included), less penalties for
   what reads badly: cut at max_chars, a word used twice, a run of words taken from the setup.
4. Choose the best n, with different endings and different openings while there are others.
"""

from dataclasses import dataclass

import numpy as np

from .model import Model
from .rhyme import Lexicon
from .text import join, last_word, words

CANDIDATES_PER_LINE = 6  # candidates written for each punchline asked for ...
CANDIDATE_ROWS = 32  # ... but no more than this many rows per request: bounds the work of large n
TOP_P = 0.92  # nucleus sampling: the smallest set of words holding this much probability ...
TOP_K = 64  # ... among the likeliest this many
MIN_WORDS = 5  # a punchline is at least this many words (the line break is held back until then)
MAX_WORDS = 18
CUT_PENALTY = 1.5  # per-word log-likelihood units: a line cut at max_chars lacks its opening
REPEAT_PENALTY = 0.5  # for each content word used twice in a line
SETUP_RUN = 3  # words: a punchline repeating this many of the setup's words in a row is an echo
SHORT_WORDS = frozenset("a an and the of to in on at by for or but so as is it i me my you your we".split())


@dataclass
class Candidate:
    tokens: list[str]  # first word to last
    logprob: float
    ended: bool  # the model ended the line itself (else it reached max_chars or MAX_WORDS)

    @property
    def text(self) -> str:
        return join(self.tokens)


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _sample(logprobs: np.ndarray, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """One word per row from softmax(logprobs / temperature), truncated to its top-p nucleus within the
    TOP_K likeliest words (a partition, not a full sort: the vocabulary is thousands of words)."""
    k = min(TOP_K, logprobs.shape[1])
    top = np.argpartition(-logprobs, k - 1, axis=1)[:, :k]
    top_logprobs = np.take_along_axis(logprobs, top, axis=1)
    order = np.argsort(-top_logprobs, axis=1, kind="stable")
    top, top_logprobs = np.take_along_axis(top, order, axis=1), np.take_along_axis(top_logprobs, order, axis=1)
    probs = np.exp(_log_softmax(top_logprobs / temperature))
    keep = np.cumsum(probs, axis=1) - probs < TOP_P  # always keeps the likeliest
    probs = np.where(keep, probs, 0.0)
    cumulative = np.cumsum(probs, axis=1)
    draws = rng.random(len(probs)) * cumulative[:, -1]
    picks = np.minimum((cumulative < draws[:, None]).sum(axis=1), k - 1)
    return top[np.arange(len(probs)), picks]


def _endings(model: Model, lexicon: Lexicon | None, setup_word: str | None, first: np.ndarray, rows: int,
             temperature: float, max_chars: int, rng: np.random.Generator) -> list[int] | None:
    """An ending word id for each row: rhymes with the setup's last word, drawn without replacement by the
    model's preference (Gumbel top-k), repeated when there are fewer rhymes than rows; None if no rhyme."""
    rhymes = lexicon.endings_for(setup_word) if lexicon is not None and setup_word else []
    ids = np.array([model.index[w] for w in rhymes if w in model.index and len(w) <= max_chars], dtype=np.int64)
    if not len(ids):
        return None
    keys = first[ids] / temperature + rng.gumbel(size=len(ids))
    chosen = ids[np.argsort(-keys, kind="stable")[:rows]]
    return [int(chosen[r % len(chosen)]) for r in range(rows)]


def propose(model: Model, lexicon: Lexicon | None, setup: str, rows: int, temperature: float, max_chars: int,
            seed: int, rhyme: bool = True) -> tuple[list[Candidate], bool]:
    """`rows` candidate punchlines for the setup, and whether they were made to rhyme with it."""
    rng = np.random.default_rng(seed)
    setup_tokens = words(setup)
    logits, carry = model.read([model.newline] + model.encode(setup_tokens[::-1]) + [model.newline])
    first = _log_softmax(logits[0])
    endings = _endings(model, lexicon, last_word(setup), first, rows, temperature, max_chars, rng) if rhyme else None
    rhymed = endings is not None
    if endings is None:  # no rhyme to aim for: the model draws the ending itself
        masked = np.repeat(first[None, :], rows, axis=0)
        masked[:, [model.newline] + ([] if model.unknown is None else [model.unknown])] = -np.inf
        masked[:, model.lengths > max_chars] = -np.inf  # a line is at least its last word
        endings = _sample(masked, temperature, rng).tolist()
    ids = np.array(endings, dtype=np.int32)
    written = [[model.vocabulary[i]] for i in endings]
    scores = first[ids].astype(np.float64)
    chars = np.array([len(t[0]) for t in written])
    ended = np.zeros(rows, dtype=bool)
    live = np.arange(rows)
    carry = carry.repeat(rows)
    while len(live):
        logits, carry = model.step(ids, carry)
        logprobs = _log_softmax(logits)
        masked = logprobs.copy()
        if model.unknown is not None:
            masked[:, model.unknown] = -np.inf  # read, never written
        masked[np.array([len(written[r]) < MIN_WORDS for r in live]), model.newline] = -np.inf
        picks = _sample(masked, temperature, rng)
        keep = []
        for k, (row, pick) in enumerate(zip(live, picks.tolist())):
            if pick == model.newline:
                scores[row] += logprobs[k, pick]
                ended[row] = True
                continue
            token = model.vocabulary[pick]
            if chars[row] + 1 + len(token) > max_chars:
                continue  # the line would run past max_chars: it stops here, cut
            written[row].append(token)
            scores[row] += logprobs[k, pick]
            chars[row] += 1 + len(token)
            if len(written[row]) < MAX_WORDS:
                keep.append(k)
        keep = np.array(keep, dtype=np.int64)
        live, ids, carry = live[keep], picks[keep].astype(np.int32), carry[keep]
    candidates = [Candidate(tokens[::-1], float(score), bool(done))
                  for tokens, score, done in zip(written, scores, ended)]
    return candidates, rhymed


def score(candidate: Candidate) -> float:
    """Log-likelihood per word (the line break counted when the line ended), less the penalties."""
    length = len(candidate.tokens) + candidate.ended
    value = candidate.logprob / length
    if not candidate.ended:
        value -= CUT_PENALTY
    content = [t for t in candidate.tokens if t not in SHORT_WORDS]
    value -= REPEAT_PENALTY * (len(content) - len(set(content)))
    return value


def echoes_setup(tokens: list[str], setup_tokens: list[str]) -> bool:
    """Whether a punchline repeats the setup: the whole of it, or SETUP_RUN of its words in a row."""
    if tokens == setup_tokens:
        return True
    runs = {tuple(setup_tokens[i:i + SETUP_RUN]) for i in range(len(setup_tokens) - SETUP_RUN + 1)}
    return any(tuple(tokens[i:i + SETUP_RUN]) in runs for i in range(len(tokens) - SETUP_RUN + 1))


def choose(candidates: list[Candidate], setup: str, n: int) -> list[str]:
    """The n best-scoring candidates, preferring different endings and openings, and never one that echoes
    the setup while another is left."""
    setup_tokens = words(setup)
    ranked = sorted(candidates, key=lambda c: -score(c))
    echo = {id(c) for c in candidates if echoes_setup(c.tokens, setup_tokens)}
    chosen: list[Candidate] = []

    def fresh(candidate):  # a new ending and a new opening
        return all(c.tokens[-1] != candidate.tokens[-1] and c.tokens[:2] != candidate.tokens[:2] for c in chosen)

    for allowed in (lambda c: id(c) not in echo and fresh(c), lambda c: id(c) not in echo, lambda c: True):
        for candidate in ranked:
            if len(chosen) < n and all(c is not candidate for c in chosen) and allowed(candidate):
                chosen.append(candidate)
    return [c.text for c in chosen]


def punchlines(model: Model, lexicon: Lexicon | None, setup: str, n: int, temperature: float, max_chars: int,
               seed: int) -> tuple[list[str], bool]:
    """n punchlines for the setup, and whether they rhyme with it; the same inputs give the same lines."""
    rows = min(CANDIDATE_ROWS, max(n * CANDIDATES_PER_LINE, n))
    candidates, rhymed = propose(model, lexicon, setup, rows, temperature, max_chars, seed)
    return choose(candidates, setup, n), rhymed


def plain(model: Model, setup: str, n: int, temperature: float, max_chars: int, seed: int) -> list[str]:
    """n lines sampled straight from the model, no rhyme and no choosing: the baseline eval compares with."""
    candidates, _ = propose(model, None, setup, n, temperature, max_chars, seed, rhyme=False)
    return [c.text for c in candidates]
