"""The rhyme lexicon a bundle carries: CMU Pronouncing Dictionary words by the rhyming part of their usual
(first) pronunciation — "it" rhymes with "sit", not only with the unstressed "it" — plus the corpus's own
words (most frequent first), which are the endings the model may choose from."""

import collections
import json
import re

WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


def build(corpus_text: str) -> bytes:
    import pronouncing

    pronouncing.init_cmu()
    parts: dict[str, set] = {}
    seen = set()
    for word, phones in pronouncing.pronunciations:  # a word's first pronunciation is its usual one
        if WORD.fullmatch(word) and word not in seen:
            seen.add(word)
            parts.setdefault(pronouncing.rhyming_part(phones), set()).add(word)
    counts = collections.Counter(WORD.findall(corpus_text.lower()))
    known = [w for w, _ in counts.most_common() if pronouncing.phones_for_word(w)]
    data = {"source": "CMU Pronouncing Dictionary via the pronouncing package; corpus word counts",
            "rhyming_parts": {p: sorted(ws) for p, ws in sorted(parts.items())}, "known_words": known}
    return json.dumps(data, separators=(",", ":"), sort_keys=True).encode("utf-8")
