"""Corpus reading, and the record of where every corpus and judge file comes from."""

import hashlib
import re

import pytest

from punchline import corpus
from punchline.processes import REPO
from punchline_serve.text import words

FOLDERS = ("corpus", "judge")


def test_pairs_are_neighbouring_lines_within_a_stanza_cleaned():
    text = ("[Chorus]\n# a comment\n  I  came   \u201cfirst\u201d\u2014now  \nthey said \u2018no\u2019\n12\n\n"
            "second stanza\nits next line\nand its last\n\nI came \"first\"-now\nthey said 'no'\n")
    assert corpus.pairs([text]) == [('I came "first"-now', "they said 'no'"), ("second stanza", "its next line"),
                                    ("its next line", "and its last")]  # the repeated couplet only once


def test_a_corpus_with_too_few_pairs_is_refused(tmp_path):
    path = tmp_path / "one.txt"
    path.write_text("just one line\n\nand another alone\n", encoding="utf-8")
    with pytest.raises(corpus.CorpusError, match="only 0 pairs"):
        corpus.load_pairs(path)


def _documented(folder: str) -> str:
    return (REPO / folder / "SOURCES.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("path", sorted(p for f in FOLDERS for p in (REPO / f).rglob("*.txt")),
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_corpus_and_judge_file_has_a_documented_source_and_licence(path):
    folder = path.relative_to(REPO).parts[0]
    rel = path.relative_to(REPO / folder).as_posix()
    row = next((line for line in _documented(folder).splitlines() if line.startswith(f"| `{rel}` |")), None)
    assert row is not None, f"{rel} is not in {folder}/SOURCES.md"
    assert re.search(r"public domain|CC0", row.split("|")[3]), f"{rel}: no licence in {row}"


@pytest.mark.parametrize("path", sorted(p for f in FOLDERS for p in (REPO / f / "public-domain").glob("*.txt")),
                         ids=lambda p: p.relative_to(REPO).as_posix())
def test_public_domain_files_are_the_ones_recorded(path):
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert f"| `{path.name}` | `{digest}` |" in _documented(path.relative_to(REPO).parts[0])


def test_the_judge_and_the_held_out_lines_share_no_line_with_the_training_corpus():
    def lines(folder):
        return {" ".join(words(line)) for text in corpus.read_texts(REPO / folder) for line in text.splitlines()
                if len(words(line)) >= 4}

    shared = lines("corpus") & lines("judge")
    assert not shared, sorted(shared)[:5]
