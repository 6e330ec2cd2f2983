"""The exported LiteRT step model computes what the trained Keras model computes."""

import threading

import numpy as np
import pytest

from punchline import modelling, train
from punchline_serve import decode, loader
from punchline_serve.text import LINE_BREAK


@pytest.fixture(scope="module")
def ngram_bundle(trained_ngrams, tmp_path_factory):
    out = tmp_path_factory.mktemp("ngram") / "bundle"
    train.write_bundle(out, trained_ngrams, name="tiny-ngrams", quantization="none", training={})
    return out


@pytest.mark.parametrize("which", ["plain", "ngrams"])
def test_step_model_matches_keras_on_a_sequence(which, trained, trained_ngrams, tiny_bundle, ngram_bundle):
    fitted = trained if which == "plain" else trained_ngrams
    model = loader.load(str(tiny_bundle if which == "plain" else ngram_bundle), 1).model
    assert model.manifest.vocabulary == fitted.vocab
    # serving starts a line after a line break, and reads words right to left; so does this
    ids = np.array(model.encode([LINE_BREAK] + "like is flow my".split()), dtype=np.int32)
    inputs = ids[None, :]
    if fitted.arch.ngram_buckets:
        inputs = [inputs, modelling.sequence_ngrams(ids, fitted.arch, model.newline)[None]]
    expected = fitted.model.predict(inputs, verbose=0)[0]
    carry = model.start(1)
    for t in range(len(ids)):
        logits, carry = model.step(ids[t:t + 1], carry)
        np.testing.assert_allclose(logits[0], expected[t], rtol=1e-4, atol=1e-4)


def test_words_are_read_right_to_left_in_training():
    vocab = train.vocabulary([("my flow is cold", "so i wear my gold")], max_words=50, min_count=1)
    (seq,) = train.sequences([("my flow is cold", "so i wear my gold")], vocab)
    assert [vocab[i] for i in seq] == ["\n", "cold", "is", "flow", "my", "\n", "gold", "my", "wear", "i", "so", "\n"]


def test_ngram_manifest_and_size_estimate(ngram_bundle, trained_ngrams):
    model = loader.load(str(ngram_bundle), 1).model
    manifest = model.manifest
    assert manifest.architecture["ngram_buckets"] == 97 and manifest.architecture["ngram_orders"] == [2, 3]
    assert manifest.architecture["type"] == "word-lstm" and model.context == 2
    size = manifest.files["model.tflite"]["size"]
    arch = trained_ngrams.arch
    assert arch.weight_bytes() <= size <= arch.weight_bytes() * 1.2 + 20_000


def test_step_model_runs_a_batch(tiny_bundle):
    model = loader.load(str(tiny_bundle), 1).model
    logits, carry = model.step(np.array([0, 1, 2]), model.start(3))
    assert logits.shape == (3, len(model.vocabulary))
    assert carry.state.shape == (3, model.state_size)


def test_concurrent_requests_get_the_lines_they_would_alone_and_share_passes(ngram_bundle):
    loaded = loader.load(str(ngram_bundle), 1)
    asks = [("my flow is cold", 1 + i % 3, 0.5 + 0.2 * i, 40 + 5 * i, 40 + i) for i in range(6)]
    alone = [loaded.punchlines(*ask) for ask in asks]
    rows_alone, passes_alone = loaded.model.rows, loaded.model.passes
    together, barrier = {}, threading.Barrier(len(asks))

    def worker(i):
        barrier.wait()
        together[i] = loaded.punchlines(*asks[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(asks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [together[i] for i in range(len(asks))] == alone
    assert [len(lines) for lines, _ in alone] == [ask[1] for ask in asks]
    assert loaded.model.rows - rows_alone == rows_alone  # the same work ...
    assert loaded.model.passes - passes_alone < passes_alone  # ... in fewer, merged passes


def test_a_failing_pass_fails_its_request_and_the_next_request_works(tiny_bundle):
    loaded = loader.load(str(tiny_bundle), 1)
    runner = loaded.model._runner
    loaded.model._runner = lambda **inputs: (_ for _ in ()).throw(RuntimeError("interpreter exploded"))
    with pytest.raises(RuntimeError, match="exploded"):
        loaded.punchlines("yo", 2, 0.8, 40, 1)
    loaded.model._runner = runner
    assert len(loaded.punchlines("yo", 2, 0.8, 40, 1)[0]) == 2


def test_candidates_end_on_a_rhyme_and_respect_max_chars(ngram_bundle):
    loaded = loader.load(str(ngram_bundle), 1)
    candidates, rhymed = decode.propose(loaded.model, loaded.lexicon, "the city never sleeps so i find a way",
                                        12, 1.0, 30, seed=5)
    assert rhymed and len(candidates) == 12
    endings = set(loaded.lexicon.endings_for("way"))
    assert endings and all(c.tokens[-1] in endings for c in candidates)
    assert all(len(c.text) <= 30 for c in candidates)
    assert any(not c.ended for c in candidates) or all(len(c.tokens) >= decode.MIN_WORDS for c in candidates)


def test_training_takes_batches_of_any_width_in_any_order():
    # batches are grouped by length and shuffled: the first ones need not show every width to come
    pairs = [(" ".join(["word"] * (1 + i % 7)), " ".join(["line"] * (1 + i % 5))) for i in range(40)]
    fitted = train.fit(pairs, embedding=4, units=4, layers=1, epochs=2, batch_size=3, learning_rate=1e-2, seed=3,
                       max_words=10, min_count=1, validation=0.2)
    assert fitted.epochs_run == 2 and fitted.val_loss is not None
