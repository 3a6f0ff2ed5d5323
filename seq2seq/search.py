"""Search over any step function: greedy, sampling and beam search.

A *step function* has the signature of :meth:`seq2seq.model.Seq2Seq.step`::

    step_fn(prev_token (rows,), state, memory, mask) -> (log_probs (rows, vocab),
                                                        new_state, attention (rows, src_len))

Every search returns one :class:`SearchResult`: ``n`` candidates per sentence, sorted
best first (finished before unfinished, then by length-normalised score). The loops are
written with ``keras.ops.while_loop`` and fixed-size buffers, so a caller can compile a
whole search into one graph. Every hypothesis keeps its own history (tokens, per-token
log-probs, attention rows): when a beam is extended, its history is gathered along with
it, so the attention of a hypothesis is the attention of the steps it took, whatever slot
it ends in. No search ends a hypothesis that has written nothing: EOS may not follow BOS
(as with fairseq's ``min_len``) nor a ``silent`` token (one that writes no text, e.g. a lone
word-start piece ``▁``), so a sentence never gets an empty translation, which
length-normalised beam search would otherwise prefer whenever the model's per-token loss on
a long output exceeds its loss on EOS alone. :func:`beam_search` can also record every
step (``trace=True``, a :class:`BeamTrace`) from which :mod:`seq2seq.beam_tree` rebuilds
the search tree. This module knows nothing of the model.
"""

from __future__ import annotations

from typing import NamedTuple

import keras
from keras import ops

from seq2seq.penalties import NEG, gnmt_penalty
from seq2seq.tokenizer import BOS, EOS, PAD

_OPEN = -1e6  # ranks every unfinished candidate below every finished one


class SearchResult(NamedTuple):
    """``n`` candidates per sentence, best first; what every search returns.

    Attributes:
        tokens: ``(batch, n, max_len)`` int32, ``PAD`` after the last token.
        token_log_probs: ``(batch, n, max_len)`` float32, 0 after the last token.
        attention: ``(batch, n, max_len, src_len)`` float32, one row per output token.
        log_prob: ``(batch, n)`` total log-probability; ``NEG`` marks an empty slot.
        length: ``(batch, n)`` int32, output tokens (EOS included when finished).
        finished: ``(batch, n)`` bool, False if the hypothesis hit ``max_len`` first.
    """

    tokens: object
    token_log_probs: object
    attention: object
    log_prob: object
    length: object
    finished: object


class BeamTrace(NamedTuple):
    """Every step of a beam search: the ``2K`` candidates it ranked (the ``K`` open
    hypotheses' best one-token extensions, best first), the parent each extends, and which
    were kept open. Step ``i`` wrote row ``i``; rows the search did not reach have
    ``log_prob`` ``NEG``. A candidate among the ``k`` best that ends in EOS competed for
    the finished candidates; one neither kept open nor ended fell out of the beam.

    Attributes:
        parent: ``(batch, max_len, 2K)`` int32, the open slot (of step ``i - 1``) extended.
        token: ``(batch, max_len, 2K)`` int32, the token appended.
        log_prob: ``(batch, max_len, 2K)`` float32, cumulative; ``NEG``: no candidate.
        keep: ``(batch, max_len, K)`` int32, the candidate kept in each open slot (which
            the next step extends); slots past ``k`` hold nothing.
    """

    parent: object
    token: object
    log_prob: object
    keep: object


def bar_eos_after_silence(step_log_probs, prev, silent=None):
    """``step_log_probs (rows, ..., vocab)`` with EOS set to ``NEG`` in the rows whose
    previous token ``prev (rows, ...)`` is BOS or ``silent``: an output ends only after a
    token that writes text, so none is empty (nor ends in whitespace).

    Args:
        silent: ``(vocab,)`` bool, the tokens that write no visible text; None: only BOS.
    """
    barred = ops.equal(prev, BOS)
    if silent is not None:
        barred = ops.logical_or(barred, ops.take(silent, prev, axis=0))
    eos = ops.equal(ops.arange(ops.shape(step_log_probs)[-1]), EOS)
    return ops.where(ops.logical_and(ops.expand_dims(barred, -1), eos), NEG, step_log_probs)


