"""The rhyme step's parts, on small known inputs."""

import numpy as np

from punchline import lexicon
from punchline_serve import rhyme


def test_words_rhyme_by_their_usual_pronunciation():
    lex = rhyme.Lexicon(lexicon.build("i sit in it with my wit\na fit of it\nl is a letter\n"), "test")
    assert set(lex.endings_for("it")) == {"sit", "wit", "fit"}  # not only the unstressed "it"
    assert lex.endings_for("xqzt") == []
    assert "l" not in lex.endings_for("tell") and lex.is_word("letter")


def test_lines_of_one_answer_end_on_different_words_while_there_are_others():
    endings = ["way", "day", "say"]
    shortlists = np.array([[0, 1, 2], [0, 1, 2], [0, 1, 2], [0, 1, 2]])
    scores = np.array([[3.0, 2.0, 1.0], [3.0, 2.0, 1.0], [1.0, 3.0, 2.0], [3.0, 2.0, 1.0]])
    assert rhyme._distinct(scores, shortlists, endings) == ["way", "day", "say", "way"]


def test_the_setups_last_word_is_read_whole_whatever_its_spelling():
    assert rhyme.last_word("my résumé") == "resume"  # not "sum", cut at the accents
    assert rhyme.last_word("so NAÏVE!!!") == "NAIVE"
    assert rhyme.last_word("I won\u2019t") == "won't"
    assert rhyme.last_word("ﬁne") == "fine"  # a ligature
    assert rhyme.last_word("привет 🔥") is None and rhyme.last_word("") is None
