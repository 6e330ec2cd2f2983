"""Rhymes, echoes and words, on small known inputs."""

from punchline import lexicon
from punchline_serve import decode, rhyme, text


def test_words_rhyme_by_their_usual_pronunciation():
    lex = rhyme.Lexicon(lexicon.build(["\n", "<unk>", "i", "sit", "in", "it", "with", "wit", "fit", "l", "letter"]),
                        "test")
    assert set(lex.endings_for("it")) == {"sit", "wit", "fit"}  # not only the unstressed "it"
    assert lex.endings_for("xqzt") == []
    assert "l" not in lex.endings_for("tell") and "letter" in lex.part_of


def test_endings_never_echo_the_setups_word():
    lex = rhyme.Lexicon(lexicon.build(["\n", "neighbourhood", "neighborhood", "good", "hood", "dreams", "streams",
                                       "dream", "team", "making", "taking"]), "test")
    assert "neighbourhood" not in lex.endings_for("neighborhood") and "good" in lex.endings_for("neighborhood")
    assert "dreams" not in lex.endings_for("dream") and "team" in lex.endings_for("dream")
    assert text.echoes("making", "make") and text.echoes("neighbourhood", "neighborhood")
    assert not text.echoes("taking", "make") and not text.echoes("bed", "be")


def test_contractions_never_end_a_punchline():
    lex = rhyme.Lexicon(lexicon.build(["\n", "you've", "groove", "move"]), "test")
    assert lex.endings_for("groove") == ["move"]


def test_the_setups_last_word_is_read_whole_whatever_its_spelling():
    assert text.last_word("my résumé") == "resume"  # not "sum", cut at the accents
    assert text.last_word("so NAÏVE!!!") == "naive"
    assert text.last_word("I won\u2019t") == "won't"
    assert text.last_word("ﬁne") == "fine"  # a ligature
    assert text.last_word("привет 🔥") is None and text.last_word("") is None


def test_lines_are_joined_with_a_capital_i():
    assert text.join(["i'm", "here", "and", "i", "stay"]) == "I'm here and I stay"


def test_choosing_prefers_new_endings_and_openings_and_never_the_setup():
    setup = "they want the fire but they never felt the heat"
    make = decode.Candidate
    candidates = [make("they want the fire but they never felt the heat".split(), -1.0, True),
                  make("i bring the cold to every street".split(), -10.0, True),
                  make("i bring the cold to every seat".split(), -9.0, True),
                  make("my pen is hot enough to burn the street".split(), -12.0, True),
                  make("cold words from a cut line street".split(), -2.0, False)]
    assert decode.choose(candidates, setup, 2) == ["I bring the cold to every seat",
                                                   "my pen is hot enough to burn the street"]
    assert len(decode.choose(candidates, setup, 5)) == 5
    assert decode.choose(candidates, setup, 5)[-1] == setup  # the echo only when nothing else is left