def force_prefix(step_log_probs, i, forced):
    """``step_log_probs (rows, vocab)`` at step ``i`` with every token but the forced one
    set to ``NEG`` in the rows whose prefix ``forced (rows, P)`` (``PAD`` after each row's
    own prefix) reaches step ``i``: the search writes the prefix, and its tokens keep their
    log-probabilities, so they count in the score as the model's own would."""
    width = ops.shape(forced)[1]
    token = ops.take(forced, ops.minimum(i, width - 1), axis=1)  # (rows,)
    active = ops.logical_and(ops.less(i, width), ops.not_equal(token, PAD))
    other = ops.not_equal(ops.arange(ops.shape(step_log_probs)[-1])[None, :], token[:, None])
    return ops.where(ops.logical_and(active[:, None], other), NEG, step_log_probs)


def rank(result: SearchResult, alpha, n: int) -> SearchResult:
    """The ``n`` best candidates of ``result``: finished ones first, by
    ``log_prob / gnmt_penalty(length, alpha)``, then unfinished ones; empty slots last."""
    score = result.log_prob / gnmt_penalty(ops.cast(result.length, "float32"), alpha)
    key = ops.where(result.finished, score, score + _OPEN)
    key = ops.where(result.log_prob > NEG / 2, key, 2 * NEG)
    _, best = ops.top_k(key, n)
    return SearchResult(*(gather_beams(t, best) for t in result))


def _write(buffer, position, values, axis=1):
    """``buffer[:, ..., position] = values`` along ``axis``, as a select (works on every
    backend inside compiled loops). ``values`` has ``buffer``'s shape without ``axis``."""
    hit = ops.equal(ops.arange(ops.shape(buffer)[axis]), position)
    shape = [1] * len(buffer.shape)
    shape[axis] = -1
    return ops.where(ops.reshape(hit, shape), ops.expand_dims(values, axis), buffer)


def flatten_beams(x):
    """``(batch, beams, ...)`` → ``(batch * beams, ...)``."""
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0] * shape[1],) + tuple(shape[2:]))


