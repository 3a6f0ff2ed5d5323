"""The beam tree: the search's recording (fake Markov-chain steps, see test_search) and the
tree rebuilt from it, then the tree of a real (tiny) model through the Translator."""

import numpy as np
import pytest
from test_search import S, chain_table, fake_step, path, random_tables, run_beam

from seq2seq.beam_tree import DROPPED, FINISHED, OPEN, BeamTree
from seq2seq.penalties import NEG, gnmt_penalty
from seq2seq.search import BeamTrace, SearchResult, beam_search
from seq2seq.tokenizer import BOS, EOS


def traced(tables, k, alpha=0.0, max_len=12, active=None):
    tables = np.asarray(tables, dtype="float32")
    rows = len(tables)
    mask, state = np.ones((rows, S), dtype=bool), [np.zeros((rows, 1), "float32")]
    out, trace = beam_search(
        fake_step, tables, mask, state, k, max_len, alpha, active=active, trace=True
    )
    return SearchResult(*map(np.asarray, out)), BeamTrace(*map(np.asarray, trace))


def tree_of(trace, row, out, beam_size, alpha):
    returned = [path(t) for t, lp in zip(out.tokens[row], out.log_prob[row]) if lp > NEG / 2]
    row_trace = BeamTrace(*(t[row] for t in trace))
    return BeamTree.from_trace(
        row_trace, returned, lambda ids: [str(i) for i in ids], beam_size, alpha
    )


@pytest.mark.parametrize("k, active", [(4, None), (5, 3), (1, None)])
def test_recording_changes_nothing_and_the_tree_ends_in_the_returned_candidates(k, active):
    tables = random_tables(4, seed=11)
    plain = run_beam(tables, k=k, alpha=0.6, active=active)
    out, trace = traced(tables, k, alpha=0.6, active=active)
    for name in SearchResult._fields:
        np.testing.assert_array_equal(getattr(out, name), getattr(plain, name))
    beam = active or k
    for row in range(4):
        tree = tree_of(trace, row, out, beam, 0.6)
        live = out.log_prob[row] > NEG / 2
        finals = tree.returned
        assert [tree.token_ids(n) for n in finals] == [path(t) for t in out.tokens[row][live]]
        for node, j in zip(finals, np.flatnonzero(live)):
            np.testing.assert_allclose(node.log_prob, out.log_prob[row, j], rtol=1e-5)
            expected = out.log_prob[row, j] / gnmt_penalty(float(out.length[row, j]), 0.6)
            np.testing.assert_allclose(node.score, expected, rtol=1e-5)
            assert node.status == (FINISHED if out.finished[row, j] else OPEN)
        # Parents are open nodes of the previous step; at most `beam` open per step.
        for node in tree.nodes:
            if node.parent is None:
                assert node.step == 0
            else:
                parent = tree.nodes[node.parent]
                assert parent.step == node.step - 1 and parent.status == OPEN
        for step in range(tree.steps):
            nodes = [n for n in tree.nodes if n.step == step]
            statuses = [n.status for n in nodes]
            assert 1 <= statuses.count(OPEN) <= beam
            for n in nodes:  # only an EOS among the k best ends a hypothesis
                among_best = sum(m.log_prob > n.log_prob for m in nodes) < beam
                assert (n.status == FINISHED) == (n.token == EOS and among_best)
        kept = {n.id for final in finals for n in tree.path(final)}
        assert kept == {n.id for n in tree.nodes if n.on_path}


# Beam 2. Step 0: 4 (.6) and 5 (.4) open. Step 1 ranks 5 EOS (.38), 4 8 (.24), 4 7 (.21),
# 4 6 (.15): 5 EOS finishes, 4 8 and 4 7 are kept open, 4 6 falls out (5 6, .02, is not
# among the 2k best). Step 2 ends both open branches.
HAND_TABLE = chain_table(
    {
        BOS: {4: 0.6, 5: 0.4},
        4: {6: 0.25, 7: 0.35, 8: 0.4},
        5: {EOS: 0.95, 6: 0.05},
        6: {EOS: 1.0},
        7: {EOS: 1.0},
        8: {EOS: 1.0},
    }
)


