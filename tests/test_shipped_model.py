"""The model the repo ships: what `make run` serves and the README tells deployers to upload."""

import json

from punchline import processes
from punchline_serve import bundle, loader

SHIPPED = processes.REPO / "models" / "default"


def test_the_shipped_bundle_is_whole_and_every_file_matches_its_manifest():
    manifest = json.loads((SHIPPED / "manifest.json").read_text())
    assert set(manifest["files"]) == {p.name for p in SHIPPED.iterdir() if p.name != "manifest.json"}
    fetched = bundle.fetch(str(SHIPPED), timeout_s=10)  # checks the size and SHA-256 of every file
    assert fetched.manifest.architecture["quantization"] == "float16"  # eval --compare: keeps quality; int8 did not
    assert fetched.bytes_fetched <= 45e6


def test_the_shipped_model_answers_with_rhymes():
    loaded = loader.load(str(SHIPPED), 1)
    lines, rhymed = loaded.punchlines("they told me I was dreaming when I said I'd make it big", 3, 0.8, 80, 1)
    assert rhymed and len(lines) == 3 and len(set(lines)) == 3
    assert all(len(line.split()) >= 4 for line in lines)


def test_even_the_shortest_max_chars_is_kept_with_a_real_vocabulary():
    from punchline_serve import decode

    loaded = loader.load(str(SHIPPED), 1)
    for setup in ("they never gave me credit for my education", "unbelievable", ""):  # long rhymes, none, no words
        for seed in range(3):
            candidates, _ = decode.propose(loaded.model, loaded.lexicon, setup, 32, 1.5, 8, seed)
            assert all(0 < len(c.text) <= 8 for c in candidates), (setup, [c.text for c in candidates])
            lines, _ = loaded.punchlines(setup, 3, 1.5, 8, seed)
            assert len(lines) == 3 and all(0 < len(line) <= 8 for line in lines), (setup, lines)
