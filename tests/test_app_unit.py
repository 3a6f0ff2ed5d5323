"""The app's handlers without a server: import has no side effects, file batches keep
their line count, bad input gets a clear message, result files stay in one folder."""

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest
from conftest import INVISIBLE_TEXTS

import app
from seq2seq import views
from seq2seq.options import DecodeOptions
from seq2seq.translator import Hypothesis, Translation

ROOT = Path(__file__).resolve().parents[1]


def test_import_does_no_work():
    """Importing app loads no model and launches nothing (both are made to explode)."""
    code = (
        "import gradio as gr, seq2seq.translator as t\n"
        "def boom(*a, **k): raise SystemExit('work at import time')\n"
        "t.Translator.load = boom\n"
        "gr.Blocks.launch = boom\n"
        "import app\n"
        "print('imported')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0 and "imported" in result.stdout, result.stderr[-2000:]


@pytest.fixture
def results(tmp_path):
    folder = app.ResultFolder(parent=tmp_path)
    yield folder
    folder.close()


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from seq2seq.translator import Translator

    return Translator.load(tiny_model_dir[0])


@pytest.fixture
def demo(tiny, results):
    return app.Demo({tiny.bundle.direction: tiny}, max_input_chars=100, results=results)


class FakeTranslator:
    """Reverses the words of each text; "EMPTY" gives an empty output and "HUGE" a line
    over the token cap (the library's ``errors="empty"`` answer)."""

    bundle = SimpleNamespace(direction="xx-yy", path="/nonexistent")
    model = SimpleNamespace(model_config=SimpleNamespace(src_lang="xx", tgt_lang="yy"))
    tokenizer = SimpleNamespace(encode_batch=lambda texts: [t.split() for t in texts])

    def __init__(self, length_penalty=0.6):
        self.seen = []
        self.default_options = DecodeOptions(length_penalty=length_penalty)

    def translate(self, texts, options, split=True, errors="raise", tree=False):
        assert isinstance(texts, list)
        self.seen += texts
        return [self._one(text, options, errors) for text in texts]

    def _one(self, text, options, errors):
        if "HUGE" in text:
            if errors == "raise":
                raise ValueError("a sentence has 999 subword tokens; the limit is 200")
            return Translation(text, [], [], [], options.length_penalty,
                               error="a sentence has 999 subword tokens")  # fmt: skip
        words = [] if "EMPTY" in text else text.split()[::-1]
        n, m = len(words) + 1, len(text.split()) + 1
        hyp = Hypothesis(ids=list(range(n)), text=" ".join(words), pieces=[*words, "</s>"],
                         log_prob=-1.0, score=float("nan"), token_log_probs=[-0.5] * n,
                         attention=np.full((n, m), 1.0 / m))  # fmt: skip
        return Translation(text, list(range(m)), [*text.split(), "</s>"], [hyp],
                           options.length_penalty)  # fmt: skip


@pytest.fixture
def fake(results):
    translator = FakeTranslator()
    return translator, app.Demo({"xx-yy": translator}, max_input_chars=100, results=results)


def upload(tmp_path, data: bytes, name="in.txt") -> app.Upload:
    """What the page's upload event keeps in the session (see test_uploads_*)."""
    return app.Upload(name, data)


# --- file batch -----------------------------------------------------------------------


def test_benchmarks_start_the_app_with_its_own_default_models():
    from benchmarks.common import APP_MODELS

    assert APP_MODELS.split(",") == app.DEFAULT_MODELS


def test_translate_file_keeps_lines(demo, tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes(b"one two\n\nthree four five\n   \nsix\n")
    kept = demo.take_upload(str(source))
    assert not source.exists()  # the upload is deleted once read into the session
    out, status = demo.translate_file(kept, "", 2, 0.6)
    lines = Path(out).read_text(encoding="utf-8").split("\n")
    assert lines[:-1] == ["two one", "", "five four three", "", "six"]
    assert status == "5 lines translated."
    assert Path(out).parent.parent == demo.results.path
    assert Path(out).name == "in.translated.txt"
    again, _ = demo.translate_file(kept, "", 2, 0.6)  # a second click works again
    assert Path(again).read_text(encoding="utf-8") == Path(out).read_text(encoding="utf-8")


def test_uploads_never_reach_other_files(fake, tmp_path):
    """Only a file the upload just wrote is read: a result file of another visitor (in
    the app's result folder) is refused and left in place, and a path given to the
    translate step itself is no upload at all."""
    translator, demo = fake
    (theirs,) = demo.results.write({"secret.translated.txt": "their text\n"})
    with pytest.raises(gr.Error, match="not an upload of this page"):
        demo.take_upload(theirs)
    assert Path(theirs).read_text(encoding="utf-8") == "their text\n"
    with pytest.raises(gr.Error, match="not an upload of this page"):
        demo.take_upload(str(tmp_path / "gone.txt"))
    with pytest.raises(gr.Error, match="Upload a .txt file"):
        demo.translate_file(theirs, "", 2, 0.6)
    assert Path(theirs).exists() and translator.seen == []


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\f", "\v", "\x1c", "\r"])
def test_file_lines_split_only_on_newline(fake, tmp_path, separator):
    translator, demo = fake
    data = f"one{separator}two\r\nthree\nfour{separator}five\n".encode()
    assert app.split_lines(data) == [f"one{separator}two", "three", f"four{separator}five"]
    out, status = demo.translate_file(upload(tmp_path, data), "", 2, 0.6)
    assert len(Path(out).read_text(encoding="utf-8").split("\n")) == 3 + 1
    assert status == "3 lines translated."


def test_split_lines_ends():
    assert app.split_lines(b"") == []
    assert app.split_lines(b"a") == ["a"]
    assert app.split_lines(b"a\n\n") == ["a", ""]
    assert app.split_lines(b"\xef\xbb\xbfa\r\nb") == ["a", "b"]  # BOM and CRLF


def test_bad_lines_are_left_empty_and_named(fake, tmp_path):
    translator, demo = fake
    data = "one two\n" + "x" * 101 + "\nthree HUGE four\nfive six\n"
    out, status = demo.translate_file(upload(tmp_path, data.encode()), "", 2, 0.6)
    assert Path(out).read_text(encoding="utf-8").split("\n") == ["two one", "", "", "six five",
                                                                 ""]  # fmt: skip
    assert status.startswith("4 lines: 2 translated, 2 left empty")
    assert "line 2, 3." in status and "over 100 characters" in status


def test_a_line_over_the_token_cap_is_left_empty_with_the_real_library(tiny_model_dir, tmp_path,
                                                                       results):  # fmt: skip
    from seq2seq.translator import Translator

    translator = Translator.load(tiny_model_dir[0], max_sentence_tokens=8)
    demo = app.Demo({"en-de": translator}, max_input_chars=100, results=results)
    data = b"one two\n" + b"one two three four five six seven eight nine\nthree\n"
    out, status = demo.translate_file(upload(tmp_path, data), "", 2, 0.6)
    lines = Path(out).read_text(encoding="utf-8").split("\n")
    assert lines[0] == "two one" and lines[1] == "" and lines[2] == "three"
    assert "2 translated, 1 left empty" in status and "line 2." in status


def test_invisible_lines_never_reach_the_model(fake, tmp_path):
    translator, demo = fake
    data = "one\n\u200b\n\ufeff\u200e\nx\x01y\n".encode()
    out, _ = demo.translate_file(upload(tmp_path, data), "", 2, 0.6)
    assert translator.seen == ["one", "x\x01y"]
    assert Path(out).read_text(encoding="utf-8") == "one\n\n\nx\x01y\n"


def test_translate_file_refuses_non_utf8_naming_line_and_byte(fake, tmp_path):
    _, demo = fake
    with pytest.raises(gr.Error, match=r"not UTF-8 text: line 2, byte 4 "):
        demo.translate_file(upload(tmp_path, b"ok\ncaf\xe9\n"), "", 2, 0.6)
    with pytest.raises(gr.Error, match="Upload a .txt file"):
        demo.translate_file(None, "", 2, 0.6)


# --- input and parameter checks --------------------------------------------------------


@pytest.mark.parametrize("text", [*INVISIBLE_TEXTS, None])
def test_invisible_text_counts_as_empty(fake, text):
    translator, demo = fake
    with pytest.raises(gr.Error, match="Type a sentence to translate."):
        demo.api_translate(text)
    with pytest.raises(gr.Error, match="Type a sentence to translate."):
        demo.api_attention(text)
    assert translator.seen == []


def test_visible_text_with_format_characters_is_kept():
    assert app.visible(" a\u200bb ") == "a\u200bb"
    assert app.visible("é") == "é"


def test_an_empty_model_output_says_so(fake):
    _, demo = fake
    with pytest.raises(gr.Error, match="translation of this input is empty"):
        demo.api_translate("EMPTY")
    assert demo.api_beam("EMPTY")["hypotheses"][0]["text"] == ""


BAD_PARAMETERS = [
    ("api_translate", ("a b", "", "abc"), "beam_size must be a whole number"),
    ("api_translate", ("a b", "", None), "beam_size must be a whole number"),
    ("api_translate", ("a b", "", math.nan), "beam_size must be a whole number"),
    ("api_translate", ("a b", "", math.inf), "beam_size must be a whole number"),
    ("api_translate", ("a b", "", 2.5), "beam_size must be a whole number"),
    ("api_translate", ("a b", "", 11), "beam_size must be between 1 and 10"),
    ("api_translate", ("a b", "", 5, math.nan), "length_penalty must be a number"),
    ("api_translate", ("a b", "", 5, 1e308), "length_penalty must be a number"),
    ("api_translate", ("a b", "", 5, -100), "length_penalty must be a number"),
    ("api_translate", ("a b", "", 5, "0.6"), "length_penalty must be a number"),
    ("api_translate", (5,), "The text must be a string, got int"),
    ("api_translate", (["a"],), "The text must be a string, got list"),
    ("api_translate", ({"a": 1},), "The text must be a string, got dict"),
    ("api_translate", ("a b", "zz-yy"), "Unknown direction zz-yy. Available: xx-yy."),
    ("api_translate", ("a b", 3), "Unknown direction 3. Available: xx-yy."),
    ("api_beam", ("a b", "", 5, None), "n_best must be a whole number"),
    ("api_beam", ("a b", "", 5, 0), "n_best must be between 1 and 10"),
    ("api_attention", ("a b", "", 5, 2.5), "rank must be a whole number"),
    ("api_attention", ("a b", "", 5, "1"), "rank must be a whole number"),
    ("api_attention", ("a b", "", 5, 2), "rank must be between 1 and 1, got 2"),
    ("api_beam_tree", ("a b", "", 0), "beam_size must be between 1 and 10"),
    ("api_beam_tree", (7,), "The text must be a string, got int"),
]


@pytest.mark.parametrize("endpoint, args, message", BAD_PARAMETERS)
def test_bad_parameters_get_a_clear_message(fake, endpoint, args, message):
    _, demo = fake
    with pytest.raises(gr.Error) as error:
        getattr(demo, endpoint)(*args)
    assert error.value.message.startswith(message), error.value.message


def test_json_answers_never_contain_nan(fake):
    _, demo = fake  # the fake's scores are NaN
    answer = demo.api_beam("a b", "", 2, 1, 0.6)
    json.dumps(answer, allow_nan=False)
    assert answer["hypotheses"][0]["score"] is None
    result = demo.translation("a b", "", 2, 1, 0.6)
    json.loads(views.attention_json(result), parse_constant=pytest.fail)


# --- result files ------------------------------------------------------------------------


def test_result_files_live_in_one_folder_inside_gradios_cache(demo):
    result = demo.translation("one two three", "", 4, 3, 0.0)
    files, note = demo.export_files(result)
    assert note == "" and [Path(f).name for f in files] == ["candidates.tsv", "attention.json",
                                                            "alignment.pharaoh"]  # fmt: skip
    assert all(Path(f).parent.parent == demo.results.path for f in files)
    real = app.ResultFolder()
    try:  # by default inside Gradio's upload folder: served as is, never copied
        assert real.path.parent == Path(gr.utils.get_upload_folder())
    finally:
        real.close()
    assert not real.path.exists()


def test_stale_result_files_are_deleted(results):
    old, new = (Path(results.write({"a.txt": "x"})[0]).parent for _ in range(2))
    an_hour_ago = time.time() - results.max_age - 1
    os.utime(old, (an_hour_ago, an_hour_ago))
    results.write({"b.txt": "y"})
    assert not old.exists() and new.exists()
    results.close()
    assert not results.path.exists()


def test_a_request_cannot_produce_more_than_the_cap(fake, results):
    translator, _ = fake
    demo = app.Demo({"xx-yy": translator}, results=results, max_result_bytes=2000)
    result = demo.translation("a b c d e f g h i j k l m n o p q r s t", "", 2, 1, 0.6)
    files, note = demo.export_files(result)
    assert [Path(f).name for f in files] == ["candidates.tsv", "alignment.pharaoh"]
    assert "The attention export would be" in note and "not offered" in note
    with pytest.raises(gr.Error, match=r"attention matrix .*would be .* the limit is 2,000 bytes"):
        demo.api_attention("a b c d e f g h i j k l m n o p q r s t " * 4)


# --- the page ------------------------------------------------------------------------------


def changes_nothing(answer: dict, outputs) -> bool:
    """A handler's answer that Gradio takes as "no change": at least one entry, every one
    a skip, for widgets among the event's outputs."""
    skip = gr.skip()
    return bool(answer) and set(answer) <= set(outputs) and all(v == skip for v in answer.values())


@pytest.fixture
def page(demo):
    with gr.Blocks():
        widgets = app.layout(demo)
    return app.Events(demo, widgets), widgets


def test_handlers_return_widget_dicts(page):
    events, w = page
    request = SimpleNamespace(headers={"referer": "http://x/?a=1"})
    out = events.translate("one two", "en-de", 4, 3, 0.6, "two one", False, False, False,
                           request)  # fmt: skip
    assert set(out) == {*w.views(), w.link}
    assert out[w.best] == "two one" and out[w.selected] == 0
    assert out[w.link] == "http://x/?text=one+two&beam=4&n=3&lp=0.6&dir=en-de"
    assert out[w.tree] == app.TREE_HINT and out[w.result].tree is None
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
    result = events.translate("one fourfive six", "en-de", 4, 3, 0.6, "", False, False, False,
                              request)[w.result]  # fmt: skip
    out = events.change_level(result, 0, False, True)
    assert set(out) == {*w.attention_views(), w.files}
    assert [word for word, _ in out[w.target_tokens]] == result.best.split()  # no </s>
    (pharaoh,) = [f for f in out[w.files] if f.endswith(".pharaoh")]
    expected = views.pharaoh_text(result, word_level=True)
    assert Path(pharaoh).read_text(encoding="utf-8") == expected != views.pharaoh_text(result)
    assert "Coverage and confidence" in out[w.coverage]
    assert changes_nothing(events.change_level(None, 0, False, True), w.attention_views())


def test_beam_tree_endpoint_answers_json(demo):
    answer = demo.api_beam_tree("one two three. Four five", "", 3, 2, 0.6)
    json.dumps(answer, allow_nan=False)
    assert [s["source"] for s in answer["sentences"]] == ["one two three.", "Four five"]
    for sentence in answer["sentences"]:
        nodes = sentence["nodes"]
        assert sentence["beam_size"] == 3 and sentence["steps"] == nodes[-1]["step"] + 1
        assert [n["rank"] for n in nodes if n["rank"]] != []
        assert all(n["parent"] is None or nodes[n["parent"]]["step"] == n["step"] - 1
                   for n in nodes)  # fmt: skip
    best = demo.api_beam("one two three", "", 3, 2, 0.6)["hypotheses"]
    (sentence,) = demo.api_beam_tree("one two three", "", 3, 2, 0.6)["sentences"]
    ends = sorted((n for n in sentence["nodes"] if n["rank"]), key=lambda n: n["rank"])
    assert [n["score"] for n in ends] == [h["score"] for h in best]


def test_direction_choices_are_label_code_pairs(page):
    _, w = page
    assert w.direction.choices == [("English → German (en-de)", "en-de")]
    assert w.direction.value == "en-de"
    assert w.compare_button is None and w.compare_slots == []  # one model per direction


def test_a_rival_model_is_warmed_at_the_default_beam_only(tiny_model_dir, tiny_luong_dir):
    # A second architecture has graphs of its own (~20 MB each): the rival gets the
    # default beam's graphs, the direction's own model every beam and the trees.
    translators, _ = app.load_translators([str(tiny_model_dir[0]), str(tiny_luong_dir)])
    asked = {}
    for code, translator in translators.items():
        translator.warm_up = lambda code=code, **buckets: asked.setdefault(code, buckets) and []
    app.warm_up(translators)
    assert asked["en-de"]["beams"] == (1, 5, 10) and asked["en-de"]["trees"] == app.WARM_TREES
    assert asked["en-de-luong"]["beams"] == app.RIVAL_BEAMS == (5,)
    assert asked["en-de-luong"]["trees"] == ()
    assert asked["en-de"]["widths"] == asked["en-de-luong"]["widths"] == app.WARM_WIDTHS


def test_a_second_model_of_a_direction_is_offered_and_compared(
    tiny_model_dir, tiny_luong_dir, results, monkeypatch
):
    translators, errors = app.load_translators([str(tiny_model_dir[0]), str(tiny_luong_dir)])
    assert list(translators) == ["en-de", "en-de-luong"] and errors == []
    demo = app.Demo(translators, max_input_chars=100, results=results)
    with gr.Blocks():
        w = app.layout(demo)
    events = app.Events(demo, w)
    assert [code for _, code in w.direction.choices] == ["en-de", "en-de-luong"]
    assert "luong_general attention" in w.direction.choices[1][0]
    assert demo.rivals("en-de-luong") == ["en-de-luong", "en-de"]  # the selected one first

    drawn = []
    real = views.attention_figure

    def recording(src, tgt, matrix, title, unit):
        drawn.append((title, tgt, matrix, unit))
        return real(src, tgt, matrix, title, unit)

    monkeypatch.setattr(views, "attention_figure", recording)
    out = events.compare("one two three", "en-de", 3, 0.6, False, True)
    assert set(out) == {widget for slot in w.compare_slots for widget in slot}
    assert [title for title, *_ in drawn] == ["en-de", "en-de-luong"]
    for (summary, plot), (key, tgt, matrix, unit), formula in zip(
        w.compare_slots, drawn, ["vᵀ tanh(W s + U hⱼ)", "sᵀ W hⱼ"]
    ):
        best = demo.translation("one two three", key, 3, 1, 0.6).hypotheses[0]
        text = out[summary].value
        assert formula in text and f"> {best.text}" in text and f"{best.score:.3f}" in text
        assert unit == "words" and tgt == best.text.split() and matrix.shape[0] == len(tgt)
        assert out[plot].value["type"] == "matplotlib"
    # Two attention mechanisms, two different maps of the same sentence.
    assert not np.allclose(drawn[0][2], drawn[1][2])
    # The panel of each model states its attention formula.
    assert "sᵀ W hⱼ" in views.model_markdown(translators["en-de-luong"].bundle, None)


def test_model_keys_of_rivals():
    def fake(attention):
        config = SimpleNamespace(attention=attention)
        return SimpleNamespace(bundle=SimpleNamespace(direction="en-de"),
                               model=SimpleNamespace(model_config=config))  # fmt: skip

    taken = {"en-de": None}
    assert app.model_key("models/en-de", fake("bahdanau"), {}) == "en-de"
    assert app.model_key("models/en-de-luong/", fake("luong_general"), taken) == "en-de-luong"
    assert app.model_key("user/nmt@v2", fake("luong_dot"), taken) == "en-de-luong_dot"
    taken["en-de-luong_dot"] = None
    assert app.model_key("other/nmt", fake("luong_dot"), taken) == "en-de-luong_dot#2"


@pytest.mark.parametrize(
    "query, expected",
    [({}, ("", "xx-yy", 5, 3, 0.6)),
     ({"text": "a", "dir": "xx-yy", "beam": "4", "n": "2", "lp": "1"}, ("a", "xx-yy", 4, 2, 1.0)),
     ({"dir": "English", "beam": "99", "n": "abc", "lp": "nan"}, ("", "xx-yy", 10, 3, 0.6))],
)  # fmt: skip
def test_query_string_prefill(fake, query, expected):
    _, demo = fake
    assert app.from_query(demo, SimpleNamespace(query_params=query)) == expected


def test_each_model_has_its_own_length_penalty(results):
    """The model's α where none is given (API None, a link without ``lp``); a given α
    wins."""
    one, two = FakeTranslator(0.6), FakeTranslator(1.25)
    two.bundle = SimpleNamespace(direction="yy-xx", path="/nonexistent")
    two.model = SimpleNamespace(model_config=SimpleNamespace(src_lang="yy", tgt_lang="xx"))
    demo = app.Demo({"xx-yy": one, "yy-xx": two}, max_input_chars=100, results=results)
    assert demo.api_beam("a b", "yy-xx", 3, 1)["length_penalty"] == 1.25
    assert demo.api_beam("a b", "yy-xx", 3, 1, None)["length_penalty"] == 1.25
    assert demo.api_beam("a b", "yy-xx", 3, 1, 0.2)["length_penalty"] == 0.2
    assert demo.api_beam("a b", "xx-yy", 3, 1)["length_penalty"] == 0.6
    query = SimpleNamespace(query_params={"text": "a", "dir": "yy-xx"})
    assert app.from_query(demo, query).alpha == 1.25
    query.query_params["lp"] = "0.3"
    assert app.from_query(demo, query).alpha == 0.3


def test_the_alpha_slider_starts_and_resets_at_the_models(tiny, results):
    import copy

    other = copy.copy(tiny)
    other.default_options = DecodeOptions(length_penalty=1.25)
    demo = app.Demo({"en-de": tiny, "en-de-x": other}, max_input_chars=100, results=results)
    with gr.Blocks() as blocks:
        widgets = app.layout(demo)
        app.wire(blocks, widgets, app.Events(demo, widgets))
    assert widgets.alpha.value == 0.6  # the first direction's
    [reset] = [d for d in blocks.fns.values() if d.targets == [(widgets.direction._id, "input")]]
    assert [o._id for o in reset.outputs] == [widgets.alpha._id]
    assert reset.fn("en-de-x") == 1.25 and reset.fn("en-de") == 0.6


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
    monkeypatch.setattr(app, "load_translators", lambda specs, precision: ({"en-de": tiny}, []))
    monkeypatch.setattr(gr.Blocks, "block_thread", block_thread)
    monkeypatch.setattr(app.signal, "signal", lambda *args: None)
    app.main(["--port", str(port), "--cache-dir", ""])
    assert seen == [(200, "warm-up")]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_freed_large_blocks_go_back_to_the_system():
    import ctypes

    from benchmarks.common import rss_mb

    assert app.limit_heap_growth()
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
    evaluation = {"bleu": 1.0, "chrf": 2.0, "beam_size": 5, "length_penalty": 1.5,
                  "sentences": 3, "bleu_signature": "b", "chrf_signature": "c"}  # fmt: skip
    text = views.model_markdown(own, evaluation)
    assert "**Length penalty α:** 1.5 (chosen on dev X)" in text
    assert "(3 sentences, beam 5, α 1.5): BLEU **1.0**" in text
    assert "**Length penalty α:** 0.6 (the library's default)" in views.model_markdown(
        tiny.bundle, None
    )


def test_one_decoding_limit_for_all_endpoints(results):
    """Twelve requests at once over the four API endpoints: at most ``concurrency`` of them
    decode at the same time (the limit is the process', not each endpoint's)."""
    import threading
    from concurrent.futures import ThreadPoolExecutor

    class Slow(FakeTranslator):
        def __init__(self):
            super().__init__()
            self.now = self.most = 0
            self.lock = threading.Lock()

        def translate(self, texts, options, **kwargs):
            with self.lock:
                self.now += 1
                self.most = max(self.most, self.now)
            time.sleep(0.2)
            with self.lock:
                self.now -= 1
            return super().translate(texts, options, **kwargs)

    translator = Slow()
    demo = app.Demo({"xx-yy": translator}, results=results, concurrency=2)
    calls = [demo.api_translate, demo.api_beam, demo.api_attention, demo.api_beam_tree] * 3
    with ThreadPoolExecutor(12) as pool:
        list(pool.map(lambda call: call("one two three"), calls))
    assert translator.most == 2 and len(translator.seen) == 12


def test_answers_sure_to_be_too_large_are_refused_before_decoding(fake):
    """Many short sentences at beam 10: the tree and the attention matrix are refused from
    the input's size alone, without decoding; a small input is answered."""
    translator, demo = fake
    demo.max_result_bytes, demo.max_input_chars = 100_000, 2000
    text = "Hi. " * 499
    for call in (demo.api_beam_tree, demo.api_attention):
        with pytest.raises(gr.Error, match=r"estimated before decoding\) would be"):
            call(text, "", 10)
    assert translator.seen == []
    assert demo.api_beam_tree("one two", "", 10)["sentences"] == []  # (the fake has no tree)
    assert translator.seen == ["one two"]
