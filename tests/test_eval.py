"""`punchline eval` scores real generations; each metric is checked on lines written by hand."""

import json

import pytest
from click.testing import CliRunner

from punchline import cli, evaluate, judge

JUDGE_TEXT = """i keep on working every day and every night
the money comes and goes but i am doing fine

she told me that the city never sleeps at all
we used to play outside until the street lights came on

my mother said to never let them see you sweat
he was the one who taught me how to ride a bike

they came to see the show and stayed until the end
i wrote a letter to my brother far away
"""


@pytest.fixture(scope="module")
def judge_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("judge")
    (folder / "corpus").mkdir()
    (folder / "corpus" / "text.txt").write_text(JUDGE_TEXT * 3, encoding="utf-8")
    (folder / "human.txt").write_text("my flow is cold\nso i wear my gold\n\nthey said i was late\nnow i set the date\n",
                                      encoding="utf-8")
    return folder


def test_rhymes_uses_the_pronouncing_dictionary():
    assert evaluate.rhymes("make", "take") is True
    assert evaluate.rhymes("make", "make") is False  # the same word is no rhyme
    assert evaluate.rhymes("neighborhood", "neighbourhood") is False  # nor another spelling of it
    assert evaluate.rhymes("neighborhood", "good") is True  # secondary stress rhymes too
    assert evaluate.rhymes("make", "river") is False
    assert evaluate.rhymes("make", "xqzt") is None


def test_the_judge_sees_through_shuffled_words():
    trained = judge.Judge.train(JUDGE_TEXT.splitlines() * 3, min_count=1)
    fluent = trained.slor("i keep on working every day")
    salad = trained.slor("day working on every keep i")
    assert fluent > 0 > salad
    assert trained.slor("!!!") is None


def test_judge_halves_share_no_stanza():
    text = "\n\n".join(f"stanza {i} starts\nstanza {i} ends" for i in range(40))
    a, b = judge.split([text])
    assert a and b and not set(a) & set(b) and sorted(a + b) == sorted(l for l in text.splitlines() if l)
    assert {line.split()[1] for line in a}.isdisjoint(line.split()[1] for line in b)  # stanzas stay whole


def test_metrics_on_known_lines():
    pairs = [("I came to the game with a plan", "now every move I make is a part of the plan"),
             ("my dream is alive", "they see me and thrive"),
             ("I grew up in the neighborhood", "my name rings out in the neighbourhood"),
             ("I hold my own", "thou art my throne")]
    assert evaluate.echo_rate(pairs) == 0.5  # "plan" again, "neighbourhood" for "neighborhood"
    assert evaluate.archaic_rate([p[1] for p in pairs]) == 0.25 and evaluate.archaic_rate(["I'd go"]) == 0
    assert evaluate.rhyme_rate(pairs) == pytest.approx(2 / 4)  # alive/thrive, own/throne
    assert evaluate.rhyme_depth_2plus([("it's in my nation", "the station")]) == 1.0  # AY-EY-AH vs AH-EY-AH: 2
    assert evaluate.rhyme_depth_2plus([("my hand", "his land")]) == 0.0
    assert evaluate.distinct_2(["a b a b"]) == pytest.approx(2 / 3)
    copied = evaluate.runs(["one two three four five six seven eight nine ten"])
    assert evaluate.novelty(["zero one two three four five six seven eight", "all new words here"], copied) == 0.5


def test_eval_on_the_tiny_model(tiny_bundle, tiny_corpus, judge_files, tmp_path):
    args = ["eval", "--model", str(tiny_bundle), "--corpus", str(tiny_corpus), "--judge-corpus",
            str(judge_files / "corpus"), "--human", str(judge_files / "human.txt"), "--cache", str(tmp_path)]
    result = CliRunner().invoke(cli.main, args + ["--n", "2", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["punchlines"] == len(evaluate.SETUPS) * len(evaluate.SEEDS) * 2 and len(evaluate.SETUPS) >= 32
    for key in evaluate.FRACTIONS + ("slor_share_positive_shuffled", "slor_share_positive_human"):
        assert 0.0 <= report[key] <= 1.0, key
    for key in ("slor_mean", "slor_mean_human", "distinct_2", "mean_words", "echo_rate", "archaic_rate",
                "rhyme_depth_2plus", "novelty_judge_corpus", "human_nll"):
        assert key in report
    assert list(tmp_path.glob("judge-*.pickle")), "the judge was not cached"
    table = CliRunner().invoke(cli.main, args + ["--n", "1"])
    assert table.exit_code == 0 and "slor_share_positive" in table.output


def test_compare_shows_the_distance_to_a_reference_model(tiny_bundle, tiny_corpus, judge_files, tmp_path):
    args = ["eval", "--model", str(tiny_bundle), "--corpus", str(tiny_corpus), "--judge-corpus",
            str(judge_files / "corpus"), "--human", str(judge_files / "human.txt"), "--cache", str(tmp_path),
            "--n", "1", "--compare", str(tiny_bundle)]
    result = CliRunner().invoke(cli.main, args + ["--json"])
    assert result.exit_code == 0, result.output
    compared = json.loads(result.output)["compared_with"]
    assert set(compared["differences"]) == set(evaluate.FRACTIONS)
    assert all(d == 0 for d in compared["differences"].values()) and compared["within_tolerance"] is True
    table = CliRunner().invoke(cli.main, args)
    assert table.exit_code == 0 and f"within {evaluate.QUANTIZED_TOLERANCE}: PASS" in table.output


def test_human_nll_is_the_mean_surprise_of_each_punchline_word(tiny_bundle):
    """The batched figure equals reading each couplet on its own and summing the log-probabilities of the
    punchline's words (last to first) and its closing line break."""
    import numpy as np
    from punchline_serve import loader
    from punchline_serve.text import words

    model = loader.load(str(tiny_bundle), 1).model
    pairs = [("my flow is cold", "so i wear my gold"), ("they said i was late", "now i set the date on time")]
    total, count = 0.0, 0
    for setup, line in pairs:
        head = [model.newline] + model.encode(words(setup)[::-1]) + [model.newline]
        tail = model.encode(words(line)[::-1]) + [model.newline]
        logits, carry = model.read(head)
        for token in tail:
            logprobs = logits[0].astype(np.float64) - np.log(np.exp(logits[0].astype(np.float64)).sum())
            total -= logprobs[token]
            count += 1
            logits, carry = model.step(np.array([token]), carry)
    assert evaluate.human_nll(model, pairs) == pytest.approx(total / count, rel=1e-4)
    assert evaluate.human_nll(model, pairs[:1]) != pytest.approx(evaluate.human_nll(model, pairs[1:]))
