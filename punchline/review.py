"""A blind review: served punchlines mixed with human-written ones and with shuffled-word controls, in an
order the reader cannot decode, rated 1-5 for fluency and punch; the key stays apart and scores the ratings.

`punchline review sheet` writes sheet.md (what the reader sees) and key.json (what each line is);
the reader's ratings go in ratings.json ({"1": {"fluency": 4, "punch": 3}, ...}); `punchline review score`
reads the three and prints the means per kind of line.
"""

import json
import random
import statistics
from pathlib import Path

from punchline import evaluate
from punchline_serve.params import DEFAULT_TEMPERATURE

# Setup lines for the review, written for the project; none is in the corpus nor in eval's setups.
SETUPS = [
    "I started with a notebook and a borrowed pair of shoes",
    "they never gave me credit so I had to make my own",
    "my alarm clock is the sound of bills under the door",
    "the teacher said sit down but I was born to take a stand",
    "I keep my family close because the world is kinda cold",
    "they copy every move but they can never find the groove",
    "the bus was running late so I just ran a little faster",
    "my voice was just a whisper in a room full of noise",
    "I turned the little corner store into a meeting place",
    "the rain keeps falling down but I got somewhere to be",
    "they tried to write me off before I even had a chance",
    "the money talks a lot but it never says my name",
]
SEEDS = (1, 2, 3)
HUMAN_LINES = 12
SHUFFLED_LINES = 6
ORDER_SEED = 2026


def make(loaded, human_pairs: list[tuple[str, str]], temperature: float = DEFAULT_TEMPERATURE, max_chars: int = 80,
         order_seed: int = ORDER_SEED) -> tuple[list[dict], list[dict]]:
    """(sheet rows, key rows): one served punchline per setup and seed (the first of each answer), human
    punchlines with their own setups, and shuffled human lines, all in one shuffled order."""
    rng = random.Random(order_seed)
    items = []
    for setup in SETUPS:
        for seed in SEEDS:
            line = loaded.punchlines(setup, 1, temperature, max_chars, seed)[0][0]
            items.append({"kind": "served", "setup": setup, "line": line, "seed": seed})
    human = rng.sample(human_pairs, HUMAN_LINES + SHUFFLED_LINES)
    items += [{"kind": "human", "setup": s, "line": l} for s, l in human[:HUMAN_LINES]]
    controls = human[HUMAN_LINES:]
    items += [{"kind": "shuffled", "setup": s, "line": l}
              for (s, _), l in zip(controls, evaluate.shuffled([l for _, l in controls]))]
    rng.shuffle(items)
    sheet = [{"id": i + 1, "setup": item["setup"], "line": item["line"]} for i, item in enumerate(items)]
    key = [{"id": i + 1, **item} for i, item in enumerate(items)]
    return sheet, key


def sheet_markdown(sheet: list[dict]) -> str:
    lines = ["# Rate each punchline", "",
             "Each item is a setup line and the punchline that answers it. Rate the punchline from 1 to 5 for",
             "**fluency** (does it read as a natural, grammatical English line?) and **punch** (does it land as a",
             "clever, meaningful answer to the setup, the way a good rap punchline would?).", ""]
    for row in sheet:
        lines += [f"{row['id']}. setup: {row['setup']}", f"   punchline: {row['line']}", ""]
    return "\n".join(lines)


def score(key: list[dict], ratings: dict) -> dict:
    """Mean fluency and punch per kind of line; every id in the key must be rated 1-5 on both."""
    by_kind: dict = {}
    for row in key:
        rated = ratings.get(str(row["id"]))
        if not rated:
            raise ValueError(f"item {row['id']} has no rating")
        for field in ("fluency", "punch"):
            value = rated.get(field)
            if not isinstance(value, (int, float)) or not 1 <= value <= 5:
                raise ValueError(f"item {row['id']}: {field} must be a number from 1 to 5, got {value!r}")
            by_kind.setdefault(row["kind"], {}).setdefault(field, []).append(value)
    return {kind: {field: round(statistics.mean(values), 2) for field, values in fields.items()} | {
        "lines": len(fields["fluency"])} for kind, fields in sorted(by_kind.items())}


def write(folder: Path, sheet: list[dict], key: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "sheet.md").write_text(sheet_markdown(sheet) + "\n", encoding="utf-8")
    (folder / "key.json").write_text(json.dumps(key, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