def test_a_hand_built_search_step_by_step():
    out, trace = traced([HAND_TABLE], k=2)
    tree = tree_of(trace, 0, out, 2, 0.0)
    first = [(n.token, n.status) for n in tree.nodes if n.step == 0]
    assert first[:2] == [(4, OPEN), (5, OPEN)] and {s for _, s in first[2:]} <= {DROPPED}
    second = {tuple(tree.token_ids(n)): n for n in tree.nodes if n.step == 1}
    assert second[(5, EOS)].status == FINISHED and second[(5, EOS)].on_path
    assert second[(4, 8)].status == OPEN and second[(4, 7)].status == OPEN
    assert second[(4, 6)].status == DROPPED and not second[(4, 6)].on_path
    assert not second[(4, 7)].on_path and len(second) == 4
    np.testing.assert_allclose(second[(5, EOS)].log_prob, np.log(0.4 * 0.95), rtol=1e-4)
    assert [tree.token_ids(n) for n in tree.returned] == [[5, EOS], [4, 8, EOS]]
    assert [n.rank for n in tree.returned] == [1, 2]
    data = tree.to_dict()
    assert data["steps"] == tree.steps == 3 and len(data["nodes"]) == len(tree.nodes)
    assert data["nodes"][second[(5, EOS)].id]["status"] == FINISHED


def test_the_drawing_marks_paths_ranks_and_prefixes():
    import re

    from webapp.tree_view import layout, tree_html

    out, trace = traced([HAND_TABLE], k=2)
    names = {4: "▁a", 5: "▁b", 6: "c", 7: "d", 8: "e", EOS: "</s>"}
    tree = BeamTree.from_trace(
        BeamTrace(*(t[0] for t in trace)),
        [path(t) for t in out.tokens[0]],
        lambda ids: [names.get(i, "?") for i in ids],
        2,
        0.0,
    )
    html = tree_html(tree, "caption <here>")
    assert "caption &lt;here&gt;" in html
    titles = re.findall(r"<title>(.*?)</title>", html)
    assert len(titles) == len(tree.nodes)
    first = "step 2: “b&lt;/s&gt;” · log-prob -0.968 · score -0.968 · finished, candidate 1"
    assert first in titles and sum("candidate" in t for t in titles) == 2
    assert html.count('stroke="#f97316" stroke-width="3"') == sum(n.on_path for n in tree.nodes)
    assert sorted(re.findall(r">#(\d)</text>", html)) == ["1", "2"]
    at = layout(tree)
    assert len(set(at.values())) == len(tree.nodes)  # no two nodes on one spot
    assert all(at[n.id][0] > at[n.parent][0] for n in tree.nodes if n.parent is not None)


@pytest.mark.slow
def test_translator_tree_matches_its_candidates(tiny_model_dir):
    from seq2seq.translator import Translator

    translator = Translator.load(tiny_model_dir[0], batch_size=4)
    texts = ["one two three. Four five", "six seven"]
    plain = translator.translate(texts, beam_size=4, n_best=3)
    with_tree = translator.translate(texts, beam_size=4, n_best=3, tree=True)
    for a, b in zip(plain, with_tree):
        assert [h.ids for h in a.hypotheses] == [h.ids for h in b.hypotheses]
        assert a.tree is None
    sentences = with_tree[0].sentences
    assert len(sentences) == 2 and with_tree[1].sentences == [with_tree[1]]
    for sentence in [*sentences, with_tree[1]]:
        tree = sentence.tree
        assert [tree.token_ids(n) for n in tree.returned] == [h.ids for h in sentence.hypotheses]
        for node, h in zip(tree.returned, sentence.hypotheses):
            np.testing.assert_allclose(node.score, h.score, rtol=1e-5)
            assert node.piece == h.pieces[-1]
    with pytest.raises(ValueError, match="needs beam search"):
        translator.translate(texts, n_best=2, temperature=1.0, tree=True)


def test_without_trace_the_loop_carries_nothing_more():
    """Off, the compiled loop is the plain search's: no recording buffers in its state."""
    import tensorflow as tf

    tables = tf.constant(random_tables(1, seed=3))
    mask, state = tf.ones((1, S), tf.bool), [tf.zeros((1, 1))]

    def loop_width(trace):
        search = tf.function(lambda t: beam_search(fake_step, t, mask, state, 3, 8, trace=trace))
        graph = search.get_concrete_function(tables).graph
        (loop,) = [op for op in graph.get_operations() if op.type in ("While", "StatelessWhile")]
        return len(loop.inputs)

    assert loop_width(True) == loop_width(False) + len(BeamTrace._fields)


@pytest.mark.slow
def test_a_server_warms_up_the_tree_graphs(tiny_model_dir):
    from seq2seq.translator import Translator

    server = Translator.load(tiny_model_dir[0], batch_size=4, on_demand=False)
    server.warm_up(rows=(1,), beams=(), widths=(8,), trees=(3,))
    assert {(1, 8, "tree", 5), (None, None, "tree", 5)} <= set(server.search.graphs())
    assert not {g for g in server.search.graphs() if g[2] == "tree" and g[3] != 5}
