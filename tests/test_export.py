"""The exported LiteRT step model computes what the trained Keras model computes."""

import numpy as np

from punchline_serve import bundle
from punchline_serve.model import CharModel


def test_step_model_matches_keras_on_a_sequence(trained, tiny_bundle):
    keras_model, arch, vocab = trained
    fetched = bundle.fetch(str(tiny_bundle), timeout_s=5)
    model = CharModel(fetched.manifest, fetched.data, threads=1)
    ids = np.array([[vocab.index(c) for c in "my flow is like"]], dtype=np.int32)
    expected = keras_model.predict(ids, verbose=0)[0]
    state = model.initial_state(1)
    for t in range(ids.shape[1]):
        logits, state = model.step(ids[:, t], state)
        np.testing.assert_allclose(logits[0], expected[t], rtol=1e-4, atol=1e-4)


def test_step_model_runs_a_batch(tiny_bundle):
    fetched = bundle.fetch(str(tiny_bundle), timeout_s=5)
    model = CharModel(fetched.manifest, fetched.data, threads=1)
    logits, state = model.step(np.array([0, 1, 2]), model.initial_state(3))
    assert logits.shape == (3, len(fetched.manifest.vocabulary))
    assert state.shape == (3, model.state_size)
