"""From a setup to its punchlines, in one direction: propose candidates, score them, choose.

1. Read the setup (right to left, as the model was trained) and a line break: the model's logits for the
   punchline's last word.
2. Propose: endings among the words the model knows that rhyme with the setup's last word, drawn by the
   model's own preference for them there (without a rhyme to aim for, the model draws the endings itself);
   then a small beam per ending writes the line from its ending back to its first word: each step extends
   every beam by words drawn from the model's tempered nucleus (top-p) and keeps the likeliest extensions.
   (A blind review preferred these lines to plain sampling's: reports/review; and 12 rows to 6: reports/review-rows.)
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
MIN_ROWS = 12  # ... but at least this many (three endings), which a blind review preferred for one punchline ...
CANDIDATE_ROWS = 32  # ... and no more than this many rows per request: bounds the work of large n
BEAM_WIDTH = 4  # rows per ending: the rows are shared among rows // BEAM_WIDTH endings
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


def reading(model: Model, setup: str) -> list[int]:
    """What the model reads before it writes a punchline: a line break, the setup's words last to first, a
    line break (the order it was trained in; the punchline then follows from its last word back)."""
    return [model.newline] + model.encode(words(setup)[::-1]) + [model.newline]


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _gumbel_top(logprobs: np.ndarray, k: int, temperature: float, rng: np.random.Generator) -> np.ndarray:
    """k different words per row, drawn without replacement from softmax(logprobs / temperature) truncated to
    its top-p nucleus within the TOP_K likeliest (Gumbel top-k): [rows, k] ids, likeliest draw first."""
    width = min(TOP_K, logprobs.shape[1])
    top = np.argpartition(-logprobs, width - 1, axis=1)[:, :width]
    top_logprobs = np.take_along_axis(logprobs, top, axis=1)
    order = np.argsort(-top_logprobs, axis=1, kind="stable")
    top, top_logprobs = np.take_along_axis(top, order, axis=1), np.take_along_axis(top_logprobs, order, axis=1)
    probs = np.exp(log_softmax(top_logprobs))  # the nucleus is the model's own, whatever the temperature
    keep = (np.cumsum(probs, axis=1) - probs < TOP_P) & np.isfinite(top_logprobs)
    scaled = log_softmax(top_logprobs / temperature)
    keep[:, 0] = True
    keys = np.where(keep, scaled + rng.gumbel(size=scaled.shape), -np.inf)
    picks = np.argsort(-keys, axis=1, kind="stable")[:, :k]
    ids = np.take_along_axis(top, picks, axis=1)
    return np.where(np.take_along_axis(keys, picks, axis=1) > -np.inf, ids, -1)  # -1: fewer than k allowed


def _endings(model: Model, lexicon: Lexicon | None, setup_word: str | None, first: np.ndarray, count: int,
             temperature: float, max_chars: int, rng: np.random.Generator) -> tuple[list[int], bool]:
    """Up to `count` different ending word ids, and whether they rhyme with the setup's last word: rhymes the
    model knows, drawn without replacement by its preference for them there (Gumbel top-k); when there are
    none, endings the model draws itself."""
    rhymes = lexicon.endings_for(setup_word) if lexicon is not None and setup_word else []
    ids = np.array([model.index[w] for w in rhymes if w in model.index and len(w) <= max_chars], dtype=np.int64)
    if len(ids):
        keys = first[ids] / temperature + rng.gumbel(size=len(ids))
        return [int(i) for i in ids[np.argsort(-keys, kind="stable")[:count]]], True
    masked = first.copy()
    masked[[model.newline] + ([] if model.unknown is None else [model.unknown])] = -np.inf
    masked[model.lengths > max_chars] = -np.inf  # a line is at least its last word
    drawn = _gumbel_top(masked[None, :], count, temperature, rng)[0]
    return [int(i) for i in drawn if i >= 0], False


def propose(model: Model, lexicon: Lexicon | None, setup: str, rows: int, temperature: float, max_chars: int,
            seed: int, rhyme: bool = True, width: int = BEAM_WIDTH) -> tuple[list[Candidate], bool]:
    """`rows` candidate punchlines for the setup, and whether they were made to rhyme with it.

    A beam per ending: rows // width endings share the rows, and each beam is written from its ending back
    to the first word. At every step a beam is extended by words drawn without replacement from the model's
    tempered nucleus (the temperature widens or narrows what is drawn), and each ending keeps the extensions
    the model finds likeliest. A beam ends when the model ends the line (after MIN_WORDS), or is cut at
    MAX_WORDS or max_chars. With width 1 this is plain sampling, one line per ending."""
    rng = np.random.default_rng(seed)
    logits, carry = model.read(reading(model, setup))
    first = log_softmax(logits[0])
    endings, rhymed = _endings(model, lexicon if rhyme else None, last_word(setup) if rhyme else None, first,
                               max(1, rows // width), temperature, max_chars, rng)
    quota = [rows // len(endings) + (g < rows % len(endings)) for g in range(len(endings))]
    done: list[list[Candidate]] = [[] for _ in endings]
    live = [([model.vocabulary[e]], float(first[e]), g) for g, e in enumerate(endings)]  # last word first
    ids, carry = np.array(endings, dtype=np.int32), carry.repeat(len(live))
    while live:
        logits, carry = model.step(ids, carry)
        logprobs = log_softmax(logits)
        masked = logprobs.copy()
        if model.unknown is not None:
            masked[:, model.unknown] = -np.inf  # read, never written
        masked[np.array([len(tokens) < MIN_WORDS for tokens, _, _ in live]), model.newline] = -np.inf
        draws = _gumbel_top(masked, max(quota), temperature, rng)
        options: dict[int, list[tuple[float, int, int]]] = {}
        for row, (tokens, total, group) in enumerate(live):
            chars = sum(len(t) for t in tokens) + len(tokens) - 1
            fits = False
            for pick in draws[row, :quota[group]].tolist():
                if pick < 0:
                    break
                value = total + float(logprobs[row, pick])
                if pick == model.newline:
                    done[group].append(Candidate(tokens[::-1], value, True))
                elif chars + 1 + len(model.vocabulary[pick]) <= max_chars:
                    options.setdefault(group, []).append((value, row, pick))
                    fits = True
            if not fits and pick != model.newline:
                done[group].append(Candidate(tokens[::-1], total, False))  # no word fits: cut at max_chars
        grown = []
        for group, found in options.items():
            room = quota[group] - len(done[group])
            for value, row, pick in sorted(found, key=lambda o: -o[0])[:max(0, room)]:
                tokens = live[row][0] + [model.vocabulary[pick]]
                if len(tokens) >= MAX_WORDS:
                    done[group].append(Candidate(tokens[::-1], value, False))
                else:
                    grown.append((row, pick, (tokens, value, group)))
        if not grown:
            break
        carry = carry[[row for row, _, _ in grown]]
        ids = np.array([pick for _, pick, _ in grown], dtype=np.int32)
        live = [beam for _, _, beam in grown]
    candidates = [c for g, group in enumerate(done) for c in sorted(group, key=lambda c: -score(c))[:quota[g]]]
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
    rows = min(CANDIDATE_ROWS, max(n * CANDIDATES_PER_LINE, MIN_ROWS, n))
    candidates, rhymed = propose(model, lexicon, setup, rows, temperature, max_chars, seed)
    return choose(candidates, setup, n), rhymed


def plain(model: Model, setup: str, n: int, temperature: float, max_chars: int, seed: int) -> list[str]:
    """n lines sampled straight from the model, no rhyme and no choosing: the baseline eval compares with."""
    candidates, _ = propose(model, None, setup, n, temperature, max_chars, seed, rhyme=False, width=1)
    return [c.text for c in candidates]
