"""The Keras word model and its export to a one-step LiteRT (TensorFlow Lite) model."""

import os
import tempfile
from dataclasses import asdict, dataclass

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

QUANTIZATIONS = ("none", "float16", "int8")

# `punchline train --preset`: architecture and training settings. "default" is the served default model,
# trained in under an hour on 2 CPU cores; "production" is the size the original deployment served (about
# 150 MB of float32 weights, most of them the hashed n-gram table), which `punchline bench` times.
PRESETS = {
    "default": {"embedding": 128, "units": 256, "layers": 2, "ngram_buckets": 2**17, "ngram_orders": (2, 3),
                "epochs": 6, "batch_size": 64, "learning_rate": 2e-3, "dropout": 0.25, "max_words": 8000,
                "validation": 0.03, "couplet_weight": 2},
    "production": {"embedding": 128, "units": 256, "layers": 2, "ngram_buckets": 2**18, "ngram_orders": (2, 3),
                   "epochs": 8, "batch_size": 64, "learning_rate": 2e-3, "dropout": 0.25, "max_words": 8000,
                   "validation": 0.03, "couplet_weight": 4},
}
ARCHITECTURE_KEYS = ("embedding", "units", "layers", "ngram_buckets", "ngram_orders", "dropout")  # the rest: training


def weight_format(quantization: str) -> str:
    """The name of a quantization's weight format: float32 for none."""
    return "float32" if quantization == "none" else quantization


def training_settings(preset: str, overrides: dict) -> dict:
    """A preset's settings with the given ones (those not None) put in their place."""
    return {**PRESETS[preset], **{k: v for k, v in overrides.items() if v is not None}}


@dataclass(frozen=True)
class Architecture:
    vocab_size: int
    embedding: int = 32
    units: int = 256
    layers: int = 2
    ngram_buckets: int = 0  # 0: no hashed n-gram embeddings
    ngram_orders: tuple[int, ...] = ()
    dropout: float = 0.0  # training only: serving runs the weights without it

    @property
    def state_size(self) -> int:
        return 2 * self.layers * self.units  # h and c for every layer

    def to_manifest(self) -> dict:
        return {"type": "word-lstm", **asdict(self), "ngram_orders": list(self.ngram_orders),
                "state_size": self.state_size}

    @property
    def context(self) -> int:
        return max(self.ngram_orders, default=1) - 1

    def weight_bytes(self) -> int:
        """float32 bytes of every weight (what the unquantized model file holds)."""
        e, u, v = self.embedding, self.units, self.vocab_size
        lstm = sum(4 * u * ((e if layer == 0 else u) + u + 1) for layer in range(self.layers))
        return 4 * (v * e + self.ngram_buckets * e + lstm + u * v + v)


def sequence_ngrams(ids, arch: Architecture, newline: int):
    """Hashed n-gram ids [len(ids), len(orders)] for a whole text, as serving computes them step by step."""
    import numpy as np

    from punchline_serve.model import ngram_ids

    padded = np.concatenate([np.full(arch.context, newline, dtype=np.int32), ids])
    windows = np.lib.stride_tricks.sliding_window_view(padded, arch.context + 1)
    return ngram_ids(windows[:, :-1], windows[:, -1], arch.ngram_orders, arch.ngram_buckets)


def build(arch: Architecture, zeros: bool = False):
    """The training model: ids [batch, time] -> logits [batch, time, vocab]."""
    import keras

    init = {"embeddings_initializer": "zeros"} if zeros else {}
    rnn_init = {"kernel_initializer": "zeros", "recurrent_initializer": "zeros"} if zeros else {}
    inputs = keras.Input((None,), dtype="int32", name="ids")
    x = keras.layers.Embedding(arch.vocab_size, arch.embedding, name="embedding", **init)(inputs)
    model_inputs = [inputs]
    if arch.ngram_buckets:
        ngrams = keras.Input((None, len(arch.ngram_orders)), dtype="int32", name="ngrams")
        table = keras.layers.Embedding(arch.ngram_buckets, arch.embedding, name="ngram_embedding",
                                       **({"embeddings_initializer": "zeros"} if zeros else
                                          {"embeddings_initializer": keras.initializers.RandomNormal(0, 0.01)}))
        x = keras.layers.Add(name="word_and_ngrams")([x, keras.ops.sum(table(ngrams), axis=2)])
        model_inputs.append(ngrams)
    for layer in range(arch.layers):
        if arch.dropout:
            x = keras.layers.Dropout(arch.dropout, name=f"dropout_{layer}")(x)
        x = keras.layers.LSTM(arch.units, return_sequences=True, name=f"lstm_{layer}", **rnn_init)(x)
    if arch.dropout:
        x = keras.layers.Dropout(arch.dropout, name="dropout_out")(x)
    logits = keras.layers.Dense(arch.vocab_size, name="logits",
                                **({"kernel_initializer": "zeros"} if zeros else {}))(x)
    return keras.Model(model_inputs if arch.ngram_buckets else inputs, logits, name="word_lstm")


