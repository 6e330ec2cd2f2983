"""Train the word model on pairs of lines and write a servable bundle.

Each pair (a setup and the line after it) becomes one training sequence read right to left:
line break, the setup's words last to first, line break, the next line's words last to first, line break.
So the model learns to write a punchline from its last word back to its first, after reading the setup,
which lets decoding pick the rhyming ending first (see functions/punchline_serve/decode.py).
"""

import collections
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from punchline import modelling
from punchline_serve.text import LINE_BREAK, UNKNOWN, words


def vocabulary(pairs: list[tuple[str, str]], max_words: int, min_count: int = 2) -> list[str]:
    """The line break, the unknown token, then the corpus's words by frequency (ties alphabetical)."""
    counts = collections.Counter(w for pair in pairs for line in pair for w in words(line))
    ranked = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return [LINE_BREAK, UNKNOWN] + ranked[:max(0, max_words - 2)]


def sequences(pairs: list[tuple[str, str]], vocab: list[str]) -> list[np.ndarray]:
    """Each pair as word ids, right to left (see the module docstring)."""
    index = {w: i for i, w in enumerate(vocab)}
    newline, unknown = index[LINE_BREAK], index[UNKNOWN]
    out = []
    for setup, line in pairs:
        ids = [newline]
        for text in (setup, line):
            ids += [index.get(w, unknown) for w in reversed(words(text))] + [newline]
        out.append(np.array(ids, dtype=np.int32))
    return out


def pad(seqs: list[np.ndarray], arch: modelling.Architecture, newline: int):
    """Padded (inputs, targets, weights): padding weighs nothing; with n-grams, inputs is [ids, ngrams]."""
    width = max(len(s) for s in seqs) - 1
    x = np.full((len(seqs), width), newline, dtype=np.int32)
    y = np.full((len(seqs), width), newline, dtype=np.int32)
    w = np.zeros((len(seqs), width), dtype=np.float32)
    grams = np.zeros((len(seqs), width, len(arch.ngram_orders)), dtype=np.int32) if arch.ngram_buckets else None
    for row, seq in enumerate(seqs):
        x[row, :len(seq) - 1], y[row, :len(seq) - 1], w[row, :len(seq) - 1] = seq[:-1], seq[1:], 1.0
        if grams is not None:
            grams[row, :len(seq) - 1] = modelling.sequence_ngrams(seq[:-1], arch, newline)
    return ((x, grams) if grams is not None else x), y, w


def batches(seqs: list[np.ndarray], arch: modelling.Architecture, newline: int, batch_size: int, seed: int):
    """A tf.data dataset of padded batches of sequences of similar length (little padding to compute), the
    batches in a new random order every epoch. Its signature leaves the width open (None): batches differ."""
    import tensorflow as tf

    order = sorted(range(len(seqs)), key=lambda i: len(seqs[i]))
    groups = [[seqs[i] for i in order[k:k + batch_size]] for k in range(0, len(order), batch_size)]
    padded = [pad(group, arch, newline) for group in groups]
    rng = np.random.default_rng(seed)

    def generate():
        for index in rng.permutation(len(padded)):
            yield padded[index]

    ids = tf.TensorSpec((None, None), tf.int32)
    inputs = (ids, tf.TensorSpec((None, None, len(arch.ngram_orders)), tf.int32)) if arch.ngram_buckets else ids
    signature = (inputs, tf.TensorSpec((None, None), tf.int32), tf.TensorSpec((None, None), tf.float32))
    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    return dataset.apply(tf.data.experimental.assert_cardinality(len(padded))), len(padded)


@dataclass(frozen=True)
class Trained:
    model: object  # the Keras model
    arch: modelling.Architecture
    vocab: list[str]
    loss: float  # on the training pairs, last epoch
    val_loss: float | None  # on the held-out pairs, best epoch (the weights kept)
    epochs_run: int


def fit(pairs: list[tuple[str, str]], *, embedding: int, units: int, layers: int, epochs: int, batch_size: int,
        learning_rate: float, seed: int, max_words: int = 8000, min_count: int = 2, dropout: float = 0.0,
        ngram_buckets: int = 0, ngram_orders: tuple[int, ...] = (), validation: float = 0.0,
        couplets: frozenset = frozenset(), couplet_weight: int = 1, progress=None) -> Trained:
    """Train on pairs of lines. With validation > 0, that share of the pairs is held out and the weights of
    the epoch with the lowest held-out loss are kept (training stops after two epochs without progress).
    The training pairs found in `couplets` (the setup/punchline couplets, the register the model should
    write in) count couplet_weight times each.

    progress(total_batches, loss) is called after every batch.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    order = np.random.default_rng(seed).permutation(len(pairs))
    held = int(len(pairs) * validation)
    train_pairs, val_pairs = [pairs[i] for i in order[held:]], [pairs[i] for i in order[:held]]
    train_pairs += [pair for pair in train_pairs if pair in couplets] * (couplet_weight - 1)
    vocab = vocabulary(train_pairs, max_words, min_count)
    arch = modelling.Architecture(vocab_size=len(vocab), embedding=embedding, units=units, layers=layers,
                                  ngram_buckets=ngram_buckets if ngram_orders else 0,
                                  ngram_orders=tuple(ngram_orders) if ngram_buckets else (), dropout=dropout)
    data, steps = batches(sequences(train_pairs, vocab), arch, 0, batch_size, seed)
    model = modelling.build(arch)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), weighted_metrics=[])
    total = steps * epochs

    class Progress(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if progress:
                progress(total, float((logs or {}).get("loss", float("nan"))))

    callbacks = [Progress()]
    fit_args = {}
    if val_pairs:
        fit_args["validation_data"] = batches(sequences(val_pairs, vocab), arch, 0, batch_size, seed)[0]
        callbacks.append(keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True))
    history = model.fit(data, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks, **fit_args)
    val = history.history.get("val_loss")
    return Trained(model, arch, vocab, float(history.history["loss"][-1]), min(val) if val else None,
                   len(history.history["loss"]))


def write_bundle(out: Path, trained: Trained, *, name: str, quantization: str, training: dict,
                 lexicon: bool = True) -> Path:
    """Export to LiteRT and write the bundle folder (manifest last), with the rhyme lexicon unless told not."""
    from punchline_serve import bundle

    from punchline import lexicon as lexicon_module

    tflite = modelling.export_tflite(trained.model, trained.arch, quantization)
    version = hashlib.sha256(tflite).hexdigest()[:12]
    files = {"model.tflite": tflite}
    if lexicon:
        files[bundle.LEXICON] = lexicon_module.build(trained.vocab)
    return bundle.write(out, name=name, version=version,
                        architecture={**trained.arch.to_manifest(), "quantization": quantization},
                        vocabulary=trained.vocab, files=files, serving_file="model.tflite",
                        extra={"training": training})
