"""Reading and cleaning a training corpus: a UTF-8 file or a folder of them, read as pairs of lines."""

import re
import unicodedata
from pathlib import Path

from punchline_serve.text import archaic

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


def _clean(line: str) -> str | None:
    """One line made plain, or None for a line to drop (a section tag, a comment, no letter)."""
    if _SECTION_TAG.match(line) or line.lstrip().startswith("#"):
        return None
    line = " ".join(line.translate(_QUOTES).split())
    return line if any(c.isalpha() for c in line) else None


def stanzas(texts: list[str]) -> list[list[str]]:
    """The cleaned lines of every stanza (a blank line ends one); lines _clean drops are left out."""
    found = []
    for text in texts:
        stanza: list[str] = []
        for raw in unicodedata.normalize("NFKC", text).splitlines() + [""]:
            if not raw.strip():
                if stanza:
                    found.append(stanza)
                stanza = []
            elif (line := _clean(raw)) is not None:
                stanza.append(line)
    return found


def pairs(texts: list[str], modern: bool = False) -> list[tuple[str, str]]:
    """Every pair of neighbouring lines within a stanza, without repeats: a couplet file (setup, punchline,
    blank line) gives its couplets; verse gives each line and the next. With modern, pairs holding an
    archaic word or elision (thee, hath, o'er, lov'd) are left out."""
    seen, found = set(), []
    for stanza in stanzas(texts):
        previous = None
        for line in stanza:
            if modern and archaic(line):
                previous = None  # the pairs on either side of this line go with it
                continue
            if previous is not None and (previous.lower(), line.lower()) not in seen:
                seen.add((previous.lower(), line.lower()))
                found.append((previous, line))
            previous = line
    return found


def couplets(texts: list[str]) -> set[tuple[str, str]]:
    """The pairs that are whole stanzas of two lines: the setup/punchline couplets."""
    return {(stanza[0], stanza[1]) for stanza in stanzas(texts) if len(stanza) == 2}


def load_pairs(path: Path, min_pairs: int = 4, modern: bool = False) -> list[tuple[str, str]]:
    """The corpus as (line, next line) pairs; raise CorpusError if it holds too few to train on."""
    found = pairs(read_texts(path), modern)
    if len(found) < min_pairs:
        raise CorpusError(f"{path} gives only {len(found)} pairs of neighbouring lines after cleaning; "
                          f"need at least {min_pairs}")
    return found
