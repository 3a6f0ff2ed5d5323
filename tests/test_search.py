"""Search with fake step functions whose log-probs spell a known answer.

The fake model is a Markov chain: ``memory`` holds, per sentence, a table
``log P(next | prev)`` of shape ``(vocab, vocab)``; the attention of a step is one-hot at
``prev % src_len``, so every hypothesis' attention is a fingerprint of its own path.
"""

import numpy as np
import pytest
from keras import ops

from seq2seq.search import (
    NEG,
    SearchResult,
    beam_search,
    gather_beams,
    gnmt_penalty,
    greedy_search,
    sample_search,
    sampling_chooser,
)
from seq2seq.tokenizer import BOS, EOS, PAD

V, S = 9, 5


def fake_step(prev, state, memory, mask):
    table = memory  # (rows, V, V)
    index = ops.broadcast_to(ops.reshape(prev, (-1, 1, 1)), (ops.shape(prev)[0], 1, V))
    log_probs = ops.take_along_axis(table, index, axis=1)[:, 0, :]
    attention = ops.one_hot(prev % S, S)
    return log_probs, [state[0] + 1.0], attention


def chain_table(transitions, default=-20.0):
    """A table where ``transitions[prev] = {token: prob}``; unspecified tokens get ~0."""
    table = np.full((V, V), default, dtype="float32")
    for prev, nexts in transitions.items():
        for token, p in nexts.items():
            table[prev, token] = np.log(p)
    table -= np.log(np.exp(table).sum(axis=1, keepdims=True))
    return table


def random_tables(n, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, V, V)) * 2.0
    logits[:, :, EOS] += 3.0
    logits[:, :, [PAD, BOS, 1]] = -30.0  # never predict pad/unk/bos
    return (logits - np.log(np.exp(logits).sum(-1, keepdims=True))).astype("float32")


def run_greedy(tables, max_len=12, silent=None):
    tables = np.asarray(tables, dtype="float32")
    rows = len(tables)
    mask = np.ones((rows, S), dtype=bool)
    state = [np.zeros((rows, 1), "float32")]
    out = greedy_search(fake_step, tables, mask, state, max_len, silent)
    return SearchResult(*(np.asarray(x) for x in out))


def run_beam(tables, k, alpha=0.0, max_len=12, active=None, silent=None):
    tables = np.asarray(tables, dtype="float32")
    rows = len(tables)
    mask = np.ones((rows, S), dtype=bool)
    state = [np.zeros((rows, 1), "float32")]
    out = beam_search(
        fake_step, tables, mask, state, k, max_len, alpha, active=active, silent=silent
    )
    return SearchResult(*(np.asarray(t) for t in out))


def run_samples(tables, n=8, seed=3, silent=None):
    import keras

    tables = np.asarray(tables, dtype="float32")
    rows = len(tables)
    mask, state = np.ones((rows, S), dtype=bool), [np.zeros((rows, 1), "float32")]
    choose = sampling_chooser(1.0, seed_generator=keras.random.SeedGenerator(seed))
    out = sample_search(fake_step, tables, mask, state, 12, n, choose, silent=silent)
    return SearchResult(*(np.asarray(t) for t in out))


def path(tokens):
    tokens = list(tokens)
    return tokens[: tokens.index(EOS) + 1] if EOS in tokens else [t for t in tokens if t]


def expected_attention(ids):
    prev = [BOS] + list(ids[:-1])
    return np.eye(S)[[p % S for p in prev]]


def test_greedy_spells_the_chain_and_stops_at_eos():
    table = chain_table({BOS: {4: 0.9, 5: 0.1}, 4: {5: 0.8, 6: 0.2}, 5: {EOS: 0.7, 6: 0.3}})
    out = run_greedy([table])
    tokens, log_probs, attention = out.tokens[0, 0], out.token_log_probs[0, 0], out.attention[0, 0]
    assert path(tokens) == [4, 5, EOS]
    assert out.length[0, 0] == 3 and out.finished[0, 0]
    assert (tokens[3:] == PAD).all() and (log_probs[3:] == 0).all()
    np.testing.assert_allclose(log_probs[:3], np.log([0.9, 0.8, 0.7]), rtol=1e-4)
    np.testing.assert_allclose(out.log_prob[0, 0], np.log(0.9 * 0.8 * 0.7), rtol=1e-4)
    np.testing.assert_array_equal(attention[:3], expected_attention([4, 5, EOS]))


