"""The rhyme lexicon a bundle carries: CMU Pronouncing Dictionary words by the rhyming part of their usual
(first) pronunciation — "it" rhymes with "sit", not only with the unstressed "it"; primary and secondary
stress alike, so "neighborhood" rhymes with "good" — plus the model's own
words (most frequent first), which are the endings decoding may choose from."""

import json
import re

from punchline_serve.text import WORD


def build(vocabulary: list[str]) -> bytes:
    import pronouncing

    pronouncing.init_cmu()
    parts: dict[str, set] = {}
    seen = set()
    for word, phones in pronouncing.pronunciations:  # a word's first pronunciation is its usual one
        if WORD.fullmatch(word) and word not in seen:
            seen.add(word)
            parts.setdefault(rhyming_part(phones), set()).add(word)
    known = [w for w in vocabulary if w in seen]
    data = {"source": "CMU Pronouncing Dictionary via the pronouncing package; the model's vocabulary",
            "rhyming_parts": {p: sorted(ws) for p, ws in sorted(parts.items())}, "known_words": known}
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")


def rhyming_part(phones: str) -> str:
    """The sounds from the last stressed vowel on, stress marks dropped ("N EY1 B ER0 HH UH2 D" -> "UH D")."""
    import pronouncing

    return re.sub(r"\d", "", pronouncing.rhyming_part(phones))