def _step_module(model, arch: Architecture):
    """A tf.Module whose `step` runs one word through the trained weights."""
    import numpy as np
    import tensorflow as tf

    emb = model.get_layer("embedding").get_weights()[0]
    table = model.get_layer("ngram_embedding").get_weights()[0] if arch.ngram_buckets else None
    cells = []
    for layer in range(arch.layers):
        kernel, recurrent, bias = model.get_layer(f"lstm_{layer}").get_weights()
        cells.append((np.concatenate([kernel, recurrent], axis=0), bias))
    dense_w, dense_b = model.get_layer("logits").get_weights()
    units = arch.units

    class Step(tf.Module):
        def __init__(self):
            super().__init__()
            self.emb = tf.constant(emb)
            self.cells = [(tf.constant(w), tf.constant(b)) for w, b in cells]
            self.dense = (tf.constant(dense_w), tf.constant(dense_b))
            self.table = tf.constant(table) if table is not None else None

        def _step(self, ids, state, ngrams=None):
            x = tf.gather(self.emb, ids)
            if ngrams is not None:
                x = x + tf.reduce_sum(tf.gather(self.table, ngrams), axis=1)
            new_state = []
            for layer, (w, b) in enumerate(self.cells):
                h = state[:, 2 * layer * units:(2 * layer + 1) * units]
                c = state[:, (2 * layer + 1) * units:(2 * layer + 2) * units]
                z = tf.matmul(tf.concat([x, h], axis=1), w) + b
                i, f, g, o = tf.split(z, 4, axis=1)  # Keras' gate order
                c = tf.sigmoid(f) * c + tf.sigmoid(i) * tf.tanh(g)
                h = tf.sigmoid(o) * tf.tanh(c)
                new_state += [h, c]
                x = h
            return {"logits": tf.matmul(x, self.dense[0]) + self.dense[1], "state": tf.concat(new_state, axis=1)}

    ids_spec = tf.TensorSpec([None], tf.int32, name="ids")
    state_spec = tf.TensorSpec([None, arch.state_size], tf.float32, name="state")
    if arch.ngram_buckets:
        ngram_spec = tf.TensorSpec([None, len(arch.ngram_orders)], tf.int32, name="ngrams")

        def step_with_ngrams(self, ids, ngrams, state):
            return self._step(ids, state, ngrams)

        Step.step = tf.function(step_with_ngrams, input_signature=[ids_spec, ngram_spec, state_spec])
    else:
        def step(self, ids, state):
            return self._step(ids, state)

        Step.step = tf.function(step, input_signature=[ids_spec, state_spec])
    return Step()


def export_tflite(model, arch: Architecture, quantization: str = "none") -> bytes:
    """Convert the trained Keras model into a LiteRT flatbuffer with a `step` signature."""
    import tensorflow as tf

    if quantization not in QUANTIZATIONS:
        raise ValueError(f"quantization {quantization!r} is not one of {', '.join(QUANTIZATIONS)}")
    module = _step_module(model, arch)
    with tempfile.TemporaryDirectory(prefix="punchline-export-") as tmp:
        tf.saved_model.save(module, tmp, signatures={"step": module.step.get_concrete_function()})
        converter = tf.lite.TFLiteConverter.from_saved_model(tmp, signature_keys=["step"])
        if quantization != "none":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        if quantization == "float16":
            converter.target_spec.supported_types = [tf.float16]
        return converter.convert()
