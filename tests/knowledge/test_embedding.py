"""The embedding model as the bot runs it: rewritten for int8 kernels, cached on disk, and never a reason to stop.

The rewrite (knowledge/quantize.py) halves the model's memory and time; what a user would notice if it went
wrong is answers by a different meaning, so the tests compare its vectors with the shipped model's, and check
that a damaged cache or a failed rewrite still leaves matching by meaning on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge import embedding, quantize

SENTENCES = [
    "how do we write a memorandum of understanding",
    "who actually has the power in our partnership? the council seems to call all the shots",
    "We're a small befriending charity and the council has hinted it would fund us if we became a partnership.",
    "what is the weather like tomorrow",
]


@pytest.fixture(scope="module")
def model_file() -> Path:
    try:
        return embedding._model_file()
    except ImportError:
        pytest.skip("the embedding model is not installed here")


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(embedding.CACHE_ENV, str(tmp_path))
    return tmp_path


def test_the_rewritten_model_reads_sentences_as_the_shipped_one_does(model_file: Path, cache: Path) -> None:
    rewritten = embedding.EmbeddingModel(model_file)
    shipped = embedding.EmbeddingModel(model_file, rewrite=False)
    assert rewritten.variant.startswith("dyn") and shipped.variant == "shipped"
    agreement = (rewritten.embed(SENTENCES) * shipped.embed(SENTENCES)).sum(axis=1)
    assert agreement.min() > 0.995, agreement
    # Vectors made with one form are never reused for the other.
    assert rewritten.fingerprint != shipped.fingerprint


def test_a_phrasing_reads_the_same_among_others_as_typed_alone(model_file: Path, cache: Path) -> None:
    """The knowledge base is embedded in one call; a person's question alone. Both must give the same vector, or
    a question typed exactly as a phrasing would not score as that phrasing."""
    model = embedding.EmbeddingModel(model_file)
    phrasings = [*SENTENCES, "what is a consortium", "how do we end a partnership well", "risk register",
                 "Do we need a lawyer to sign a memorandum of understanding with the council?"]
    together = model.embed(phrasings)
    for row, sentence in enumerate(phrasings):
        assert np.allclose(together[row], model.embed([sentence])[0], atol=1e-6)


def test_the_rewrite_is_made_once_and_then_read_from_the_cache(model_file: Path, cache: Path) -> None:
    first = embedding.EmbeddingModel(model_file)
    cached = list(cache.glob("model-*.onnx"))
    assert len(cached) == 1 and quantize.variant() in cached[0].name
    made = cached[0].stat().st_mtime_ns
    second = embedding.EmbeddingModel(model_file)
    assert cached[0].stat().st_mtime_ns == made
    assert np.allclose(first.embed(SENTENCES[:1]), second.embed(SENTENCES[:1]), atol=1e-6)


def test_an_upgrade_deletes_the_older_rewrite_and_unused_vectors(model_file: Path, cache: Path) -> None:
    """A new version of the rewrite replaces the old one on disk, and vectors unused for a month go, while the
    vectors in use stay however old they are."""
    import os

    embedding.EmbeddingModel(model_file)
    current = next(cache.glob("model-*.onnx"))
    older = current.with_name(current.name.replace(quantize.variant(), "dyn1-s8"))
    older.write_bytes(b"an earlier version's rewrite")
    stale = cache / "kb-vectors-000000000000000000000000.npy"
    np.save(stale, np.zeros((1, 384), dtype=np.float32))
    month_ago = 31 * 86400
    os.utime(stale, (stale.stat().st_atime - month_ago, stale.stat().st_mtime - month_ago))
    current.unlink()  # as on the first start after an upgrade: this version's rewrite is not there yet
    model = embedding.EmbeddingModel(model_file)
    assert not older.exists() and current.exists()
    in_use = embedding.embed_cached(model, SENTENCES[:2])
    kept = next(p for p in cache.glob("kb-vectors-*.npy") if p != stale)
    os.utime(kept, (kept.stat().st_atime - month_ago, kept.stat().st_mtime - month_ago))
    assert np.allclose(embedding.embed_cached(model, SENTENCES[:2]), in_use)  # read: its time is renewed
    embedding.embed_cached(model, SENTENCES[2:])  # a knowledge-base edit writes new vectors
    assert not stale.exists() and kept.exists()


def test_a_damaged_cached_rewrite_falls_back_to_the_shipped_model(model_file: Path, cache: Path) -> None:
    embedding.EmbeddingModel(model_file)
    cached = next(cache.glob("model-*.onnx"))
    cached.write_bytes(b"half a file")
    model = embedding.EmbeddingModel(model_file)
    assert model.variant == "shipped" and not cached.exists()  # the next start makes it again
    assert model.embed(SENTENCES[:1]).shape == (1, model.dimensions)


def test_a_rewrite_that_fails_leaves_the_shipped_model(model_file: Path, cache: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise RuntimeError("ValueError: an unexpected graph")

    monkeypatch.setattr(embedding, "_rewrite_in_child", broken)
    model = embedding.EmbeddingModel(model_file)
    assert model.variant == "shipped"
    assert model.embed(SENTENCES[:1]).shape == (1, model.dimensions)


def test_an_unwritable_cache_still_runs_the_rewrite(model_file: Path, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv(embedding.CACHE_ENV, str(blocker / "cache"))
    model = embedding.EmbeddingModel(model_file)
    assert model.variant.startswith("dyn")
    assert model.embed(SENTENCES[:1]).shape == (1, model.dimensions)


def test_the_unsigned_form_for_processors_without_vnni_agrees(model_file: Path, tmp_path: Path) -> None:
    signed = tmp_path / "s8.onnx"
    unsigned = tmp_path / "u8.onnx"
    signed.write_bytes(quantize.dynamic_int8(model_file, embedding.TOKENIZER_FILE, signed=True))
    unsigned.write_bytes(quantize.dynamic_int8(model_file, embedding.TOKENIZER_FILE, signed=False))
    a = embedding.EmbeddingModel(signed, rewrite=False).embed(SENTENCES)
    b = embedding.EmbeddingModel(unsigned, rewrite=False).embed(SENTENCES)
    assert np.allclose(a, b, atol=1e-4)


def test_the_engine_does_not_load_scipy_sparse() -> None:
    """scipy.sparse is 43 MB of the running bot's memory that bm25s's numpy backend does not need."""
    probe = "import sys, knowledge.engine; print('scipy.sparse' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120)
    assert done.stdout.strip() == "False"


def test_bm25s_numpy_backend_scores_as_its_scipy_backend() -> None:
    import bm25s
    import scipy.sparse

    corpus = [["mou", "partner", "agree"], ["consortium", "bid", "partner", "partner"], ["risk", "regist"],
              ["mou", "sign", "legal", "bind"]]
    numpy_index = bm25s.BM25(k1=1.2, b=0.75, csc_backend="numpy")
    numpy_index.index(corpus, show_progress=False)
    # bm25s was imported without scipy.sparse (knowledge.engine); give it back for this comparison only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(bm25s, "sp", scipy.sparse, raising=False)
        patch.setattr(bm25s, "SCIPY_AVAILABLE", True)
        scipy_index = bm25s.BM25(k1=1.2, b=0.75, csc_backend="scipy")
        scipy_index.index(corpus, show_progress=False)
    for term in ("mou", "partner", "risk", "bind", "consortium"):
        assert np.allclose(numpy_index.get_scores([term]), scipy_index.get_scores([term]))


def test_a_capped_text_reads_as_the_tokenizers_own_truncation(model_file: Path, cache: Path) -> None:
    """The whole of a long message is read up to CONTEXT_TOKENS pieces (knowledge.engine): as if cut there."""
    model = embedding.EmbeddingModel(model_file)
    text = " ".join(SENTENCES * 3)
    capped = model.embed([text, SENTENCES[0]], [64, None])
    model._tokenizer.enable_truncation(max_length=64)
    expected = model.embed([text, SENTENCES[0]])
    model._tokenizer.enable_truncation(max_length=embedding.MAX_TOKENS)
    assert np.allclose(capped, expected, atol=1e-5)
    assert not np.allclose(model.embed([text])[0], capped[0], atol=1e-3)  # the cap did cut something