def unflatten_beams(x, beams):
    """``(batch * beams, ...)`` → ``(batch, beams, ...)``."""
    shape = ops.shape(x)
    return ops.reshape(x, (shape[0] // beams, beams) + tuple(shape[1:]))


def gather_beams(x, index):
    """Pick beams: ``x (batch, n, ...)``, ``index (batch, m)`` → ``(batch, m, ...)``.

    Example: index ``[[2, 0]]`` on beams ``[[a, b, c]]`` gives ``[[c, a]]``.
    Static dimensions stay static (compiled loops need unchanging shapes).
    """
    shape, m = ops.shape(x), ops.shape(index)[1]
    batch_offset = ops.expand_dims(ops.arange(shape[0]) * shape[1], 1)  # (batch, 1)
    flat_index = ops.reshape(ops.cast(index, "int32") + batch_offset, (-1,))
    picked = ops.take(flatten_beams(x), flat_index, axis=0)
    return ops.reshape(picked, (shape[0], m) + tuple(shape[2:]))


def tile_beams(tree, beams):
    """Repeat every ``(batch, ...)`` tensor of a nested structure ``beams`` times along
    axis 0, each row's copies adjacent: rows ``[a, b]`` → ``[a, a, b, b]``."""
    return keras.tree.map_structure(lambda t: ops.repeat(t, beams, axis=0), tree)


def argmax_chooser(log_probs):
    """Greedy choice for :func:`decode_loop`: the most probable token of each row."""
    return ops.cast(ops.argmax(log_probs, axis=-1), "int32")


def sampling_chooser(temperature, top_k=0, seed_generator=None):
    """A chooser for :func:`decode_loop`: a sample from ``softmax(log_probs / temperature)``
    restricted to the ``top_k`` most probable tokens (0 = all; capped at the vocabulary)."""

    def choose(log_probs):
        logits = log_probs / temperature
        if top_k:
            k = min(int(top_k), int(log_probs.shape[-1]))
            kth = ops.top_k(logits, k)[0][:, -1:]
            logits = ops.where(logits < kth, NEG, logits)
        sample = keras.random.categorical(logits, 1, seed=seed_generator)[:, 0]
        return ops.cast(sample, "int32")

    return choose


def decode_loop(
    step_fn, memory, mask, state, max_len, choose, silent=None, forced=None
) -> SearchResult:
    """One token per row per step, chosen by ``choose(log_probs) -> (rows,)`` (greedy or
    sampling), until every row produced EOS or ``max_len`` tokens.

    Args:
        step_fn: see the module docstring.
        memory, mask, state: from the model's ``encode`` (mask ``(rows, src_len)``).
        max_len: maximum output tokens (int or scalar tensor), EOS included.
        silent: see :func:`bar_eos_after_silence`.
        forced: ``(rows, P)`` int32, a prefix each row must start with (see
            :func:`force_prefix`); None: nothing forced (the loop is built without it).

    Returns:
        a :class:`SearchResult` with one candidate per row (``batch = rows``, ``n = 1``).
    """
    rows, src_len = ops.shape(mask)[0], ops.shape(mask)[1]
    tokens = ops.zeros((rows, max_len), dtype="int32")
    log_probs = ops.zeros((rows, max_len), dtype="float32")
    attention = ops.zeros((rows, max_len, src_len), dtype="float32")
    prev = ops.full((rows,), BOS, dtype="int32")
    finished = ops.zeros((rows,), dtype="bool")
    length = ops.zeros((rows,), dtype="int32")

    def cond(i, prev, state, finished, length, tokens, log_probs, attention):
        return ops.logical_and(i < max_len, ops.logical_not(ops.all(finished)))

    def body(i, prev, state, finished, length, tokens, log_probs, attention):
        step_log_probs, state, weights = step_fn(prev, state, memory, mask)
        step_log_probs = bar_eos_after_silence(ops.cast(step_log_probs, "float32"), prev, silent)
        if forced is not None:
            step_log_probs = force_prefix(step_log_probs, i, forced)
        token = ops.where(finished, PAD, choose(step_log_probs))
        live = ops.logical_not(finished)
        live_f = ops.cast(live, "float32")
        token_lp = ops.take_along_axis(step_log_probs, ops.expand_dims(token, -1), -1)[:, 0]
        tokens = _write(tokens, i, token)
        log_probs = _write(log_probs, i, token_lp * live_f)
        attention = _write(attention, i, ops.cast(weights, "float32") * live_f[:, None])
        length = length + ops.cast(live, "int32")
        finished = ops.logical_or(finished, ops.equal(token, EOS))
        return i + 1, token, state, finished, length, tokens, log_probs, attention

    loop_vars = (0, prev, state, finished, length, tokens, log_probs, attention)
    *_, finished, length, tokens, log_probs, attention = ops.while_loop(cond, body, loop_vars)
    one = lambda t: ops.expand_dims(t, 1)  # noqa: E731  (rows, ...) → (rows, 1, ...)
    return SearchResult(
        one(tokens),
        one(log_probs),
        one(attention),
        one(ops.sum(log_probs, axis=-1)),
        one(length),
        one(finished),
    )


def greedy_search(step_fn, memory, mask, state, max_len, silent=None, forced=None) -> SearchResult:
    """The most probable token at every step; one candidate per sentence."""
    return decode_loop(step_fn, memory, mask, state, max_len, argmax_chooser, silent, forced)


def sample_search(
    step_fn, memory, mask, state, max_len, n, choose, alpha=0.0, silent=None, forced=None
):
    """``n`` samples per sentence drawn with ``choose`` (see :func:`sampling_chooser`),
    ranked like beam candidates under length penalty ``alpha``."""
    memory, mask, state = tile_beams(memory, n), tile_beams(mask, n), tile_beams(state, n)
    forced = None if forced is None else tile_beams(forced, n)
    flat = decode_loop(step_fn, memory, mask, state, max_len, choose, silent, forced)
    result = SearchResult(*(unflatten_beams(t[:, 0], n) for t in flat))  # (batch, n, ...)
    return rank(result, ops.cast(alpha, "float32"), n)


def _start_beams(batch, big_k, max_len, src_len):
    """The open beams (only slot 0 open: the others would duplicate it), the finished
    ones (none) and their scores, before the first step."""
    alive = _empty_beams(batch, big_k, max_len, src_len)
    alive = alive._replace(log_prob=ops.where(ops.equal(alive.length, ops.arange(big_k)), 0.0, NEG))
    fin = alive._replace(log_prob=ops.full((batch, big_k), NEG))
    return alive, fin, ops.full((batch, big_k), NEG)


def beam_search(
    step_fn,
    memory,
    mask,
    state,
    beam_size,
    max_len,
    alpha=0.0,
    active=None,
    trace=False,
    silent=None,
    forced=None,
):
    """Beam search with GNMT length penalty over a batch.

    Each step extends every open hypothesis by every token and keeps ``2k`` best
    candidates: those among the best ``k`` that end in EOS compete (by
    ``log_prob / gnmt_penalty``) for the finished slots, those that do not end for the
    ``k`` open slots. A finished hypothesis is never extended. The loop stops at
    ``max_len`` or as soon as no open hypothesis can beat the ``k``-th finished one (its
    log-prob only falls, and the penalty is largest at ``max_len``).

    Args:
        step_fn: see the module docstring.
        memory, mask, state: from the model's ``encode``, *not* tiled (``(batch, ...)``).
        beam_size: slots per sentence, ``K`` (static: it sets the buffers' shapes).
        max_len: maximum output tokens, EOS included (int or scalar tensor).
        alpha: length-penalty exponent (0 = none).
        active: the beam size ``k ≤ K`` actually searched (a scalar that may change
            between calls of one compiled graph); slots past ``k`` stay empty, so the
            result equals a search with ``beam_size=k``. Default ``K``.
        trace: also record every step (a Python bool: when False the loop carries nothing
            more, so the graph is the same as without the option).
        silent: see :func:`bar_eos_after_silence`.
        forced: ``(batch, P)`` int32, a prefix every candidate of a sentence starts with
            (see :func:`force_prefix`; its steps keep one open hypothesis); None:
            nothing forced (the loop is built without it).

    Returns:
        a :class:`SearchResult` of ``K`` candidates per sentence: the finished ones, topped
        up with open ones where fewer than ``K`` ended, best first; with ``trace``, the
        pair ``(result, BeamTrace)``.
    """
    big_k = beam_size
    k = big_k if active is None else ops.cast(active, "int32")
    batch, src_len = ops.shape(mask)[0], ops.shape(mask)[1]
    memory, mask, state = (tile_beams(x, big_k) for x in (memory, mask, state))
    forced = None if forced is None else tile_beams(forced, big_k)
    alpha = ops.cast(alpha, "float32")
    slots = ops.arange(big_k)
    alive, fin, fin_score = _start_beams(batch, big_k, max_len, src_len)
    prev = ops.full((batch * big_k,), BOS, dtype="int32")
    record = (_empty_trace(batch, max_len, big_k),) if trace else ()

    def cond(i, prev, state, alive, fin, fin_score, *record):
        longest = gnmt_penalty(ops.cast(max_len, "float32"), alpha)
        best_possible = ops.max(alive.log_prob, axis=1) / longest
        kth = ops.take_along_axis(fin_score, ops.full((batch, 1), k - 1, "int32"), 1)[:, 0]
        done = ops.all(kth >= best_possible)
        return ops.logical_and(i < max_len, ops.logical_not(done))

    def body(i, prev, state, alive, fin, fin_score, *record):
        step_lp, state, weights = step_fn(prev, state, memory, mask)
        step_lp = bar_eos_after_silence(ops.cast(step_lp, "float32"), prev, silent)
        if forced is not None:
            step_lp = force_prefix(step_lp, i, forced)
        step_lp = unflatten_beams(step_lp, big_k)  # (batch, K, vocab)
        weights = unflatten_beams(ops.cast(weights, "float32"), big_k)  # (batch, K, src_len)
        cand, parent, token = _extend(alive, step_lp, weights, i)

        # Open beams: the k best candidates that did not end (slots past k stay empty).
        open_lp, keep = ops.top_k(ops.where(cand.finished, NEG, cand.log_prob), big_k)
        alive = SearchResult(*(gather_beams(t, keep) for t in cand))
        alive = alive._replace(log_prob=ops.where(ops.less(slots, k), open_lp, NEG))
        rows = _pick(parent, keep) + ops.repeat(ops.arange(batch) * big_k, big_k)
        state = keras.tree.map_structure(lambda s: ops.take(s, rows, axis=0), state)
        fin, fin_score = _finish(fin, fin_score, cand, k, alpha)
        if trace:
            record = (_record(record[0], i, parent, token, cand.log_prob, keep),)
        return i + 1, _pick(token, keep), state, alive, fin, fin_score, *record

    loop_vars = (0, prev, state, alive, fin, fin_score, *record)
    _, _, _, alive, fin, _, *record = ops.while_loop(cond, body, loop_vars)
    both = SearchResult(*(ops.concatenate([a, b], axis=1) for a, b in zip(fin, alive)))
    result = rank(both, alpha, big_k)
    return (result, record[0]) if trace else result


def _empty_beams(batch, slots, max_len, src_len) -> SearchResult:
    """``slots`` empty hypotheses per sentence (log-prob 0, no tokens)."""
    return SearchResult(
        tokens=ops.zeros((batch, slots, max_len), dtype="int32"),
        token_log_probs=ops.zeros((batch, slots, max_len), dtype="float32"),
        attention=ops.zeros((batch, slots, max_len, src_len), dtype="float32"),
        log_prob=ops.zeros((batch, slots), dtype="float32"),
        length=ops.zeros((batch, slots), dtype="int32"),
        finished=ops.zeros((batch, slots), dtype="bool"),
    )


def _extend(alive: SearchResult, step_lp, weights, i):
    """The ``2K`` best one-token extensions of the ``K`` open hypotheses (so that even if
    ``K`` of them end in EOS, ``K`` open ones remain), with their histories.

    Args:
        alive: ``K`` open hypotheses per sentence; step_lp ``(batch, K, vocab)`` and
            weights ``(batch, K, src_len)``: this step's log-probs and attention.

    Returns:
        candidates (``finished`` marks those ending in EOS), their parent slot and token,
        each ``(batch, 2K)``. Example with K = 2, vocab 10: flat index 13 is parent 1,
        token 3.
    """
    batch, slots, vocab = ops.shape(step_lp)[0], ops.shape(step_lp)[1], ops.shape(step_lp)[2]
    total = ops.reshape(ops.expand_dims(alive.log_prob, 2) + step_lp, (batch, -1))
    cand_lp, index = ops.top_k(total, 2 * slots)  # (batch, 2K)
    parent, token = index // vocab, ops.cast(index % vocab, "int32")
    token_lp = ops.take_along_axis(ops.reshape(step_lp, (batch, -1)), index, axis=1)
    history = SearchResult(*(gather_beams(t, parent) for t in alive))
    cand = SearchResult(
        tokens=_write(history.tokens, i, token, axis=2),
        token_log_probs=_write(history.token_log_probs, i, token_lp, axis=2),
        attention=_write(history.attention, i, gather_beams(weights, parent), axis=2),
        log_prob=cand_lp,
        length=ops.full((batch, 2 * slots), i + 1, dtype="int32"),
        finished=ops.equal(token, EOS),
    )
    return cand, parent, token


def _empty_trace(batch, max_len, slots) -> BeamTrace:
    """A :class:`BeamTrace` of ``max_len`` steps of ``K = slots``, nothing recorded."""
    shape = (batch, max_len, 2 * slots)
    return BeamTrace(
        parent=ops.zeros(shape, dtype="int32"),
        token=ops.zeros(shape, dtype="int32"),
        log_prob=ops.full(shape, NEG, dtype="float32"),
        keep=ops.zeros((batch, max_len, slots), dtype="int32"),
    )


def _record(trace: BeamTrace, i, parent, token, log_prob, keep) -> BeamTrace:
    """``trace`` with step ``i`` written: parent, token and log-prob of the ``2K``
    candidates (each ``(batch, 2K)``) and the candidate kept in each open slot
    (``keep (batch, K)``)."""
    return BeamTrace(
        parent=_write(trace.parent, i, ops.cast(parent, "int32")),
        token=_write(trace.token, i, token),
        log_prob=_write(trace.log_prob, i, log_prob),
        keep=_write(trace.keep, i, ops.cast(keep, "int32")),
    )


def _pick(values, keep):
    """``values (batch, 2K)`` at the kept candidates ``keep (batch, K)``, flat ``(batch*K,)``."""
    return flatten_beams(gather_beams(ops.expand_dims(values, -1), keep))[:, 0]


def _finish(fin: SearchResult, fin_score, cand: SearchResult, k, alpha):
    """The best of the finished hypotheses and the candidates that ended now, by score.

    Only an EOS among the ``k`` best candidates ends a hypothesis (as in fairseq), so
    that beam size 1 is exactly greedy search.
    """
    ends = ops.logical_and(cand.finished, ops.less(ops.arange(ops.shape(cand.log_prob)[1]), k))
    ended = cand._replace(log_prob=ops.where(ends, cand.log_prob, NEG))
    penalty = gnmt_penalty(ops.cast(cand.length, "float32"), alpha)
    ended_score = ops.where(ends, cand.log_prob / penalty, NEG)
    merged = SearchResult(*(ops.concatenate([a, b], axis=1) for a, b in zip(fin, ended)))
    fin_score, best = ops.top_k(
        ops.concatenate([fin_score, ended_score], axis=1), ops.shape(fin_score)[1]
    )
    return SearchResult(*(gather_beams(t, best) for t in merged)), fin_score
