"""Search over any step function: greedy, sampling and beam search.

A *step function* has the signature of :meth:`seq2seq.model.Seq2Seq.step`::

    step_fn(prev_token (rows,), state, memory, mask) -> (log_probs (rows, vocab),
                                                        new_state, attention (rows, src_len))

The loops are written with ``keras.ops.while_loop`` and fixed-size buffers, so a caller
can compile a whole search into one graph (``tf.function``). Every hypothesis keeps its
own history (tokens, per-token log-probs, attention rows): when a beam is extended, its
history is gathered along with it, so the attention of a hypothesis is the attention of
the steps it took, whatever slot it ends in. This module knows nothing of the model.
"""

from __future__ import annotations

import keras
from keras import ops

from seq2seq.tokenizer import BOS, EOS, PAD

NEG = -1e9  # "minus infinity" that keeps arithmetic finite (no inf - inf = nan)


def length_penalty(length, alpha):
    """GNMT length penalty ``((5 + length) / 6) ** alpha``; alpha = 0 gives 1."""
    return ops.power((5.0 + ops.cast(length, "float32")) / 6.0, alpha)


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


def sample_or_argmax(temperature=0.0, top_k=0, seed_generator=None):
    """A token chooser for :func:`decode_loop`: argmax when ``temperature`` is 0, else a
    sample from ``softmax(log_probs / temperature)`` restricted to the ``top_k`` best."""

    def choose(log_probs):
        if not temperature:
            return ops.cast(ops.argmax(log_probs, axis=-1), "int32")
        logits = log_probs / temperature
        if top_k:
            kth = ops.top_k(logits, top_k)[0][:, -1:]
            logits = ops.where(logits < kth, NEG, logits)
        sample = keras.random.categorical(logits, 1, seed=seed_generator)[:, 0]
        return ops.cast(sample, "int32")

    return choose


def decode_loop(step_fn, memory, mask, state, max_len, choose):
    """One token per row per step, chosen by ``choose(log_probs) -> (rows,)`` (greedy or
    sampling), until every row produced EOS or ``max_len`` tokens.

    Args:
        step_fn: see the module docstring.
        memory, mask, state: from the model's ``encode`` (mask ``(rows, src_len)``).
        max_len: maximum output tokens (int or scalar tensor), EOS included.

    Returns:
        tokens ``(rows, max_len)`` (PAD after EOS), token log-probs ``(rows, max_len)``,
        attention ``(rows, max_len, src_len)``.
    """
    rows, src_len = ops.shape(mask)[0], ops.shape(mask)[1]
    tokens = ops.zeros((rows, max_len), dtype="int32")
    log_probs = ops.zeros((rows, max_len), dtype="float32")
    attention = ops.zeros((rows, max_len, src_len), dtype="float32")
    prev = ops.full((rows,), BOS, dtype="int32")
    finished = ops.zeros((rows,), dtype="bool")

    def cond(i, prev, state, finished, tokens, log_probs, attention):
        return ops.logical_and(i < max_len, ops.logical_not(ops.all(finished)))

    def body(i, prev, state, finished, tokens, log_probs, attention):
        step_log_probs, state, weights = step_fn(prev, state, memory, mask)
        step_log_probs = ops.cast(step_log_probs, "float32")
        token = ops.where(finished, PAD, choose(step_log_probs))
        live = ops.cast(ops.logical_not(finished), "float32")
        token_lp = ops.take_along_axis(step_log_probs, ops.expand_dims(token, -1), -1)[:, 0]
        tokens = _write(tokens, i, token)
        log_probs = _write(log_probs, i, token_lp * live)
        attention = _write(attention, i, ops.cast(weights, "float32") * live[:, None])
        finished = ops.logical_or(finished, ops.equal(token, EOS))
        return i + 1, token, state, finished, tokens, log_probs, attention

    loop_vars = (0, prev, state, finished, tokens, log_probs, attention)
    *_, tokens, log_probs, attention = ops.while_loop(cond, body, loop_vars)
    return tokens, log_probs, attention


def greedy_search(step_fn, memory, mask, state, max_len):
    """The most probable token at every step; see :func:`decode_loop` for the returns."""
    return decode_loop(step_fn, memory, mask, state, max_len, sample_or_argmax())


