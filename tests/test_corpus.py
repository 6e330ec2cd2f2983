"""Corpus cleaning, and the record of where every corpus file comes from."""

import hashlib
import re

import pytest

from punchline import corpus
from punchline.processes import REPO


def test_cleaning_drops_tags_comments_duplicates_and_letterless_lines():
    text = ("[Chorus]\n(Verse 2: Someone)\n# a comment\n  I  came   \u201cfirst\u201d\u2014now  \n"
            "i came \"first\"-now\n12\n* * *\n\nthey said \u2018no\u2019\n")
    assert corpus.clean_lines([text]) == ['I came "first"-now', "they said 'no'"]


def test_rare_characters_leave_their_lines_out_of_a_large_corpus():
    words = "the night is long and I am here".split()
    lines = [" ".join(words[i:] + words[:i]) for i in range(len(words))]  # the same characters, 8 lines
    odd = ["the night \u00a7 is here", "the night is long 17"]
    kept = corpus.clean_lines(["\n".join(lines + odd)], rare_share=0.005)
    assert kept == lines
    assert corpus.clean_lines(["\n".join(lines + odd)]) == lines + odd  # off by default


def test_a_small_corpus_keeps_every_character():
    path = REPO / "corpus" / "punchlines.txt"
    assert set(corpus.load(path)) == set("\n".join(corpus.clean_lines(corpus.read_texts(path))) + "\n")


def _documented() -> str:
    return (REPO / "corpus" / "SOURCES.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted((REPO / "corpus").rglob("*.txt")), ids=lambda p: p.name)
def test_every_corpus_file_has_a_documented_source_and_licence(path):
    rel = path.relative_to(REPO / "corpus").as_posix()
    row = next((line for line in _documented().splitlines() if line.startswith(f"| `{rel}` |")), None)
    assert row is not None, f"{rel} is not in corpus/SOURCES.md"
    assert re.search(r"public domain|CC0", row.split("|")[3]), f"{rel}: no licence in {row}"


@pytest.mark.parametrize("path", sorted((REPO / "corpus" / "public-domain").glob("*.txt")), ids=lambda p: p.name)
def test_public_domain_files_are_the_ones_recorded(path):
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"| `{path.name}` | `{digest}` |" in _documented()
