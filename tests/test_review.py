"""The blind review: a sheet that hides which line is which, and a key that scores the ratings."""

import json

import pytest
from click.testing import CliRunner

from punchline import cli, review
from punchline_serve import loader

HUMAN = [(f"setup number {i} ends on a word", f"a written punchline number {i} with its own words") for i in range(30)]


def test_sheet_mixes_served_human_and_shuffled_lines_and_hides_the_kinds(tiny_bundle):
    sheet, key = review.make(loader.load(str(tiny_bundle), 1), HUMAN)
    kinds = [row["kind"] for row in key]
    assert kinds.count("served") == len(review.SETUPS) * len(review.SEEDS)
    assert kinds.count("human") == review.HUMAN_LINES and kinds.count("shuffled") == review.SHUFFLED_LINES
    assert [row["id"] for row in sheet] == list(range(1, len(sheet) + 1))
    assert all(set(row) == {"id", "setup", "line"} for row in sheet)
    assert kinds[:10] != sorted(kinds[:10], key=["served", "human", "shuffled"].index)  # mixed, not grouped
    shuffled = [row for row in key if row["kind"] == "shuffled"]
    assert all(row["line"] not in {l for _, l in HUMAN} for row in shuffled)  # the words of one, reordered
    text = review.sheet_markdown(sheet)
    assert "served" not in text and "shuffled" not in text and "human" not in text


def test_ratings_are_scored_per_kind_and_must_be_complete(tmp_path):
    key = [{"id": 1, "kind": "served"}, {"id": 2, "kind": "human"}, {"id": 3, "kind": "served"}]
    ratings = {"1": {"fluency": 4, "punch": 2}, "2": {"fluency": 5, "punch": 4}, "3": {"fluency": 3, "punch": 3}}
    assert review.score(key, ratings) == {"human": {"fluency": 5, "punch": 4, "lines": 1},
                                          "served": {"fluency": 3.5, "punch": 2.5, "lines": 2}}
    with pytest.raises(ValueError, match="item 3 has no rating"):
        review.score(key, {k: v for k, v in ratings.items() if k != "3"})
    with pytest.raises(ValueError, match="punch must be a number from 1 to 5"):
        review.score(key, {**ratings, "3": {"fluency": 3, "punch": 9}})
    (tmp_path / "key.json").write_text(json.dumps(key))
    (tmp_path / "ratings.json").write_text(json.dumps(ratings))
    result = CliRunner().invoke(cli.main, ["review", "score", str(tmp_path), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["served"]["punch"] == 2.5


def test_the_committed_review_scores_as_reported():
    from punchline.processes import REPO

    folder = REPO / "reports" / "review"
    scores = review.score(json.loads((folder / "key.json").read_text()), json.loads((folder / "ratings.json").read_text()))
    assert json.loads((folder / "scores.json").read_text()) == scores