def test_beam_one_equals_greedy():
    tables = random_tables(6, seed=1)
    greedy = run_greedy(tables)
    beam = run_beam(tables, k=1)
    for b in range(len(tables)):
        assert path(beam.tokens[b, 0]) == path(greedy.tokens[b, 0])
        assert beam.finished[b, 0] == greedy.finished[b, 0]
        np.testing.assert_allclose(beam.log_prob[b, 0], greedy.log_prob[b, 0], rtol=1e-5)


def test_nbest_is_sorted_unique_and_each_hypothesis_has_its_own_attention():
    tables = random_tables(5, seed=2)
    out = run_beam(tables, k=4, alpha=0.6)
    assert out.finished.all(axis=1).sum() >= 3  # rows that rank several finished ones
    for b in range(5):
        assert out.finished[b].any()
        assert (out.log_prob[b] > NEG / 2).all()
        scores = out.log_prob[b] / gnmt_penalty(out.length[b].astype("float32"), 0.6)
        done = out.finished[b]
        assert (np.diff(scores[done]) <= 1e-6).all()
        assert not (np.diff(done.astype(int)) > 0).any()  # finished ones come first
        paths = [tuple(path(t)) for t in out.tokens[b]]
        assert len(set(paths)) == len(paths)
        for j, ids in enumerate(paths):
            n = len(ids)
            assert out.length[b, j] == n
            assert (ids[-1] == EOS) == out.finished[b, j] and EOS not in ids[:-1]
            assert (out.tokens[b, j, n:] == PAD).all()
            np.testing.assert_array_equal(out.attention[b, j, :n], expected_attention(ids))
            # total log-prob = sum of its token log-probs = table lookups along the path
            prev = [BOS] + list(ids[:-1])
            lp = sum(tables[b][p, t] for p, t in zip(prev, ids))
            np.testing.assert_allclose(out.log_prob[b, j], lp, rtol=1e-5)
            np.testing.assert_allclose(out.token_log_probs[b, j, :n].sum(), lp, rtol=1e-5)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_a_smaller_active_beam_in_a_wide_graph_equals_the_narrow_search(k):
    tables = random_tables(4, seed=5)
    narrow = run_beam(tables, k=k, alpha=0.6)
    wide = run_beam(tables, k=5, alpha=0.6, active=k)
    assert (wide.log_prob[:, :k] > NEG / 2).all()
    for name in ("tokens", "length", "finished"):
        np.testing.assert_array_equal(getattr(wide, name)[:, :k], getattr(narrow, name))
    np.testing.assert_allclose(wide.log_prob[:, :k], narrow.log_prob, rtol=1e-6)


def test_attention_follows_a_beam_that_switched_slots():
    # Step 1: "4" (p=.6) outranks "5" (p=.4), so 4 sits in slot 0 and 5 in slot 1.
    # Step 2: 4 continues badly, 5 continues well: the best hypothesis comes from slot 1.
    table = chain_table(
        {
            BOS: {4: 0.6, 5: 0.4},
            4: {6: 0.3, 7: 0.3, 8: 0.4},
            5: {EOS: 0.95, 6: 0.05},
            6: {EOS: 1.0},
            7: {EOS: 1.0},
            8: {EOS: 1.0},
        }
    )
    out = run_beam([table], k=2)
    assert path(out.tokens[0, 0]) == [5, EOS]
    np.testing.assert_array_equal(out.attention[0, 0, :2], expected_attention([5, EOS]))
    second = path(out.tokens[0, 1])
    np.testing.assert_array_equal(out.attention[0, 1, : len(second)], expected_attention(second))


def test_length_penalty_changes_ranking():
    table = chain_table(
        {BOS: {8: 1.0}, 8: {EOS: 0.35, 4: 0.65}, 4: {5: 1.0}, 5: {6: 1.0}, 6: {EOS: 1.0}}
    )
    table2 = chain_table(
        {
            BOS: {8: 1.0},
            8: {EOS: 0.4, 4: 0.6},
            4: {5: 0.8, 7: 0.2},
            5: {6: 0.8, 7: 0.2},
            6: {EOS: 0.8, 7: 0.2},
            7: {EOS: 1.0},
        }
    )
    assert path(run_beam([table2], k=3, alpha=0.0).tokens[0, 0]) == [8, EOS]
    assert len(path(run_beam([table2], k=3, alpha=2.0).tokens[0, 0])) > 2
    assert path(run_beam([table], k=2, alpha=0.0).tokens[0, 0]) == [8, 4, 5, 6, EOS]


