"""Shared fixtures: a tiny real model, a real bucket emulator, the function in-process."""

import os
import shutil
import uuid
from pathlib import Path

import pytest

from punchline import processes

REPO = processes.REPO
TINY_CORPUS = """[Chorus]
i keep my circle small and my vision wide
they counted me out so i counted my wins

my flow is like the river it just finds a way
you were talking about tomorrow i was working on today

the city never sleeps and neither does my pen
every time i hit the bottom i just rise up again

i came in with a whisper and i'm leaving with a roar
every time they close a window i just open up a door

they told me i was dreaming when i said i'd make it big
now i'm working on the future while they're looking at the gig
"""
TINY = {"embedding": 8, "units": 16, "layers": 2, "epochs": 1, "batch_size": 16, "learning_rate": 3e-3,
        "max_words": 200, "min_count": 1}


@pytest.fixture(autouse=True)
def _restore_environ():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture(scope="session")
def tiny_corpus(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "lines.txt"
    path.write_text(TINY_CORPUS, encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def trained(tiny_corpus):
    """A tiny Keras model trained for one epoch, with what export needs."""
    from punchline import corpus, train

    return train.fit(corpus.load_pairs(tiny_corpus), seed=1, **TINY)


@pytest.fixture(scope="session")
def tiny_bundle(trained, tmp_path_factory) -> Path:
    """A real bundle folder (manifest + LiteRT model) written by the training code."""
    from punchline import train

    out = tmp_path_factory.mktemp("bundle") / "tiny"
    train.write_bundle(out, trained, name="tiny-test", quantization="none", training={})
    return out


@pytest.fixture
def bundle_copy(tiny_bundle, tmp_path) -> Path:
    """A copy of the tiny bundle a test may damage."""
    return Path(shutil.copytree(tiny_bundle, tmp_path / "bundle"))


@pytest.fixture(scope="session")
def emulator():
    """fake-gcs-server on a free loopback port for the whole session."""
    service = processes.start_emulator()
    yield service
    service.stop()


@pytest.fixture
def emulator_env(emulator, monkeypatch):
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", emulator.url)
    return emulator


@pytest.fixture
def bucket_uri(emulator_env, tiny_bundle) -> str:
    """The tiny bundle uploaded to a fresh prefix of the emulated bucket."""
    from punchline import upload

    uri = f"gs://punchline-test/{uuid.uuid4().hex[:10]}"
    upload.upload(tiny_bundle, uri, create_bucket=True)
    return uri


@pytest.fixture
def fresh_instance():
    """Forget any loaded model, as a new Cloud Functions instance would."""
    from punchline_serve import cache, loader, ratelimit

    loader.reset()
    ratelimit.reset()
    cache.reset()
    yield
    loader.reset()
    ratelimit.reset()
    cache.reset()


@pytest.fixture
def make_client(fresh_instance, monkeypatch):
    """make_client(MODEL_URI=..., ...) -> a test client of the real function app."""
    import functions_framework

    def make(**env):
        for key, value in env.items():
            monkeypatch.setenv(key, str(value))
        app = functions_framework.create_app(target="punchline", source=str(processes.FUNCTION_SOURCE))
        return app.test_client()

    return make


@pytest.fixture(scope="session")
def trained_ngrams(tiny_corpus):
    """A tiny model with hashed n-gram embeddings, the production architecture in miniature."""
    from punchline import corpus, train

    return train.fit(corpus.load_pairs(tiny_corpus), seed=1, ngram_buckets=97, ngram_orders=(2, 3), **TINY)
