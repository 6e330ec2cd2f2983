"""Train the character model on a corpus and write a servable bundle."""

import hashlib
from pathlib import Path

import numpy as np

from punchline import modelling


def vocabulary(text: str) -> list[str]:
    return sorted(set(text) | {"\n"})


def windows(ids: np.ndarray, seq_len: int, ngrams: np.ndarray | None = None):
    """Overlapping (inputs, next-character targets) windows, half a window apart."""
    seq_len = max(2, min(seq_len, len(ids) - 1))
    starts = np.arange(0, len(ids) - seq_len, max(1, seq_len // 2))
    x = np.stack([ids[s:s + seq_len] for s in starts])
    y = np.stack([ids[s + 1:s + seq_len + 1] for s in starts])
    if ngrams is not None:
        x = [x, np.stack([ngrams[s:s + seq_len] for s in starts])]
    return x, y


def fit(text: str, *, embedding: int, units: int, layers: int, epochs: int, seq_len: int, batch_size: int,
        learning_rate: float, seed: int, ngram_buckets: int = 0, ngram_orders: tuple[int, ...] = (),
        progress=None):
    """Train on text; return (keras model, architecture, vocabulary, final loss).

    progress(total_batches, loss) is called after every batch.
    """
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()
    vocab = vocabulary(text)
    index = {ch: i for i, ch in enumerate(vocab)}
    arch = modelling.Architecture(vocab_size=len(vocab), embedding=embedding, units=units, layers=layers,
                                  ngram_buckets=ngram_buckets if ngram_orders else 0,
                                  ngram_orders=tuple(ngram_orders) if ngram_buckets else ())
    ids = np.array([index[c] for c in text], dtype=np.int32)
    ngrams = modelling.sequence_ngrams(ids, arch, index["\n"]) if arch.ngram_buckets else None
    x, y = windows(ids, seq_len, ngrams)
    model = modelling.build(arch)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=1.0),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    total = int(np.ceil(len(y) / batch_size)) * epochs

    class Progress(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if progress:
                progress(total, float((logs or {}).get("loss", float("nan"))))

    history = model.fit(x, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0,
                        callbacks=[Progress()])
    return model, arch, vocab, float(history.history["loss"][-1])


def write_bundle(out: Path, model, arch, vocab, *, name: str, quantization: str, training: dict,
                 corpus_text: str | None = None) -> Path:
    """Export to LiteRT and write the bundle folder (manifest last); with corpus_text, a rhyme lexicon too."""
    from punchline_serve import bundle

    from punchline import lexicon

    tflite = modelling.export_tflite(model, arch, quantization)
    version = hashlib.sha256(tflite).hexdigest()[:12]
    files = {"model.tflite": tflite}
    if corpus_text is not None:
        files[bundle.LEXICON] = lexicon.build(corpus_text)
    return bundle.write(out, name=name, version=version, architecture={**arch.to_manifest(), "quantization": quantization},
                        vocabulary=vocab, files=files, serving_file="model.tflite", extra={"training": training})
