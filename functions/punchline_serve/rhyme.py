"""Rhyme-aware punchlines: sample candidate lines, keep the ones made of real words, then let the model
choose, among the words it knows that rhyme with the setup's last word, the ending it finds likeliest.

The lexicon ships in the bundle (lexicon.json, built by `punchline train` from the CMU Pronouncing
Dictionary): every dictionary word grouped by rhyming part, and the words of the training corpus.
"""

import json
import re
import unicodedata

import numpy as np

from .errors import BundleError
from .generate import Job
from .model import Carry, CharModel

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
MAX_ENDINGS = 48  # rhyming words considered per punchline (the most frequent in the corpus)
SHORTLIST = 8  # of those, the ones read through to the end by the model (see best_endings)
CANDIDATE_ROWS = 24  # sampled rows per request at most (but at least two per line): bounds the work of large n
CANDIDATES_PER_LINE = 6  # sampled lines per punchline asked for
MIN_ROOM = 16  # characters: with less room before a rhyming ending, candidates are sampled to full length
# words too slight to land a punchline on
WEAK_ENDINGS = frozenset("a an and the of to in on at by for or but so as is it i me my you your we he she they "
                         "them his her its our us be am are was were do did done has had have".split())


class Lexicon:
    """Dictionary words by rhyming part, and the corpus words (the endings the model may choose)."""

    def __init__(self, data: bytes, where: str):
        self.part_of: dict[str, str] = {}
        self.known_by_part: dict[str, list[str]] = {}
        try:
            raw = json.loads(data.decode("utf-8"))
            for part, words in raw["rhyming_parts"].items():
                for word in words:
                    self.part_of.setdefault(word, part)
            for word in raw["known_words"]:  # corpus order: most frequent first
                part = self.part_of.get(word)
                if part is not None:
                    self.known_by_part.setdefault(part, []).append(word)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BundleError(f"invalid lexicon {where}: {exc}") from exc

    def is_word(self, word: str) -> bool:
        return word.lower() in self.part_of

    def endings_for(self, word: str) -> list[str]:
        """Words the model knows that rhyme with `word` (not the word itself)."""
        word = word.lower()
        part = self.part_of.get(word)
        if part is None:
            return []
        return [w for w in self.known_by_part.get(part, [])
                if w != word and len(w) > 1 and w not in WEAK_ENDINGS][:MAX_ENDINGS]


APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def last_word(text: str) -> str | None:
    """The setup's last word, accents folded ("résumé" -> "resume") and typographic apostrophes made plain, so
    it is looked up whole; None when it holds no Latin-letter word."""
    decomposed = unicodedata.normalize("NFKD", text.translate(APOSTROPHES))
    words = WORD.findall("".join(c for c in decomposed if not unicodedata.combining(c)))
    return words[-1] if words else None


def _validity(line: str, lexicon: Lexicon) -> float:
    words = WORD.findall(line)
    return sum(lexicon.is_word(w) for w in words) / len(words) if words else 0.0


def _prefix(line: str, room: int) -> str | None:
    """The line without its last word, cut back by whole words to fit `room` characters; None if too short."""
    words = line.split()[:-1]
    while words and len(" ".join(words)) > room:
        words.pop()
    return " ".join(words) if len(words) >= 2 else None


def _column(encoded: list[list[int]], t: int, pad: int) -> tuple[np.ndarray, np.ndarray]:
    """Step t of rows of different lengths: (which rows still have an id there, the ids, padded)."""
    active = np.array([t < len(e) for e in encoded])
    return active, np.array([e[t] if t < len(e) else pad for e in encoded])


def _states_after(model: CharModel, setup_state, prefixes: list[str]):
    """The logits and carry of each row after the setup (setup_state: its logits and carry) and its prefix
    plus a space, by reading the prefixes through the model."""
    encoded = [model.encode(p + " ") for p in prefixes]
    carry = setup_state[1].repeat(len(prefixes))
    logits = None
    for t in range(max(len(e) for e in encoded)):
        active, ids = _column(encoded, t, model.newline)
        step_logits, stepped = model.step(ids, carry)
        carry = Carry(np.where(active[:, None], stepped.state, carry.state),
                      np.where(active[:, None], stepped.history, carry.history))
        logits = step_logits if logits is None else np.where(active[:, None], step_logits, logits)
    return logits, carry


