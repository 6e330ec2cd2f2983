"""Words: how a line is cut into the model's tokens and put back together (training and serving share it)."""

import re
import unicodedata

WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)*")  # the one word pattern: "don't", "rock'n'roll", "2am"
LINE_BREAK = "\n"  # the token that ends a line
UNKNOWN = "<unk>"  # the token for a word outside the vocabulary (read, never written)
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_CAPITALISED = {"i", "i'm", "i'd", "i'll", "i've"}
# archaic words and elisions (thee, hath, -eth verbs, o'er, lov'd), which a modern line does not use
ARCHAIC = re.compile(r"\b(thee|thou|thy|thine|hath|doth|dost|art thou|ye|'tis|'twas|o'er|e'er|ne'er|whence|"
                     r"wherefore|hither|thither|yon|th'|\w+'d)\b|\b\w{2,}eth\b")
_NOT_ARCHAIC = re.compile(r"\b(i'd|you'd|he'd|she'd|we'd|they'd|it'd|who'd|that'd|there'd|teeth|beth|seth|meth|"
                          r"\w+ieth)\b")


def fold(text: str) -> str:
    """Lower case, accents folded ("résumé" -> "resume"), ligatures split, typographic apostrophes plain."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def words(text: str) -> list[str]:
    """The words of a line, folded; punctuation and symbols dropped."""
    return WORD.findall(fold(text))


def last_word(text: str) -> str | None:
    """The line's last word, or None when it holds none."""
    found = words(text)
    return found[-1] if found else None


def join(tokens: list[str]) -> str:
    """A line from its words: spaced, with "I" in capitals."""
    return " ".join(t.capitalize() if t in _CAPITALISED else t for t in tokens)


_VARIANTS = ((re.compile(r"our"), "or"), (re.compile(r"ise([sd]?)\b"), r"ize\1"), (re.compile(r"tre\b"), "ter"),
             (re.compile(r"(.)\1"), r"\1"))
_INFLECTIONS = ("", "s", "es", "ed", "d", "ing", "in'", "in", "'s", "er", "ers", "y", "ly")


def spelling_key(word: str) -> str:
    """A word with its British/American spelling and doubled letters evened out ("neighbourhood" and
    "neighborhood" give one key)."""
    key = word.replace("'", "")
    for pattern, repl in _VARIANTS:
        key = pattern.sub(repl, key)
    return key


def echoes(word: str, other: str) -> bool:
    """Whether `word` repeats `other` rather than rhyming with it: the same word in another spelling or
    with an inflection ("dream"/"dreams", "make"/"making")."""
    a, b = spelling_key(word), spelling_key(other)
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) < 3:
        return False
    stem = short[:-1] if short.endswith("e") else short
    return any(long == stem + ending or long == short + ending for ending in _INFLECTIONS)


def archaic(line: str) -> bool:
    """Whether a line uses an archaic word or elision."""
    return bool(ARCHAIC.search(_NOT_ARCHAIC.sub(" ", fold(line))))
