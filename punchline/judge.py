"""An independent judge of fluency: a word trigram model with interpolated Kneser-Ney smoothing, trained on a
judge corpus that shares no text with the training corpus, scoring lines by SLOR.

SLOR (syntactic log-odds ratio) = (ln P_trigram(line) - ln P_unigram(line)) / words: how much likelier the
words are in this order than as a bag. Fluent lines score above 0; shuffled words fall below it whatever
their vocabulary, which a dictionary filter cannot game.

The judge corpus is split in two by stanza: half A may be used by the generator, half B only for scoring.
"""

import collections
import hashlib
import math
import pickle
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from punchline_serve.text import words

DISCOUNT = 0.75
BOS, UNK = "<s>", "<unk>"
CACHE_VERSION = 2  # bump when the counting below changes


def stanzas(texts: list[str]) -> list[list[str]]:
    """Blocks of non-blank lines, comment lines (#) dropped."""
    found = []
    for text in texts:
        block: list[str] = []
        for line in text.splitlines() + [""]:
            if line.strip() and not line.lstrip().startswith("#"):
                block.append(line)
            elif block:
                found.append(block)
                block = []
    return found


def split(texts: list[str]) -> tuple[list[str], list[str]]:
    """The corpus's lines in two halves (A, B), each stanza to one half by a checksum of its text."""
    halves: tuple[list[str], list[str]] = ([], [])
    for block in stanzas(texts):
        halves[zlib.crc32("\n".join(block).encode()) % 2].extend(block)
    return halves


@dataclass
class Judge:
    """Counts of a trigram model; score lines with slor()."""

    vocab: set = field(default_factory=set)
    unigrams: collections.Counter = field(default_factory=collections.Counter)
    total: int = 0
    trigrams: dict = field(default_factory=dict)  # (u, v) -> {w: count}
    trigram_totals: dict = field(default_factory=dict)  # (u, v) -> sum of its counts
    middle: dict = field(default_factory=dict)  # v -> {w: number of distinct u before v w}
    middle_totals: dict = field(default_factory=dict)  # v -> sum of those numbers
    continuation: collections.Counter = field(default_factory=collections.Counter)  # w -> distinct v before it
    continuation_total: int = 0

    @classmethod
    def train(cls, lines: list[str], min_count: int = 2) -> "Judge":
        tokenised = [words(line) for line in lines]
        counts = collections.Counter(w for tokens in tokenised for w in tokens)
        judge = cls(vocab={w for w, c in counts.items() if c >= min_count})
        seen_bigrams = set()
        middle_sets: dict = collections.defaultdict(set)
        for tokens in tokenised:
            tokens = [judge._known(w) for w in tokens]
            judge.unigrams.update(tokens)
            padded = [BOS, BOS] + tokens
            for u, v, w in zip(padded, padded[1:], padded[2:]):
                following = judge.trigrams.setdefault((u, v), {})
                following[w] = following.get(w, 0) + 1
                middle_sets[(v, w)].add(u)
                seen_bigrams.add((v, w))
        judge.total = sum(judge.unigrams.values())
        for (v, w), before in middle_sets.items():
            judge.middle.setdefault(v, {})[w] = len(before)
        judge.trigram_totals = {context: sum(following.values()) for context, following in judge.trigrams.items()}
        judge.middle_totals = {v: sum(after.values()) for v, after in judge.middle.items()}
        judge.continuation = collections.Counter(w for _, w in seen_bigrams)
        judge.continuation_total = len(seen_bigrams)
        return judge

    def _known(self, word: str) -> str:
        return word if word in self.vocab else UNK

    def unigram_logprob(self, word: str) -> float:
        """ln P(word) by frequency (add-one, so an unknown word has some)."""
        return math.log((self.unigrams.get(word, 0) + 1) / (self.total + len(self.vocab) + 1))

    def _p_continuation(self, word: str) -> float:
        return (self.continuation.get(word, 0) + 1) / (self.continuation_total + len(self.vocab) + 1)

    def _p_middle(self, v: str, w: str) -> float:
        after = self.middle.get(v)
        if not after:
            return self._p_continuation(w)
        return ((max(after.get(w, 0) - DISCOUNT, 0) + DISCOUNT * len(after) * self._p_continuation(w))
                / self.middle_totals[v])

    def logprob(self, u: str, v: str, w: str) -> float:
        """ln P_KN(w | u v)."""
        following = self.trigrams.get((u, v))
        if not following:
            return math.log(self._p_middle(v, w))
        p = ((max(following.get(w, 0) - DISCOUNT, 0) + DISCOUNT * len(following) * self._p_middle(v, w))
             / self.trigram_totals[(u, v)])
        return math.log(p)

    def slor(self, line: str) -> float | None:
        """SLOR of a line, or None when it holds no word."""
        tokens = [self._known(w) for w in words(line)]
        if not tokens:
            return None
        padded = [BOS, BOS] + tokens
        model = sum(self.logprob(u, v, w) for u, v, w in zip(padded, padded[1:], padded[2:]))
        unigram = sum(self.unigram_logprob(w) for w in tokens)
        return (model - unigram) / len(tokens)


def load(corpus: Path, half: str = "B", cache_dir: Path | None = None) -> Judge:
    """The judge trained on one half ("A" or "B") of the corpus (a file or a folder of .txt files), built
    once and kept in cache_dir under a key of the corpus's bytes."""
    from punchline.corpus import read_texts

    texts = read_texts(corpus)
    key = hashlib.sha256(repr((CACHE_VERSION, half, texts)).encode()).hexdigest()[:16]
    cached = cache_dir / f"judge-{key}.pickle" if cache_dir is not None else None
    if cached is not None and cached.exists():
        with cached.open("rb") as f:
            return pickle.load(f)
    judge = Judge.train(split(texts)["AB".index(half)])
    if cached is not None:
        cached.parent.mkdir(parents=True, exist_ok=True)
        tmp = cached.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump(judge, f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(cached)
    return judge