def _prefix_states(model: CharModel, job: Job, chosen: list[tuple[int, str]]):
    """The logits and carry after each chosen (candidate row, prefix) and a space: as the job kept them
    while sampling that row, or, for a prefix sampling did not end a word on, read through again."""
    kept = [job.state_after(row, prefix) for row, prefix in chosen]
    missing = [k for k, found in enumerate(kept) if found is None]
    if missing:
        logits, carry = _states_after(model, job.setup_state, [chosen[k][1] for k in missing])
        for i, k in enumerate(missing):
            kept[k] = logits[i], carry[i:i + 1]
    return np.stack([logits for logits, _ in kept]), Carry.concat([carry for _, carry in kept])


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def best_endings(model: CharModel, logits: np.ndarray, carry: Carry, endings: list[str]) -> list[str]:
    """For each row (its logits and carry after a prefix and a space), the ending (then a line break) the
    model finds likeliest.

    The logits after a prefix already score every ending's first character, so only the SHORTLIST endings
    whose first character the model likes best are read through: the rest could hardly win, and reading
    each one costs a row in every pass.
    """
    prefixes = len(logits)
    encoded_endings = [model.encode(e) + [model.newline] for e in endings]
    first = np.array([e[0] for e in encoded_endings])
    first_scores = _log_softmax(logits)[:, first]  # [prefix, ending]
    keep = min(SHORTLIST, len(endings))
    shortlists = np.argsort(-first_scores, axis=1, kind="stable")[:, :keep]  # ties: the more frequent word
    rows = prefixes * keep
    encoded = [encoded_endings[i] for i in shortlists.ravel()]
    scores = first_scores[np.arange(prefixes)[:, None], shortlists].ravel()
    carry = carry.repeat(keep)
    longest = max(len(e) for e in encoded)
    for t in range(1, longest):  # feed character t - 1, score character t of the rows that have one
        logits, carry = model.step(_column(encoded, t - 1, model.newline)[1], carry)
        active, ids = _column(encoded, t, model.newline)
        scores += np.where(active, _log_softmax(logits)[np.arange(rows), ids], 0.0)
    scores /= np.array([len(e) for e in encoded]) ** 0.5  # do not favour short words too much
    return _distinct(scores.reshape(prefixes, keep), shortlists, endings)


def _distinct(scores: np.ndarray, shortlists: np.ndarray, endings: list[str]) -> list[str]:
    """Each prefix's likeliest ending, but not one an earlier line of the same answer already ended on
    while its shortlist offers another: four punchlines all ending on the same word read as one."""
    used, chosen = set(), []
    for row in range(len(scores)):
        order = [shortlists[row, i] for i in np.argsort(-scores[row], kind="stable")]
        pick = next((i for i in order if i not in used), order[0])
        used.add(pick)
        chosen.append(endings[pick])
    return chosen


def punchlines(generator, lexicon: Lexicon, setup: str, n: int, temperature: float, max_chars: int,
               seed: int) -> tuple[list[str], bool]:
    """n punchlines built from the best of several sampled candidates: real words first, never the setup
    again, and, when the setup's last word has rhymes the model knows, ending on the one it finds likeliest.
    Returns (lines, whether they rhyme)."""
    word = last_word(setup)
    endings = lexicon.endings_for(word) if word else []
    room = max_chars - 1 - max((len(e) for e in endings), default=0)  # for the prefix, before its ending
    rows = min(n * CANDIDATES_PER_LINE, max(2 * n, CANDIDATE_ROWS))
    # a candidate's characters past the prefix's room would be cut anyway: stop sampling there
    sampled_chars = room + 1 if endings and room >= MIN_ROOM else max_chars
    job = Job(generator.model, setup, rows, temperature, sampled_chars, seed, marks=bool(endings))
    candidates = generator.run(job)
    setup_key = " ".join(setup.lower().split())
    if endings:
        scored = []
        for index, (line, _) in enumerate(candidates):
            prefix = _prefix(line, room)
            if prefix is not None and prefix.lower() != setup_key:
                scored.append((-_validity(prefix, lexicon), index, prefix))
        if len(scored) >= n:
            chosen = [(index, prefix) for _, index, prefix in sorted(scored)[:n]]
            ends = best_endings(generator.model, *_prefix_states(generator.model, job, chosen), endings)
            return [f"{prefix} {ending}" for (_, prefix), ending in zip(chosen, ends)], True
    # no rhyme to aim for: the most word-like candidates, ending on a whole word
    scored = []
    for index, (line, _) in enumerate(candidates):
        words = line.split()
        while words and not all(lexicon.is_word(w) for w in WORD.findall(words[-1]) or ["-"]):
            words.pop()  # never end on a broken or made-up word
        text = " ".join(words)
        if text and text.lower() != setup_key:
            scored.append((-_validity(text, lexicon), index, text))
    lines = [text for _, _, text in sorted(scored)[:n]]
    lines += [line for line, _ in candidates[: n - len(lines)]]  # never fewer than asked for
    return lines, False
