"""The exported LiteRT step model computes what the trained Keras model computes."""

import threading

import numpy as np
import pytest

from punchline import modelling, train
from punchline_serve import bundle
from punchline_serve.generate import Generator
from punchline_serve.model import CharModel


def load(folder):
    fetched = bundle.fetch(str(folder), timeout_s=5)
    return CharModel(fetched.manifest, fetched.data, threads=1), fetched.manifest


@pytest.fixture(scope="module")
def ngram_bundle(trained_ngrams, tmp_path_factory):
    model, arch, vocab = trained_ngrams
    out = tmp_path_factory.mktemp("ngram") / "bundle"
    train.write_bundle(out, model, arch, vocab, name="tiny-ngrams", quantization="none", training={})
    return out


@pytest.mark.parametrize("which", ["plain", "ngrams"])
def test_step_model_matches_keras_on_a_sequence(which, trained, trained_ngrams, tiny_bundle, ngram_bundle):
    keras_model, arch, vocab = trained if which == "plain" else trained_ngrams
    model, manifest = load(tiny_bundle if which == "plain" else ngram_bundle)
    assert manifest.vocabulary == vocab
    text = "\nmy flow is like"  # serving starts a line after a line break; so does this
    ids = np.array([vocab.index(c) for c in text], dtype=np.int32)
    inputs = ids[None, :]
    if arch.ngram_buckets:
        inputs = [inputs, modelling.sequence_ngrams(ids, arch, vocab.index("\n"))[None]]
    expected = keras_model.predict(inputs, verbose=0)[0]
    carry = model.start(1)
    for t in range(len(ids)):
        logits, carry = model.step(ids[t:t + 1], carry)
        np.testing.assert_allclose(logits[0], expected[t], rtol=1e-4, atol=1e-4)


def test_ngram_manifest_and_size_estimate(ngram_bundle, trained_ngrams):
    _, arch, _ = trained_ngrams
    model, manifest = load(ngram_bundle)
    assert manifest.architecture["ngram_buckets"] == 97 and manifest.architecture["ngram_orders"] == [2, 3]
    assert model.context == 2
    size = manifest.files["model.tflite"]["size"]
    assert arch.weight_bytes() <= size <= arch.weight_bytes() * 1.2 + 20_000


def test_step_model_runs_a_batch(tiny_bundle):
    model, manifest = load(tiny_bundle)
    logits, carry = model.step(np.array([0, 1, 2]), model.start(3))
    assert logits.shape == (3, len(manifest.vocabulary))
    assert carry.state.shape == (3, model.state_size)


def test_concurrent_requests_share_passes_and_get_the_lines_they_would_alone(ngram_bundle):
    model, _ = load(ngram_bundle)
    generator = Generator(model)
    asks = [("my flow", 1 + i % 3, 0.5 + 0.2 * i, 20 + 5 * i, 40 + i) for i in range(6)]
    alone = [generator.punchlines(*ask) for ask in asks]
    passes_alone = model.passes
    together, barrier = {}, threading.Barrier(len(asks))

    def worker(i):
        barrier.wait()
        together[i] = generator.punchlines(*asks[i])

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(asks))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [together[i] for i in range(len(asks))] == alone
    assert [len(lines) for lines in alone] == [ask[1] for ask in asks]
    assert model.passes - passes_alone < passes_alone * 0.6, "concurrent requests were not merged into shared passes"


def test_a_failing_pass_fails_its_requests_and_the_next_request_works(tiny_bundle):
    model, _ = load(tiny_bundle)
    generator = Generator(model)
    runner = model._runner
    model._runner = lambda **inputs: (_ for _ in ()).throw(RuntimeError("interpreter exploded"))
    with pytest.raises(RuntimeError, match="exploded"):
        generator.punchlines("yo", 2, 0.8, 20, 1)
    model._runner = runner
    assert len(generator.punchlines("yo", 2, 0.8, 20, 1)) == 2


def test_states_kept_at_word_starts_while_sampling_equal_reading_the_prefix_again(ngram_bundle):
    """The rhyme step takes a candidate's state before its last word from what sampling kept; it must be
    the state that reading the setup, the prefix and a space through the model gives."""
    from punchline_serve import rhyme
    from punchline_serve.generate import Job

    model, _ = load(ngram_bundle)
    job = Job(model, "my flow is cold", 12, 1.0, 60, seed=3, marks=True)
    Generator(model).run(job)
    checked = 0
    for row, chars in enumerate(job.lines):
        for length, _, _ in job.marks[row]:
            prefix = " ".join("".join(chars[:length]).split())
            kept_logits, kept = job.state_after(row, prefix)
            logits, carry = rhyme._states_after(model, job.setup_state, [prefix])
            np.testing.assert_allclose(kept.state, carry.state, atol=1e-4)
            np.testing.assert_array_equal(kept.history, carry.history)
            np.testing.assert_allclose(kept_logits, logits[0], atol=1e-3)
            checked += 1
    assert checked >= 4, "sampling kept too few word starts to check"
    assert job.state_after(0, "words this row never wrote") is None
    # what the rhyme step asks for: kept states where there are some, the others read through again
    row, (length, _, _) = next((r, marks[-1]) for r, marks in enumerate(job.marks) if marks)
    written = " ".join("".join(job.lines[row][:length]).split())
    logits, carry = rhyme._prefix_states(model, job, [(row, "words this row never wrote"), (row, written)])
    expected = rhyme._states_after(model, job.setup_state, ["words this row never wrote", written])
    np.testing.assert_allclose(carry.state, expected[1].state, atol=1e-4)
    np.testing.assert_allclose(logits, expected[0], atol=1e-3)
    assert Job(model, "my flow", 1, 1.0, 20, seed=3).state_after(0, "") is None  # no marks kept
