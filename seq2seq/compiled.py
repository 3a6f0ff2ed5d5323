"""Encoder + search compiled once per shape bucket: a finite, known set of graphs.

Every request is padded up to a bucket: source width to one of :data:`WIDTHS`, batch rows
to one of :data:`ROWS` (at most the translator's batch size), beam size to a graph of
``K`` slots (:data:`BEAM_SLOTS`, the actual beam size is a run-time value inside it, see
:func:`seq2seq.search.beam_search`). So the number of compiled graphs per model is
bounded by ``len(WIDTHS) × len(ROWS) × (1 + len(BEAM_SLOTS))`` whatever the inputs, and
:meth:`CompiledSearch.warm_up` can compile ahead of time exactly what a server will use.

Backends: on TensorFlow each bucket is a ``tf.function`` with XLA; on JAX a ``jax.jit``
whose weights are arguments (``keras.StatelessScope``), with JAX's persistent compilation
cache when ``cache_dir`` is given; elsewhere (PyTorch) the search runs eagerly. Sampling
runs eagerly on every backend (it is rare, and an eager run leaves no graph behind).

Not for: the search algorithms (see :mod:`seq2seq.search`) or text handling (see
:mod:`seq2seq.translator`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable

import keras
import numpy as np

from seq2seq.options import MAX_BEAM, DecodeOptions
from seq2seq.search import (
    SearchResult,
    beam_search,
    greedy_search,
    sample_search,
    sampling_chooser,
)
from seq2seq.tokenizer import EOS, PAD

log = logging.getLogger("seq2seq.compiled")

WIDTHS = (8, 16, 24, 32, 48, 64, 96, 128, 200)  # source widths, subword tokens with EOS
ROWS = (1, 4, 16, 64)  # sentences per compiled call
BEAM_SLOTS = (5, MAX_BEAM)  # beam graphs: beam 2-5 runs in 5 slots, 6-10 in 10


def bucket(value: int, sizes: Iterable[int]) -> int:
    """The smallest size ≥ ``value`` (the largest size if none is)."""
    sizes = sorted(sizes)
    return next((s for s in sizes if s >= value), sizes[-1])


def pad_batch(sequences: list[list[int]], width: int, rows: int) -> np.ndarray:
    """``(rows, width)`` int32: each sequence right-padded with ``PAD``; filler rows (past
    ``len(sequences)``) hold a lone EOS so that every row has a real token."""
    out = np.full((rows, width), PAD, dtype="int32")
    out[len(sequences) :, 0] = EOS
    for row, seq in zip(out, sequences):
        row[: len(seq)] = seq
    return out


class CompiledSearch:
    """Run encoder + search on padded id batches, one compiled graph per bucket.

    Args:
        model: a built :class:`seq2seq.model.Seq2Seq`.
        max_rows: the largest batch (rows beyond it must be split by the caller).
        max_len_a, max_len_b: outputs have at most ``a * width + b`` tokens, ``width``
            being the bucket's source width.
        jit_compile: compile (False runs every search eagerly, e.g. for debugging).
        cache_dir: persistent compilation cache (JAX only; TensorFlow has none for XLA
            on CPU), so a restarted server does not compile again.
    """

    def __init__(
        self,
        model,
        max_rows: int = 64,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
        jit_compile: bool = True,
        cache_dir: str | None = None,
    ):
        self.model, self.max_len_a, self.max_len_b = model, max_len_a, max_len_b
        self.rows = tuple(sorted({r for r in ROWS if r < max_rows} | {max_rows}))
        self.backend = keras.backend.backend() if jit_compile else "eager"
        self._graphs: dict[tuple, object] = {}
        self._lock = threading.Lock()  # one compile of a bucket at a time
        if self.backend == "jax" and cache_dir:
            import jax

            jax.config.update("jax_compilation_cache_dir", str(cache_dir))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)

    # --- shapes -------------------------------------------------------------------

    def max_len(self, width: int) -> int:
        return int(self.max_len_a * width) + self.max_len_b

    def shape_for(self, n_rows: int, longest: int) -> tuple[int, int]:
        """The bucket ``(rows, width)`` a batch of ``n_rows`` sequences fits in. Widths past
        the last bucket (allowed only where a caller raised the sentence cap, e.g. for
        evaluation) round up to a multiple of 64."""
        width = bucket(longest, WIDTHS) if longest <= WIDTHS[-1] else -(-longest // 64) * 64
        return bucket(n_rows, self.rows), width

    @staticmethod
    def mode(options: DecodeOptions) -> tuple[str, int]:
        """The graph family of ``options``: ``("greedy", 1)`` or ``("beam", K)``."""
        if options.beam_size == 1:
            return "greedy", 1
        return "beam", bucket(options.beam_size, BEAM_SLOTS)

    @property
    def compiled_count(self) -> int:
        """Graphs compiled so far (bounded by the bucket set)."""
        return len(self._graphs)

    # --- running --------------------------------------------------------------------

    def __call__(self, sequences: list[list[int]], options: DecodeOptions) -> SearchResult:
        """Search ``sequences`` (EOS-terminated id lists); a NumPy :class:`SearchResult`
        with ``len(sequences)`` rows and ``n_best`` candidates each."""
        rows, width = self.shape_for(len(sequences), max(len(s) for s in sequences))
        if len(sequences) > rows:
            raise ValueError(f"{len(sequences)} sentences exceed the batch of {rows}")
        src = pad_batch(sequences, width, rows)
        if options.sampling:
            result = self._sample(src, options)
        else:
            alpha = np.float32(options.length_penalty)
            result = self._graph(rows, width, *self.mode(options))(
                src, np.int32(options.beam_size), alpha
            )
        n = options.n_best
        return SearchResult(*(keras.ops.convert_to_numpy(t)[: len(sequences), :n] for t in result))

    def warm_up(self, rows: Iterable[int] = (1,), beams: Iterable[int] = (1, 5, 10)):
        """Compile every width bucket for ``rows`` × ``beams`` ahead of use; returns
        ``[(description, seconds)]`` of what was compiled (empty when already done)."""
        done = []
        for n_rows in rows:
            for beam in beams:
                options = DecodeOptions(beam_size=beam, n_best=1)
                for width in WIDTHS:
                    key = (bucket(n_rows, self.rows), width, *self.mode(options))
                    if key in self._graphs or self.backend == "eager":
                        continue
                    start = time.perf_counter()
                    self([[EOS] * width] * key[0], options)
                    done.append((_describe(key), time.perf_counter() - start))
                    log.info("compiled %s in %.2f s", *done[-1])
        return done

    def _graph(self, rows: int, width: int, mode: str, slots: int):
        key = (rows, width, mode, slots)
        graph = self._graphs.get(key)
        if graph is None:
            with self._lock:
                graph = self._graphs.get(key) or self._build(key)
                self._graphs[key] = graph
        return graph

    def _build(self, key):
        _, width, mode, slots = key
        max_len, model = self.max_len(width), self.model

        def search(src, beam_size, alpha):
            memory, mask, state = model.encode(src)
            if mode == "greedy":
                return greedy_search(model.step, memory, mask, state, max_len)
            return beam_search(model.step, memory, mask, state, slots, max_len, alpha, beam_size)

        if self.backend == "tensorflow":
            import tensorflow as tf

            return tf.function(search, jit_compile=True)
        if self.backend == "jax":
            return _jax_jit(model, search)
        return search

    def _sample(self, src, options: DecodeOptions) -> SearchResult:
        memory, mask, state = self.model.encode(src)
        seed = keras.random.SeedGenerator(options.seed)
        choose = sampling_chooser(options.temperature, options.top_k, seed)
        return sample_search(
            self.model.step, memory, mask, state, self.max_len(src.shape[1]),
            options.n_best, choose, options.length_penalty,
        )  # fmt: skip


def _jax_jit(model, search):
    """``jax.jit`` of ``search`` with the model's weights passed as arguments (not baked
    into the compiled program as constants)."""
    import jax

    variables = model.variables

    def stateless(values, src, beam_size, alpha):
        with keras.StatelessScope(state_mapping=list(zip(variables, values))):
            return search(src, beam_size, alpha)

    jitted = jax.jit(stateless)
    return lambda src, beam_size, alpha: jitted([v.value for v in variables], src, beam_size, alpha)


def _describe(key) -> str:
    rows, width, mode, slots = key
    what = "greedy" if mode == "greedy" else f"beam ({slots} slots)"
    return f"{what}, {rows} row(s) × {width} tokens"
