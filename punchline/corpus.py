"""Reading and cleaning a training corpus: a UTF-8 file or a folder of them."""

import re
import unicodedata
from collections import Counter
from pathlib import Path

_SECTION_TAG = re.compile(r"^\s*[\[(][^\])]{0,60}[\])]\s*$")  # [Chorus], (Verse 2: X)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})

RARE_SHARE = 2e-5  # characters rarer than 1 in 50,000 are left out of training (see clean_lines)


class CorpusError(ValueError):
    pass


def read_texts(path: Path) -> list[str]:
    """The texts of a file, or of every *.txt file under a folder (sorted, for reproducibility)."""
    files = sorted(p for p in path.rglob("*.txt") if p.is_file()) if path.is_dir() else [path]
    if not files:
        raise CorpusError(f"{path} holds no .txt files")
    texts = []
    for file in files:
        try:
            texts.append(file.read_text(encoding="utf-8"))
        except UnicodeDecodeError as exc:
            raise CorpusError(f"{file} is not UTF-8 text (byte {exc.start})") from None
    return texts


def clean_lines(texts: list[str], rare_share: float = 0.0) -> list[str]:
    """Strip section tags, normalise quotes and whitespace, drop blank and duplicate lines and lines without
    a letter (stanza numbers, dates, dividers). With rare_share > 0, also drop the lines holding a character
    that makes up less than that share of the corpus (stray symbols, an edition's line numbers): the model
    could hardly learn it, and it would cost a place in the vocabulary.
    """
    seen, lines = set(), []
    for text in texts:
        for line in unicodedata.normalize("NFKC", text).translate(_QUOTES).splitlines():
            if _SECTION_TAG.match(line) or line.lstrip().startswith("#"):
                continue
            line = " ".join(line.split())
            if any(c.isalpha() for c in line) and line.lower() not in seen:
                seen.add(line.lower())
                lines.append(line)
    if rare_share > 0:
        counts = Counter("".join(lines))
        total = sum(counts.values())
        rare = {c for c, count in counts.items() if count < rare_share * total}
        lines = [line for line in lines if rare.isdisjoint(line)]
    return lines


def load(path: Path, min_chars: int = 200, rare_share: float = RARE_SHARE) -> str:
    """The cleaned corpus as one text, a line per lyric line, ending with a newline."""
    lines = clean_lines(read_texts(path), rare_share)
    text = "\n".join(lines) + "\n"
    if len(text) < min_chars:
        raise CorpusError(f"{path} gives only {len(text)} characters after cleaning; need at least {min_chars}")
    return text