@pytest.mark.parametrize("alpha", [0.0, 1.2])
def test_no_search_ends_before_it_has_written_text(alpha):
    # EOS first is 99 % likely, yet every search outputs a token before it.
    table = chain_table({BOS: {EOS: 0.99, 4: 0.007, 5: 0.003}, 4: {EOS: 1.0}, 5: {EOS: 1.0}})
    assert path(run_greedy([table]).tokens[0, 0]) == [4, EOS]
    beam = run_beam([table], k=3, alpha=alpha)
    assert [path(t) for t in beam.tokens[0, :2]] == [[4, EOS], [5, EOS]]
    assert beam.finished[0, :2].all() and (beam.length[0, :2] == 2).all()
    samples = run_samples([table])
    assert (samples.length >= 2).all() and (samples.tokens[0, :, 0] != EOS).all()
    # 6 writes no text (like a lone "▁"): EOS right after it is barred too.
    table = chain_table({BOS: {6: 0.9, 4: 0.1}, 6: {EOS: 0.95, 4: 0.05}, 4: {EOS: 1.0}})
    silent = np.zeros(V, bool)
    silent[6] = True
    assert path(run_beam([table], k=2, alpha=alpha).tokens[0, 0]) == [6, EOS]
    assert path(run_beam([table], k=2, alpha=alpha, silent=silent).tokens[0, 0]) == [4, EOS]
    assert path(run_greedy([table], silent=silent).tokens[0, 0]) == [6, 4, EOS]
    samples = run_samples([table], silent=silent)
    assert all(4 in path(t) for t in samples.tokens[0])


def test_batch_equals_one_by_one():
    tables = random_tables(4, seed=3)
    together = run_beam(tables, k=3, alpha=0.6)
    for b in range(4):
        alone = run_beam(tables[b : b + 1], k=3, alpha=0.6)
        for name in ("tokens", "attention", "length", "finished"):
            np.testing.assert_array_equal(getattr(together, name)[b], getattr(alone, name)[0])
        np.testing.assert_allclose(together.log_prob[b], alone.log_prob[0], rtol=1e-6)


def test_max_len_without_eos_tops_up_with_open_hypotheses():
    table = chain_table({BOS: {4: 1.0}, 4: {4: 0.9, 5: 0.1}, 5: {4: 1.0}}, default=-60.0)
    out = run_beam([table], k=2, max_len=6)
    assert not out.finished[0].any()
    assert (out.length[0] == 6).all() and (out.log_prob[0] > NEG / 2).all()
    assert path(out.tokens[0, 0]) == [4, 4, 4, 4, 4, 4]
    greedy = run_greedy([table], max_len=6)
    assert path(greedy.tokens[0, 0]) == [4, 4, 4, 4, 4, 4] and not greedy.finished[0, 0]
    assert greedy.length[0, 0] == 6


def test_samples_are_ranked_and_seeded():
    import keras

    tables = random_tables(2, seed=4)
    mask, state = np.ones((2, S), dtype=bool), [np.zeros((2, 1), "float32")]

    def draw(seed):
        choose = sampling_chooser(1.0, top_k=3, seed_generator=keras.random.SeedGenerator(seed))
        out = sample_search(fake_step, tables, mask, state, 12, 6, choose, alpha=0.6)
        return SearchResult(*(np.asarray(t) for t in out))

    a, b = draw(7), draw(7)
    np.testing.assert_array_equal(a.tokens, b.tokens)
    assert a.tokens.shape == (2, 6, 12)
    for row in range(2):
        done = a.finished[row]
        scores = a.log_prob[row] / gnmt_penalty(a.length[row].astype("float32"), 0.6)
        assert (np.diff(scores[done]) <= 1e-6).all()
        assert not (np.diff(done.astype(int)) > 0).any()


@pytest.mark.parametrize("index, expected", [([[2, 0]], [["c", "a"]]), ([[1, 1]], [["b", "b"]])])
def test_gather_beams(index, expected):
    letters = np.array([[[ord("a")], [ord("b")], [ord("c")]]])
    got = np.asarray(gather_beams(letters, np.array(index)))[..., 0]
    assert [[chr(x) for x in row] for row in got] == expected
