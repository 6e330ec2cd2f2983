"""Reading and cleaning a training corpus: a UTF-8 file or a folder of them."""

import re
import unicodedata
from pathlib import Path

_SECTION_TAG = re.compile(r"^\s*[\[(][^\])]{0,60}[\])]\s*$")  # [Chorus], (Verse 2: X)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-"})


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


def clean_lines(texts: list[str]) -> list[str]:
    """Strip section tags, normalise quotes and whitespace, drop blank and duplicate lines."""
    seen, lines = set(), []
    for text in texts:
        for line in unicodedata.normalize("NFKC", text).translate(_QUOTES).splitlines():
            if _SECTION_TAG.match(line) or line.lstrip().startswith("#"):
                continue
            line = " ".join(line.split())
            if line and line.lower() not in seen:
                seen.add(line.lower())
                lines.append(line)
    return lines


def load(path: Path, min_chars: int = 200) -> str:
    """The cleaned corpus as one text, a line per lyric line, ending with a newline."""
    lines = clean_lines(read_texts(path))
    text = "\n".join(lines) + "\n"
    if len(text) < min_chars:
        raise CorpusError(f"{path} gives only {len(text)} characters after cleaning; need at least {min_chars}")
    return text
