"""Encoder + search compiled once per shape bucket: a finite, known set of graphs.

Every request is padded up to a bucket: source width to one of :data:`WIDTHS`, batch rows
to one of :data:`ROWS` (at most the translator's batch size), beam size to a graph of
``K`` slots (:data:`BEAM_SLOTS`; the actual beam size is a run-time value inside it, see
:func:`seq2seq.search.beam_search`). So the graphs per architecture are at most
``len(WIDTHS) × len(ROWS) × (1 + 2 × len(BEAM_SLOTS))`` whatever the inputs (a beam
graph that records the beam tree is a mode of its own: the others are built without the
recording), and :meth:`CompiledSearch.warm_up` compiles ahead of time what a server will
use.

The model's weights are *arguments* of every graph, not captured state, so models of one
architecture and output cap (en-de, de-en, en-fr) share their graphs: a
:class:`GraphCache` (by default the process's, :data:`PROCESS_GRAPHS`) holds one graph per
bucket, not one per bucket and model.

Backends:
- TensorFlow: each bucket is an XLA-compiled ``tf.function``, at most :data:`MAX_GRAPHS`
  of them per process (~20 MB each on CPU); where the process keeps compiled programs on
  disk (:mod:`seq2seq.compile_cache`), a restarted server loads instead of compiling.
  Requests whose bucket is not compiled (yet) run in one shape-agnostic ``tf.function``
  per search mode (no XLA; traced once, never retraced), so with ``on_demand=False`` no
  request waits on XLA.
- JAX: one ``jax.jit`` per bucket, with JAX's persistent compilation cache.
- Others (PyTorch), or ``jit_compile=False``: the search runs eagerly.
Sampling runs eagerly on every backend (it is rare, and an eager run leaves no graph).

Not for: the search algorithms (see :mod:`seq2seq.search`) or text handling (see
:mod:`seq2seq.translator`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterable

import keras
import numpy as np

from seq2seq.options import MAX_BEAM, DecodeOptions
from seq2seq.search import (
    BeamTrace,
    SearchResult,
    beam_search,
    greedy_search,
    sample_search,
    sampling_chooser,
)
from seq2seq.shortlist import Shortlist, size_for
from seq2seq.tokenizer import EOS, PAD

log = logging.getLogger("seq2seq.compiled")

WIDTHS = (8, 16, 24, 32, 48, 64, 96, 128, 200)  # source widths, subword tokens with EOS
ROWS = (1, 4, 16, 64)  # sentences per compiled call
BEAM_SLOTS = (5, MAX_BEAM)  # beam graphs: beam 2-5 runs in 5 slots, 6-10 in 10
MAX_GRAPHS = 48  # XLA graphs per process (TensorFlow); past it, the shape-agnostic graph


class GraphCache:
    """The compiled searches of a process, shared by every :class:`CompiledSearch` given
    this cache: traced functions by (backend, architecture, output cap, family) and the
    shape buckets compiled so far. A graph takes the weights as arguments, so it serves
    every model of its architecture and output cap; it lives as long as the cache (the
    process, for :data:`PROCESS_GRAPHS`, the default)."""

    def __init__(self):
        self.functions: dict[tuple, object] = {}
        self.shapes: set[tuple] = set()  # buckets compiled (or being compiled)
        self.lock = threading.RLock()


PROCESS_GRAPHS = GraphCache()  # the default: one set of graphs per process


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
    """Run encoder + search on id batches, one compiled graph per bucket.

    Args:
        model: a built :class:`seq2seq.model.Seq2Seq`.
        max_rows: the largest batch (rows beyond it must be split by the caller).
        max_len_a, max_len_b: outputs have at most ``a * width + b`` tokens, ``width``
            being the bucket's source width.
        jit_compile: compile (False runs every search eagerly, e.g. for debugging).
        on_demand: compile a bucket's graph when a request first needs it (batch jobs);
            False (servers): only :meth:`warm_up` compiles, and a request whose bucket is
            not compiled runs in the shape-agnostic graph instead of waiting (TensorFlow).
        shortlist: a :class:`~seq2seq.shortlist.Shortlist`: greedy and beam search score
            only each batch's candidate target pieces (sampling keeps the full vocabulary).
        silent: ``(vocab,)`` bool, the pieces that write no visible text (see
            :meth:`seq2seq.tokenizer.Tokenizer.silent`): EOS never follows one, so no
            output is empty. A graph argument, so models of one architecture still share
            graphs. None: none is silent (EOS may still not follow BOS).
    """

    def __init__(
        self,
        model,
        max_rows: int = 64,
        max_len_a: float = 1.5,
        max_len_b: int = 10,
        jit_compile: bool = True,
        on_demand: bool = True,
        shortlist: Shortlist | None = None,
        silent: np.ndarray | None = None,
        graphs: GraphCache = PROCESS_GRAPHS,
    ):
        self.model, self.max_len_a, self.max_len_b = model, max_len_a, max_len_b
        self.graphs_cache = graphs
        vocab = model.model_config.vocab_size
        silent = np.zeros(vocab, bool) if silent is None else np.asarray(silent, bool)
        if silent.shape != (vocab,):
            raise ValueError(f"silent has shape {silent.shape}, expected ({vocab},)")
        self._silent = keras.ops.convert_to_tensor(silent)  # every search's argument
        self.shortlist = shortlist
        self.rows = tuple(sorted({r for r in ROWS if r < max_rows} | {max_rows}))
        self.backend = keras.backend.backend() if jit_compile else "eager"
        self.on_demand = on_demand
        config = dict(model.model_config.to_dict())
        for name in ("src_lang", "tgt_lang", "dropout"):
            config.pop(name)
        self._architecture = (
            *sorted(config.items()),
            ("shortlist", shortlist is not None),
            ("dtype", model.dtype_policy.name),
            ("max_len", (max_len_a, max_len_b)),  # the graph computes the output cap
        )

    # --- shapes -------------------------------------------------------------------

    def max_len(self, width):
        """Output cap for a source ``width`` (an int, or a scalar tensor inside a graph)."""
        if isinstance(width, int):
            return int(self.max_len_a * width) + self.max_len_b
        width = keras.ops.cast(width, "float32")
        return keras.ops.cast(width * self.max_len_a, "int32") + self.max_len_b

    def shape_for(self, n_rows: int, longest: int) -> tuple[int, int]:
        """The bucket ``(rows, width)`` a batch of ``n_rows`` sequences fits in. Widths past
        the last bucket (allowed only where a caller raised the sentence cap, e.g. for
        evaluation) round up to a multiple of 64."""
        width = bucket(longest, WIDTHS) if longest <= WIDTHS[-1] else -(-longest // 64) * 64
        return bucket(n_rows, self.rows), width

    @staticmethod
    def mode(options: DecodeOptions, tree: bool = False, forced: bool = False) -> tuple[str, int]:
        """The graph family of ``options``: ``("greedy", 1)`` or ``("beam", K)``; with
        ``tree``, ``("tree", K)``: beam search recording its steps (beam 1 too); with
        ``forced``, ``("force", K)``: beam search from a given prefix (beam 1 too: it is
        greedy search then), only ever in the shape-agnostic graph (it is rare)."""
        slots = bucket(options.beam_size, BEAM_SLOTS)
        if tree:
            return "tree", slots
        if forced:
            return "force", slots
        if options.beam_size == 1:
            return "greedy", 1
        return "beam", slots

    def graphs(self) -> list[tuple]:
        """``(rows, width, mode, slots)`` of every compiled shape this architecture has in
        the process (rows and width None: the shape-agnostic graph of a mode)."""
        shapes = list(self.graphs_cache.shapes)
        return [key[2:] for key in shapes if key[:2] == self._key(())[:2]]

    # --- running --------------------------------------------------------------------

    def __call__(
        self,
        sequences: list[list[int]],
        options: DecodeOptions,
        tree: bool = False,
        prefixes: list[list[int]] | None = None,
    ):
        """Search ``sequences`` (EOS-terminated id lists); a NumPy :class:`SearchResult`
        with ``len(sequences)`` rows and ``n_best`` candidates each. With ``tree`` (beam
        search only), the pair ``(result, BeamTrace)``, the trace with a row per sentence.
        ``prefixes``: target ids each sentence's candidates must start with (no EOS; an
        empty one forces nothing)."""
        rows, width = self.shape_for(len(sequences), max(len(s) for s in sequences))
        if len(sequences) > rows:
            raise ValueError(f"{len(sequences)} sentences exceed the batch of {rows}")
        forced = None
        if prefixes is not None:
            if tree:
                raise ValueError("a forced prefix and the beam tree do not go together")
            rows, width = len(sequences), max(len(s) for s in sequences)
            forced = pad_batch([list(p) for p in prefixes], max([1, *map(len, prefixes)]), rows)
        if options.sampling:
            if tree:
                raise ValueError("the beam tree needs beam search (temperature 0)")
            result = self._sample(pad_batch(sequences, width, rows), options, forced)
        else:
            mode, slots = self.mode(options, tree, forced is not None)
            key = (None, None, mode, slots) if forced is not None else (rows, width, mode, slots)
            graph, shaped = self._graph(key)
            if not shaped:  # the shape-agnostic graph: no padding beyond the longest
                rows, width = len(sequences), max(len(s) for s in sequences)
            src = pad_batch(sequences, width, rows)
            extra = self._vocab(sequences, rows, mode) if shaped else forced
            result = self._run(graph, src, options.beam_size, options.length_penalty, extra)
        numpy = lambda t: keras.ops.convert_to_numpy(t)[: len(sequences)]  # noqa: E731
        if tree:
            result, trace = result
        found = SearchResult(*(numpy(t)[:, : options.n_best] for t in result))
        return (found, BeamTrace(*(numpy(t) for t in trace))) if tree else found

    def warm_up(
        self,
        rows: Iterable[int] = (1,),
        beams: Iterable[int] = (1, 5, 10),
        widths: Iterable[int] = WIDTHS,
        trees: Iterable[int] = (),
    ):
        """Compile the buckets ``rows`` × ``beams`` × ``widths`` (and, on TensorFlow, the
        shape-agnostic graphs first), and those of the beam-tree graphs for the beam sizes
        ``trees``; returns ``[(what, seconds)]`` of what was compiled now (empty when
        everything was already there)."""
        done = []
        if self.backend == "eager":
            return done
        modes = {self.mode(DecodeOptions(beam_size=b)) for b in beams}
        modes = sorted(modes | {self.mode(DecodeOptions(beam_size=b), tree=True) for b in trees})
        keys = [(None, None, *m) for m in modes if self.backend == "tensorflow"]
        widths = sorted({bucket(w, WIDTHS) for w in widths})
        keys += [(bucket(r, self.rows), w, *m) for r in rows for m in modes for w in widths]
        for key in keys:
            if self._key(key) in self.graphs_cache.shapes:
                continue
            start = time.perf_counter()
            graph, _ = self._graph(key, compile_now=True)
            n_rows, width = key[0] or 1, key[1] or WIDTHS[0]
            src = pad_batch([[EOS]] * n_rows, width, n_rows)
            vocab = self._vocab([[EOS]], n_rows, key[2]) if key[0] else None
            self._run(graph, src, key[3], 0.0, vocab)
            done.append((_describe(key), time.perf_counter() - start))
            log.info("compiled %s in %.2f s", *done[-1])
        return done

    def _key(self, key) -> tuple:
        return (self.backend, self._architecture, *key)

    def _graph(self, key, compile_now: bool = False):
        """``(graph, shaped)`` for bucket ``key``: the compiled graph of its mode (which
        XLA compiles for this shape on first use), or (TensorFlow, a shape not compiled
        and not to be compiled now) the shape-agnostic graph of its mode."""
        rows, width, mode, slots = key
        shape = self._key(key)
        cache = self.graphs_cache
        with cache.lock:
            if shape not in cache.shapes and rows is not None and self.backend == "tensorflow":
                compiled = sum(1 for k in cache.shapes if k[2] is not None)  # new shapes only
                if not (compile_now or (self.on_demand and compiled < MAX_GRAPHS)):
                    return self._graph((None, None, mode, slots))
            cache.shapes.add(shape)
            xla = rows is not None
            short = self._shortlisted(rows, mode)
            function = self._key(("xla" if xla else "plain", mode, slots, short))
            if function not in cache.functions:
                cache.functions[function] = self._build(mode, slots, xla, short)
            return cache.functions[function], xla

    def _build(self, mode: str, slots: int, xla: bool, short: bool):
        """A function ``(weights, src, beam_size, alpha, silent[, extra]) -> SearchResult``
        shared with every model of the same architecture (the weights and the silent pieces
        are arguments; ``extra``: with a shortlist, ``vocab``, the candidate ids; in the
        ``force`` mode, the forced prefixes). Traced once; with ``xla`` the backend
        compiles it once per input shape (a bucket)."""
        model = self.model

        def search(values, src, beam_size, alpha, silent, extra=None):
            vocab = extra if short else None
            forced = extra if mode == "force" else None
            step = model.step if vocab is None else functools.partial(model.step, vocab=vocab)
            if vocab is not None:  # the search sees candidate indexes, not vocabulary ids
                silent = keras.ops.take(silent, vocab, axis=0)
            with keras.StatelessScope(state_mapping=list(zip(model.variables, values))):
                memory, mask, state = model.encode(src)
                max_len = self.max_len(keras.ops.shape(src)[1])
                if mode == "greedy":
                    found = greedy_search(step, memory, mask, state, max_len, silent)
                else:  # beam, tree (recording) or force (from a prefix)
                    found = beam_search(
                        step,
                        memory,
                        mask,
                        state,
                        slots,
                        max_len,
                        alpha,
                        beam_size,
                        trace=mode == "tree",
                        silent=silent,
                        forced=forced,
                    )
            if vocab is None:  # (the tree family never has one: see _shortlisted)
                return found
            return found._replace(tokens=keras.ops.take(vocab, found.tokens, axis=0))

        if self.backend == "tensorflow":
            import tensorflow as tf

            values = [tf.TensorSpec.from_tensor(v) for v in self._values()]
            spec = [
                tf.TensorSpec([None, None], tf.int32),
                tf.TensorSpec([], tf.int32),
                tf.TensorSpec([], tf.float32),
                tf.TensorSpec([None], tf.bool),
            ]
            if short:
                spec.append(tf.TensorSpec([None], tf.int32))
            if mode == "force":
                spec.append(tf.TensorSpec([None, None], tf.int32))
            return tf.function(search, jit_compile=xla, input_signature=[values, *spec])
        if self.backend == "jax":
            import jax

            return jax.jit(search)
        return search

    def _run(self, graph, src, beam_size: int, alpha: float, extra=None):
        """Call a graph with this model's weights; scalars as tensors (never retraced);
        ``extra``: the graph's last argument, if it has one (see :meth:`_build`)."""
        tensor = keras.ops.convert_to_tensor
        beam_size, alpha = tensor(np.int32(beam_size)), tensor(np.float32(alpha))
        extra = [] if extra is None else [tensor(extra)]
        return graph(self._values(), tensor(src), beam_size, alpha, self._silent, *extra)

    def _shortlisted(self, rows: int | None, mode: str) -> bool:
        """Whether a bucket of ``rows`` scores a shortlist (batches only, see
        :func:`seq2seq.shortlist.size_for`; never the shape-agnostic graph, nor a beam
        tree, whose recorded tokens are ids)."""
        if self.shortlist is None or rows is None or mode == "tree":
            return False
        return size_for(rows) is not None

    def _vocab(self, sequences, rows: int, mode: str):
        """The candidate ids for a batch in a ``rows`` bucket (None: the whole vocabulary)."""
        rows = bucket(rows, self.rows)
        if not self._shortlisted(rows, mode):
            return None
        return self.shortlist.ids(sequences, size_for(rows))

    def _values(self) -> list:
        """The model's current weights as tensors (the graphs' first argument)."""
        if self.backend == "tensorflow":
            import tensorflow as tf

            return [tf.convert_to_tensor(v.value) for v in self.model.variables]
        return [v.value for v in self.model.variables]

    def _sample(self, src, options: DecodeOptions, forced=None) -> SearchResult:
        memory, mask, state = self.model.encode(src)
        seed = keras.random.SeedGenerator(options.seed)
        choose = sampling_chooser(options.temperature, options.top_k, seed)
        return sample_search(
            self.model.step,
            memory,
            mask,
            state,
            self.max_len(src.shape[1]),
            options.n_best,
            choose,
            options.length_penalty,
            self._silent,
            None if forced is None else keras.ops.convert_to_tensor(forced),
        )


def _describe(key) -> str:
    rows, width, mode, slots = key
    what = {
        "greedy": "greedy",
        "beam": f"beam ({slots} slots)",
        "tree": f"beam tree ({slots} slots)",
        "force": f"beam from a forced prefix ({slots} slots)",
    }[mode]
    if rows is None:
        return f"{what}, any shape (no XLA)"
    return f"{what}, {rows} row(s) × {width} tokens"