def beam_search(step_fn, memory, mask, state, beam_size, max_len, alpha=0.0):
    """Beam search with GNMT length penalty over a batch.

    Each step extends every open hypothesis by every token and keeps ``2k`` best
    candidates: those among the best ``k`` that end in EOS compete (by
    ``log_prob / length_penalty``) for the ``k`` finished slots, those that do not end
    for the ``k`` open slots. A finished hypothesis is
    never extended. The loop stops at ``max_len`` or as soon as no open hypothesis can
    beat the worst finished one (its log-prob only falls, and the penalty is largest at
    ``max_len``).

    Args:
        step_fn: see the module docstring.
        memory, mask, state: from the model's ``encode``, *not* tiled (``(batch, ...)``).
        beam_size: ``k``.
        max_len: maximum output tokens, EOS included (int or scalar tensor).
        alpha: length-penalty exponent (0 = none).

    Returns:
        dict of tensors, ``k`` finished (``fin_*``) and ``k`` open (``alive_*``) hypotheses
        per sentence, each sorted best first:
        ``*_tokens (batch, k, max_len)``, ``*_token_log_probs (batch, k, max_len)``,
        ``*_attention (batch, k, max_len, src_len)``, ``*_log_prob (batch, k)``,
        ``*_length (batch, k)``, ``fin_score (batch, k)``; empty slots have log-prob NEG.
    """
    k = beam_size
    batch, src_len = ops.shape(mask)[0], ops.shape(mask)[1]
    memory, mask, state = tile_beams(memory, k), tile_beams(mask, k), tile_beams(state, k)
    alpha = ops.cast(alpha, "float32")

    # Only beam 0 is open at the start: the others would duplicate it.
    first = ops.concatenate([ops.zeros((1,)), ops.full((k - 1,), NEG)])
    alive_lp = ops.tile(ops.expand_dims(first, 0), (batch, 1))  # (batch, k)
    zeros_l = ops.zeros((batch, k, max_len), dtype="float32")
    alive = {
        "tokens": ops.zeros((batch, k, max_len), dtype="int32"),
        "token_log_probs": zeros_l,
        "attention": ops.zeros((batch, k, max_len, src_len), dtype="float32"),
    }
    fin = {**alive, "log_prob": ops.full((batch, k), NEG), "score": ops.full((batch, k), NEG),
           "length": ops.zeros((batch, k), dtype="int32")}  # fmt: skip
    prev = ops.full((batch * k,), BOS, dtype="int32")

    def cond(i, prev, state, alive_lp, alive, fin):
        best_possible = ops.max(alive_lp, axis=1) / length_penalty(max_len, alpha)
        done = ops.all(ops.min(fin["score"], axis=1) >= best_possible)
        return ops.logical_and(i < max_len, ops.logical_not(done))

    def body(i, prev, state, alive_lp, alive, fin):
        step_lp, state, weights = step_fn(prev, state, memory, mask)
        step_lp = unflatten_beams(ops.cast(step_lp, "float32"), k)  # (batch, k, vocab)
        weights = unflatten_beams(ops.cast(weights, "float32"), k)  # (batch, k, src_len)
        vocab = ops.shape(step_lp)[2]
        total = ops.reshape(ops.expand_dims(alive_lp, 2) + step_lp, (batch, -1))
        # 2k candidates: even if k of them end in EOS, k open ones remain.
        cand_lp, cand_index = ops.top_k(total, 2 * k)  # (batch, 2k)
        parent, token = cand_index // vocab, ops.cast(cand_index % vocab, "int32")
        token_lp = ops.take_along_axis(ops.reshape(step_lp, (batch, -1)), cand_index, axis=1)
        cand = {
            "tokens": _write(gather_beams(alive["tokens"], parent), i, token, axis=2),
            "token_log_probs": _write(
                gather_beams(alive["token_log_probs"], parent), i, token_lp, axis=2
            ),
            "attention": _write(
                gather_beams(alive["attention"], parent), i, gather_beams(weights, parent), 2
            ),
        }
        is_eos = ops.equal(token, EOS)

        # Open beams: the k best candidates that did not end.
        alive_lp, keep = ops.top_k(ops.where(is_eos, NEG, cand_lp), k)
        alive = {name: gather_beams(t, keep) for name, t in cand.items()}
        rows = flatten_beams(gather_beams(ops.expand_dims(parent, -1), keep))[:, 0]
        rows = rows + ops.repeat(ops.arange(batch) * k, k)  # row in (batch * k)
        state = keras.tree.map_structure(lambda s: ops.take(s, rows, axis=0), state)
        prev = flatten_beams(gather_beams(ops.expand_dims(token, -1), keep))[:, 0]

        # Finished: the k best of the old finished and the candidates that ended now.
        # Only an EOS among the k best candidates ends a hypothesis (as in fairseq), so
        # that beam size 1 is exactly greedy search.
        length = i + 1
        ends = ops.logical_and(is_eos, ops.arange(2 * k) < k)
        ended_lp = ops.where(ends, cand_lp, NEG)
        ended = {**cand, "log_prob": ended_lp,
                 "score": ops.where(ends, cand_lp / length_penalty(length, alpha), NEG),
                 "length": ops.full((batch, 2 * k), length, dtype="int32")}  # fmt: skip
        merged = {name: ops.concatenate([fin[name], ended[name]], axis=1) for name in fin}
        _, best = ops.top_k(merged["score"], k)
        fin = {name: gather_beams(t, best) for name, t in merged.items()}
        return i + 1, prev, state, alive_lp, alive, fin

    loop_vars = (0, prev, state, alive_lp, alive, fin)
    _, _, _, alive_lp, alive, fin = ops.while_loop(cond, body, loop_vars)
    out = {f"fin_{name}": t for name, t in fin.items()}
    out.update({f"alive_{name}": t for name, t in alive.items()})
    out["alive_log_prob"] = alive_lp
    out["alive_length"] = ops.sum(ops.cast(ops.not_equal(alive["tokens"], PAD), "int32"), -1)
    return out
