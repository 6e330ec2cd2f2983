"""`punchline eval` scores real generations; the metric helpers are checked on known words."""

import json

from click.testing import CliRunner

from punchline import cli, evaluate


def test_rhymes_uses_the_pronouncing_dictionary():
    assert evaluate.rhymes("make", "take") is True
    assert evaluate.rhymes("make", "make") is False  # the same word is no rhyme
    assert evaluate.rhymes("make", "river") is False
    assert evaluate.rhymes("make", "xqzt") is None


def test_eval_on_the_tiny_model(tiny_bundle, tiny_corpus):
    result = CliRunner().invoke(cli.main, ["eval", "--model", str(tiny_bundle), "--corpus", str(tiny_corpus),
                                           "--n", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["punchlines"] == len(evaluate.SETUPS) * len(evaluate.SEEDS) * 2
    for key in ("word_validity", "novelty", "rhyme_rate", "rhyme_rate_without_reranker", "cut_mid_word"):
        assert 0.0 <= report[key] <= 1.0, key
    table = CliRunner().invoke(cli.main, ["eval", "--model", str(tiny_bundle), "--corpus", str(tiny_corpus),
                                          "--n", "1"])
    assert table.exit_code == 0 and "word_validity" in table.output


def test_novelty_catches_a_copied_run(tmp_path, tiny_bundle, monkeypatch):
    corpus = tmp_path / "c.txt"
    corpus.write_text("one two three four five six seven eight nine ten\n" * 1 + "filler line here\n" * 20)
    monkeypatch.setattr(evaluate, "SETUPS", ["x"])
    monkeypatch.setattr(evaluate, "SEEDS", (1,))

    class Copier:
        def __init__(self, model):
            pass

        def generate(self, prompt, n, temperature, max_chars, seed):
            return [("zero one two three four five six seven eight", True), ("all new words here", True)]

    monkeypatch.setattr(evaluate, "Generator", Copier)
    monkeypatch.setattr(evaluate.rhyme, "punchlines", lambda g, lex, *args: ([l for l, _ in g.generate(*args)], False))
    report = evaluate.run(tiny_bundle, corpus, n=2)
    assert report["novelty"] == 0.5


def test_compare_shows_the_distance_to_a_reference_model(tiny_bundle, tiny_corpus):
    result = CliRunner().invoke(cli.main, ["eval", "--model", str(tiny_bundle), "--corpus", str(tiny_corpus),
                                           "--n", "1", "--compare", str(tiny_bundle), "--json"])
    assert result.exit_code == 0, result.output
    compared = json.loads(result.output)["compared_with"]
    assert set(compared["differences"]) == set(evaluate.FRACTIONS)
    assert all(d == 0 for d in compared["differences"].values()) and compared["within_tolerance"] is True
    table = CliRunner().invoke(cli.main, ["eval", "--model", str(tiny_bundle), "--corpus", str(tiny_corpus),
                                          "--n", "1", "--compare", str(tiny_bundle)])
    assert table.exit_code == 0 and "within 0.02: PASS" in table.output
