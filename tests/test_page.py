"""The page and the launcher without a browser: import has no side effects, handlers answer
``{widget: value}`` dicts (a skip before anything was translated), events are wired by the
handlers' parameter names, the launcher serves before it warms up."""

import json
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

from seq2seq.compiled import WIDTHS
from seq2seq.options import DecodeOptions
from seq2seq.translation import NO_ATTENTION
from webapp import events as events_module
from webapp import launcher, views
from webapp.events import API, DECODING, Events, build_demo, result_folder, wire
from webapp.files import Refusal
from webapp.page import EXPLAIN_HINT, TREE_HINT, layout
from webapp.service import TranslationService

ROOT = Path(__file__).resolve().parents[1]


def test_import_does_no_work():
    """Importing app loads no model, launches nothing (both are made to explode) and sets
    no environment variable (the launcher's main() does)."""
    code = (
        "import os, gradio as gr, seq2seq.translator as t\n"
        "def boom(*a, **k): raise SystemExit('work at import time')\n"
        "t.Translator.load = boom\n"
        "gr.Blocks.launch = boom\n"
        "before = dict(os.environ)\n"
        "import app, webapp.events, webapp.launcher\n"
        "assert dict(os.environ) == before, set(os.environ.items()) ^ set(before.items())\n"
        "print('imported')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr[-2000:]


def changes_nothing(answer: dict, outputs) -> bool:
    """A handler's answer that Gradio takes as "no change": at least one entry, every one
    a skip, for widgets among the event's outputs."""
    skip = gr.skip()
    return bool(answer) and set(answer) <= set(outputs) and all(v == skip for v in answer.values())


@pytest.fixture
def page(service):
    with gr.Blocks():
        widgets = layout(service)
    return Events(service, widgets), widgets


def test_handlers_return_widget_dicts(page):
    events, w = page
    request = SimpleNamespace(headers={"referer": "http://x/?a=1"})
    out = events.translate("one two", "en-de", 4, 3, 0.6, "two one", False, False, False, request)
    assert set(out) == {*w.views(), w.link}
    assert out[w.best] == "two one" and out[w.selected] == 0
    assert out[w.link] == "http://x/?text=one+two&beam=4&n=3&lp=0.6&dir=en-de"
    assert out[w.tree] == TREE_HINT and out[w.result].tree is None
    reranked = events.rerank(out[w.result], 1.5, "", False, False)
    assert set(reranked) == set(w.views()) and reranked[w.result].length_penalty == 1.5
    # Before the first translation (the plain page): answers that change nothing. An empty
    # dict is not one: Gradio 6 reads it as a single value and puts an error on every view.
    assert changes_nothing(events.rerank(None, 1.5, "", False, False), w.views())
    assert changes_nothing(events.redraw(None, 0, False, False), w.attention_views())
    load = events.load(SimpleNamespace(query_params={}, headers={}))
    assert changes_nothing(load, [*w.views(), w.link])


def test_opening_the_tree_records_it_once(page):
    events, w = page
    request = SimpleNamespace(headers={})
    args = ("one two", "en-de", 4, 3, 0.6, "", False, False)
    assert events.open_tree(*args, None, request) == {w.tree_open: True}  # nothing shown yet
    shown = events.translate(*args, False, request)[w.result]
    opened = events.open_tree(*args, shown, request)
    assert opened[w.tree_open] is True and opened[w.result].tree is not None
    assert 'class="beam-tree"' in opened[w.tree] and "beam search of “one two”" in opened[w.tree]
    assert events.open_tree(*args, opened[w.result], request) == {w.tree_open: True}
    assert events.close_tree() == {w.tree_open: False}
    # While it is open, each translation records its tree.
    assert events.translate(*args, True, request)[w.result].tree is not None


def test_word_level_toggle_redraws_and_exports_words(page):
    events, w = page
    request = SimpleNamespace(headers={})
    # "fourfive": one source word of several pieces, so piece and word alignments differ.
    result = events.translate(
        "one fourfive six", "en-de", 4, 3, 0.6, "", False, False, False, request
    )[w.result]
    out = events.change_level(result, 0, False, True)
    assert set(out) == {*w.attention_views(), w.files}
    assert [word for word, _ in out[w.target_tokens]] == result.best.split()  # no </s>
    (pharaoh,) = [f for f in out[w.files] if f.endswith(".pharaoh")]
    expected = views.pharaoh_text(result, word_level=True)
    assert Path(pharaoh).read_text(encoding="utf-8") == expected != views.pharaoh_text(result)
    assert "Coverage and confidence" in out[w.coverage]
    assert changes_nothing(events.change_level(None, 0, False, True), w.attention_views())


def test_direction_choices_are_label_code_pairs(page):
    _, w = page
    assert w.direction.choices == [("English → German (en-de)", "en-de")]
    assert w.direction.value == "en-de"
    assert w.compare_button is None and w.compare_slots == []  # one model per direction


def test_every_event_that_decodes_waits_in_one_queue(tiny, results):
    """The API's endpoints and the page's decoding events share one Gradio queue of the
    service's concurrency (so no endpoint waits in a queue of its own); events that only
    redraw are not in it."""
    blocks = build_demo({"en-de": tiny}, results=results, concurrency=3)
    queue = {fn.api_name: (fn.concurrency_id, fn.concurrency_limit) for fn in blocks.fns.values()}
    decoding = {name for name, group in queue.items() if group == (DECODING, 3)}
    page = {"ui_translate", "score_1", "open_tree", "select_token", "select_cell"}
    page |= {"pick_rival", "continue_from_node", "translate_file"}
    assert decoding == {*API, *page}
    assert {"rerank", "redraw", "close_tree", "change_level", "load"} <= set(queue) - decoding


@pytest.mark.slow  # trains a second tiny model (Luong)
def test_a_rival_model_is_warmed_at_the_default_beam_only(tiny_model_dir, tiny_luong_dir):
    # A second architecture has graphs of its own (~20 MB each): the rival gets the
    # default beam's graphs, the direction's own model every beam and the trees.
    translators, _ = launcher.load_translators([str(tiny_model_dir[0]), str(tiny_luong_dir)])
    asked = {}
    for code, translator in translators.items():
        translator.warm_up = lambda code=code, **buckets: asked.setdefault(code, buckets) and []
    launcher.warm_up(translators)
    assert asked["en-de"]["beams"] == (1, 5, 10) and asked["en-de"]["trees"] == launcher.WARM_TREES
    assert asked["en-de-luong"]["beams"] == launcher.RIVAL_BEAMS == (5,)
    assert asked["en-de-luong"]["trees"] == ()
    warm = tuple(w for w in WIDTHS if w <= launcher.WARM_MAX_WIDTH)
    assert asked["en-de"]["widths"] == asked["en-de-luong"]["widths"] == warm


@pytest.mark.slow  # trains a second tiny model (Luong)
def test_a_second_model_of_a_direction_is_offered_and_compared(
    tiny_model_dir, tiny_luong_dir, results, monkeypatch
):
    translators, errors = launcher.load_translators([str(tiny_model_dir[0]), str(tiny_luong_dir)])
    assert list(translators) == ["en-de", "en-de-luong"] and errors == []
    service = TranslationService(translators, max_input_chars=100, results=results)
    with gr.Blocks():
        w = layout(service)
    events = Events(service, w)
    assert [code for _, code in w.direction.choices] == ["en-de", "en-de-luong"]
    assert "luong_general attention" in w.direction.choices[1][0]
    assert service.rivals("en-de-luong") == ["en-de-luong", "en-de"]  # the selected one first

    drawn = []
    real = events_module.heatmap_html

    def recording(src, tgt, matrix, title, unit):
        drawn.append((title, tgt, matrix, unit))
        return real(src, tgt, matrix, title, unit)

    monkeypatch.setattr(events_module, "heatmap_html", recording)
    out = events.compare("one two three", "en-de", 3, 0.6, False, True)
    assert set(out) == {widget for slot in w.compare_slots for widget in slot}
    assert [title for title, *_ in drawn] == ["en-de", "en-de-luong"]
    for (summary, plot), (key, tgt, matrix, unit), formula in zip(
        w.compare_slots, drawn, ["vᵀ tanh(W s + U hⱼ)", "sᵀ W hⱼ"]
    ):
        best = service.translation("one two three", key, 3, 1, 0.6).hypotheses[0]
        text = out[summary].value
        assert formula in text and f"> {best.text}" in text and f"{best.score:.3f}" in text
        assert unit == "words" and tgt == best.text.split() and matrix.shape[0] == len(tgt)
        assert 'class="heatmap"' in out[plot].value and out[plot].visible
    # Two attention mechanisms, two different maps of the same sentence.
    assert not np.allclose(drawn[0][2], drawn[1][2])
    # The panel of each model states its attention formula.
    assert "sᵀ W hⱼ" in views.model_markdown(translators["en-de-luong"].bundle, None)


def with_lengths(folder, tmp_path, bleus):
    """A copy of a model folder whose eval.json scores it by source length."""
    copy = tmp_path / Path(folder).name
    shutil.copytree(folder, copy)
    buckets = [
        {"bucket": b, "n": 100, "bleu": bleu, "chrf": 2 * bleu} for b, bleu in zip(BUCKETS, bleus)
    ]
    evaluation = {
        "test": "test-v1.tsv.gz",
        "beam_size": 5,
        "sentences": 300,
        "bleu": 20.0,
        "chrf": 40.0,
        "bleu_signature": "nrefs:1",
        "chrf_signature": "nrefs:1",
        "by_length": buckets,
    }
    (copy / "eval.json").write_text(json.dumps(evaluation))
    return str(copy)


BUCKETS = ["1-10", "11-20", "21+"]


@pytest.mark.slow  # trains a tiny model without attention (and one with Luong attention)
def test_a_model_without_attention_is_compared_and_shows_why_attention(
    tiny_model_dir, tiny_luong_dir, tiny_noattn_dir, results, tmp_path
):
    """The compare view shows the no-attention model's translation and, in place of a heat
    map, what it lacks; "Why attention?" draws BLEU by length from the eval.json files."""
    folders = [
        with_lengths(tiny_model_dir[0], tmp_path, [30, 25, 20]),
        with_lengths(tiny_luong_dir, tmp_path, [29, 24, 18]),
        with_lengths(tiny_noattn_dir, tmp_path, [28, 15, 5]),
    ]
    translators, errors = launcher.load_translators(folders)
    assert list(translators) == ["en-de", "en-de-luong", "en-de-noattn"] and errors == []
    service = TranslationService(translators, max_input_chars=100, results=results)
    with gr.Blocks() as blocks:
        w = layout(service)
    assert "no attention" in w.direction.choices[2][0]
    why = [b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == "why-plot"]
    assert len(why) == 1
    table = next(b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == "why-table")
    assert "| 21+ | 100 | 20.0 | 18.0 | 5.0 |" in table.value

    out = Events(service, w).compare("one two three", "en-de", 3, 0.6, False, False)
    (_, attn_plot), (_, luong_plot), (summary, plot) = w.compare_slots
    assert out[attn_plot].visible and out[luong_plot].visible
    assert out[plot].visible is False and out[plot].value == ""
    best = service.translation("one two three", "en-de-noattn", 3, 1, 0.6).hypotheses[0]
    assert f"> {best.text}" in out[summary].value and NO_ATTENTION in out[summary].value
    for endpoint in (service.api_attention, service.api_explain):
        with pytest.raises(Refusal, match="no attention"):
            endpoint("one two three", "en-de-noattn")
    assert service.api_beam("one two three", "en-de-noattn", 3, 2)["attends"] is False


def test_model_keys_of_rivals():
    def fake(attention):
        config = SimpleNamespace(attention=attention)
        return SimpleNamespace(
            bundle=SimpleNamespace(direction="en-de"), model=SimpleNamespace(model_config=config)
        )

    taken = {"en-de": None}
    assert launcher.model_key("models/en-de", fake("bahdanau"), {}) == "en-de"
    assert launcher.model_key("models/en-de-luong/", fake("luong_general"), taken) == "en-de-luong"
    assert launcher.model_key("user/nmt@v2", fake("luong_dot"), taken) == "en-de-luong_dot"
    taken["en-de-luong_dot"] = None
    assert launcher.model_key("other/nmt", fake("luong_dot"), taken) == "en-de-luong_dot#2"


def test_the_alpha_slider_starts_and_resets_at_the_models(tiny, results):
    import copy

    other = copy.copy(tiny)
    other.default_options = DecodeOptions(length_penalty=1.25)
    translators = {"en-de": tiny, "en-de-x": other}
    service = TranslationService(translators, max_input_chars=100, results=results)
    with gr.Blocks() as blocks:
        widgets = layout(service)
        wire(blocks, widgets, Events(service, widgets))
    assert widgets.alpha.value == 0.6  # the first direction's
    [reset] = [d for d in blocks.fns.values() if d.targets == [(widgets.direction._id, "input")]]
    assert [o._id for o in reset.outputs] == [widgets.alpha._id]
    assert reset.fn(direction="en-de-x") == {widgets.alpha: 1.25}
    assert reset.fn(direction="en-de") == {widgets.alpha: 0.6}


def test_main_serves_before_it_warms_up(tiny, monkeypatch):
    """The server listens first; the warm-up runs in the background afterwards."""
    import socket
    import threading
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    warmed, seen = threading.Event(), []

    def warm_up(**buckets):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as page:
            seen.append((page.status, threading.current_thread().name))
        warmed.set()
        return [("greedy, 1 row(s) × 8 tokens", 0.1)]

    def block_thread(blocks):
        assert warmed.wait(60)
        blocks.close()

    monkeypatch.setattr(tiny, "warm_up", warm_up)
    loaded = ({"en-de": tiny}, [])
    monkeypatch.setattr(launcher, "load_translators", lambda specs, precision: loaded)
    monkeypatch.setattr(gr.Blocks, "block_thread", block_thread)
    monkeypatch.setattr(launcher.signal, "signal", lambda *args: None)
    launcher.main(["--port", str(port), "--cache-dir", ""])
    assert seen == [(200, "warm-up")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_large_blocks_go_back_to_the_system():
    import ctypes

    from benchmarks.common import rss_mb

    assert launcher.limit_heap_growth()
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    # Freeing a 16 MiB block is what makes a default glibc raise its trim threshold to
    # 32 MiB: the 24 MiB freed below would then stay with the process.
    block = libc.malloc(16 << 20)
    ctypes.memset(block, 1, 16 << 20)
    libc.free(block)
    blocks = [libc.malloc(1 << 20) for _ in range(24)]
    for block in blocks:
        ctypes.memset(block, 1, 1 << 20)
    before = rss_mb()
    for block in reversed(blocks):
        libc.free(block)
    given_back = before - rss_mb()
    assert given_back > 16, f"of 24 MB freed, {given_back:.0f} MB went back"


def test_the_model_panel_names_the_length_penalty_and_how_it_was_chosen(tiny):
    import copy

    own = copy.copy(tiny.bundle)
    own.metadata = {**own.metadata, "decoding": {"length_penalty": 1.5, "chosen_on": "dev X"}}
    evaluation = {
        "bleu": 1.0,
        "chrf": 2.0,
        "beam_size": 5,
        "length_penalty": 1.5,
        "sentences": 3,
        "bleu_signature": "b",
        "chrf_signature": "c",
    }
    text = views.model_markdown(own, evaluation)
    assert "**Length penalty α:** 1.5 (chosen on dev X)" in text
    assert "(3 sentences, beam 5, α 1.5): BLEU **1.0**" in text
    assert "**Length penalty α:** 0.6 (the library's default)" in views.model_markdown(
        tiny.bundle, None
    )


def test_result_files_live_inside_gradios_upload_folder():
    real = result_folder()
    try:  # served as they are, never copied
        assert real.path.parent == Path(gr.utils.get_upload_folder())
    finally:
        real.close()
    assert not real.path.exists()


def test_score_it_adds_the_visitors_translation_to_the_candidates(page):
    events, w = page
    out = events.score("one two three", "", 4, 0.6, "one one one", False, False)
    rows = out[w.table].value["data"]
    assert rows[-1][0] == "yours (below the beam)" and rows[-1][1] == "one one one"
    assert len(rows) == 5 and out[w.selected] == 4
    assert out[w.result].hypotheses[-1].text == "one one one"
    assert "Where the model disagreed most" in out[w.coverage]
    best = out[w.result].hypotheses[0].text
    again = events.score("one two three", "", 4, 0.6, best, False, False)
    assert again[w.table].value["data"][-1][0] == "yours (would rank 1)"
    assert "every piece of it itself" in again[w.coverage]


def test_a_clicked_piece_shows_its_rivals_and_a_picked_rival_redecodes(page):
    """Click an output piece: the model's most probable pieces at that step (the chosen
    one among them); pick another: every new candidate starts with the pieces before it
    and the rival."""
    events, w = page
    request = SimpleNamespace(headers={})
    shown = events.translate("one two three", "en-de", 4, 3, 0.6, "", False, False, False, request)
    result, key = shown[w.result], shown[w.result_key]
    assert key == "en-de" and shown[w.rivals].choices == []
    best = result.hypotheses[0]
    out = events.select_token(result, key, 0, False, False, SimpleNamespace(index=1))
    choices = out[w.rivals].choices
    assert 2 <= len(choices) <= 5 and "piece 2" in out[w.rivals].label
    chosen = [value for label, value in choices if label.endswith("(chosen)")]
    assert (
        chosen == [f"1:{best.ids[1]}"] and choices[0][1] == chosen[0]
    )  # greedy is beam's best here
    rival = next(value for _, value in choices if value != chosen[0])
    forced = events.pick_rival(result, key, 0, rival, 4, 3, 0.6, "", False, False)
    prefix = [best.ids[0], int(rival.split(":")[1])]
    assert all(h.ids[:2] == prefix for h in forced[w.result].hypotheses)
    assert forced[w.result].source == "one two three" and forced[w.result_key] == key
    words = events.select_token(result, key, 0, False, True, SimpleNamespace(index=1))
    assert words[w.rivals].choices == [] and "word level" in words[w.rivals].label
    assert changes_nothing(events.pick_rival(None, None, 0, rival, 4, 3, 0.6, "", 0, 0), w.views())


def test_a_clicked_piece_shows_how_its_attention_was_computed(page, service):
    """The arithmetic of one heat-map row: energies, softmax weights equal to the row of
    /attention, the formula of the model's attention, the context vector."""
    events, w = page
    request = SimpleNamespace(headers={})
    shown = events.translate("one two three", "en-de", 4, 3, 0.6, "", False, False, False, request)
    assert shown[w.explain] == EXPLAIN_HINT
    out = events.select_token(shown[w.result], "en-de", 0, False, False, SimpleNamespace(index=2))
    text = out[w.explain]
    assert "vᵀ tanh(W s_i + U h_j + b)" in text and "α_ij = exp(e_ij)" in text
    assert "| source piece | energy e_ij | weight α_ij |" in text and "norm" in text
    explained = service.api_explain("one two three", "", 4, 1, 2)
    row = service.api_attention("one two three", "", 4, 1)["attention"][2]
    np.testing.assert_allclose(explained["weights"], row, atol=1e-5)
    energies = np.array(explained["energies"])
    softmax = np.exp(energies - energies.max()) / np.exp(energies - energies.max()).sum()
    np.testing.assert_allclose(softmax, explained["weights"], atol=1e-5)
    assert explained["target_token"] == shown[w.result].hypotheses[0].pieces[2]
    assert explained["context_size"] == 64 and explained["context_norm"] > 0
    with pytest.raises(Refusal, match="position must be between 0 and"):
        service.api_explain("one two three", "", 4, 1, 40)


def test_a_clicked_heat_map_cell_explains_its_row(page):
    events, w = page
    request = SimpleNamespace(headers={})
    shown = events.translate("one two three", "en-de", 4, 3, 0.6, "", False, False, False, request)
    assert 'class="heatmap"' in shown[w.heatmap].value and shown[w.heatmap].visible
    cell = events.select_cell(
        shown[w.result], "en-de", 0, False, False, SimpleNamespace(index=[2, 0])
    )
    token = events.select_token(shown[w.result], "en-de", 0, False, False, SimpleNamespace(index=2))
    assert cell[w.explain] == token[w.explain] and "output piece 3" in cell[w.explain]
    assert changes_nothing(
        events.select_cell(None, None, 0, False, False, SimpleNamespace(index=[0, 0])),
        [w.source_tokens],
    )


def test_continue_from_a_beam_tree_node(page):
    """ "Continue from here" on a node of the tree: every new candidate starts with the
    node's prefix."""
    events, w = page
    request = SimpleNamespace(headers={})
    shown = events.translate("one two three", "en-de", 4, 3, 0.6, "", False, False, True, request)
    result, key = shown[w.result], shown[w.result_key]
    tree = result.tree
    best = result.hypotheses[0].ids
    node = next(n for n in tree.nodes if n.step == 1 and tree.token_ids(n) != best[:2])
    prefix = tree.token_ids(node)
    out = events.continue_from_node(
        result, key, 4, 3, 0.6, "", False, False, SimpleNamespace(index=node.id)
    )
    assert all(h.ids[:2] == prefix for h in out[w.result].hypotheses)
    assert changes_nothing(
        events.continue_from_node(None, key, 4, 3, 0.6, "", 0, 0, SimpleNamespace(index=0)),
        w.views(),
    )
