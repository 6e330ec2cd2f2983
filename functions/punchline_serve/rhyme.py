"""Which words rhyme: the lexicon a bundle carries (lexicon.json, built by `punchline train` from the CMU
Pronouncing Dictionary): every dictionary word by the rhyming part of its usual pronunciation, and the
model's own words, the endings decoding may choose from (most frequent first)."""

import json

from .errors import BundleError
from .text import echoes

# words too slight to land a punchline on: function words and contractions
WEAK_ENDINGS = frozenset("a an and the of to in on at by for or but so as is it i me my you your we he she they "
                         "them his her its our us be am are was were do did done has had have".split())


class Lexicon:
    """Dictionary words by rhyming part, and the model's words that may end a punchline."""

    def __init__(self, data: bytes, where: str):
        self.part_of: dict[str, str] = {}
        self.known_by_part: dict[str, list[str]] = {}
        try:
            raw = json.loads(data.decode("utf-8"))
            for part, words in raw["rhyming_parts"].items():
                for word in words:
                    self.part_of.setdefault(word, part)
            for word in raw["known_words"]:  # most frequent first
                part = self.part_of.get(word)
                if part is not None:
                    self.known_by_part.setdefault(part, []).append(word)
        except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise BundleError(f"invalid lexicon {where}: {exc}") from exc

    def endings_for(self, word: str) -> list[str]:
        """Words the model knows that rhyme with `word`: not the word itself, nor a spelling or inflection of
        it ("neighbourhood" for "neighborhood", "dreams" for "dream"), nor a word too slight to end on."""
        word = word.lower()
        part = self.part_of.get(word)
        if part is None:
            return []
        return [w for w in self.known_by_part.get(part, [])
                if len(w) > 1 and w not in WEAK_ENDINGS and "'" not in w and not echoes(w, word)]
