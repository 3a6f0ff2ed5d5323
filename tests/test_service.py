"""The request service without Gradio or a server: file batches keep their line count, bad
input gets a clear message (a Refusal), result files stay in one folder, one decoding
limit for the process."""

import json
import math
import os
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import INVISIBLE_TEXTS
from fakes import FakeTranslator, upload

from webapp import views
from webapp.files import Refusal, split_lines
from webapp.links import from_query
from webapp.service import TranslationService, visible


def test_the_service_imports_no_gradio():
    import subprocess

    code = "import sys, webapp.service, webapp.links; print('gradio' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    assert result.stdout == "False\n", result.stderr[-2000:]


def test_translate_file_keeps_lines(service, tmp_path):
    source = tmp_path / "in.txt"
    source.write_bytes(b"one two\n\nthree four five\n   \nsix\n")
    kept = service.take_upload(str(source))
    assert not source.exists()  # the upload is deleted once read into the session
    out, status = service.translate_file(kept, "", 2, 0.6)
    lines = Path(out).read_text(encoding="utf-8").split("\n")
    assert lines[:-1] == ["two one", "", "five four three", "", "six"]
    assert status == "5 lines translated."
    assert Path(out).parent.parent == service.results.path
    assert Path(out).name == "in.translated.txt"
    again, _ = service.translate_file(kept, "", 2, 0.6)  # a second click works again
    assert Path(again).read_text(encoding="utf-8") == Path(out).read_text(encoding="utf-8")


def test_uploads_never_reach_other_files(fake, tmp_path):
    """Only a file the upload just wrote is read: a result file of another visitor (in
    the app's result folder) is refused and left in place, and a path given to the
    translate step itself is no upload at all."""
    translator, service = fake
    (theirs,) = service.results.write({"secret.translated.txt": "their text\n"})
    with pytest.raises(Refusal, match="not an upload of this page"):
        service.take_upload(theirs)
    assert Path(theirs).read_text(encoding="utf-8") == "their text\n"
    with pytest.raises(Refusal, match="not an upload of this page"):
        service.take_upload(str(tmp_path / "gone.txt"))
    with pytest.raises(Refusal, match="Upload a .txt file"):
        service.translate_file(theirs, "", 2, 0.6)
    assert Path(theirs).exists() and translator.seen == []


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85", "\f", "\v", "\x1c", "\r"])
def test_file_lines_split_only_on_newline(fake, tmp_path, separator):
    translator, service = fake
    data = f"one{separator}two\r\nthree\nfour{separator}five\n".encode()
    assert split_lines(data) == [f"one{separator}two", "three", f"four{separator}five"]
    out, status = service.translate_file(upload(tmp_path, data), "", 2, 0.6)
    assert len(Path(out).read_text(encoding="utf-8").split("\n")) == 3 + 1
    assert status == "3 lines translated."


def test_split_lines_ends():
    assert split_lines(b"") == []
    assert split_lines(b"a") == ["a"]
    assert split_lines(b"a\n\n") == ["a", ""]
    assert split_lines(b"\xef\xbb\xbfa\r\nb") == ["a", "b"]  # BOM and CRLF


def test_bad_lines_are_left_empty_and_named(fake, tmp_path):
    translator, service = fake
    data = "one two\n" + "x" * 101 + "\nthree HUGE four\nfive six\n"
    out, status = service.translate_file(upload(tmp_path, data.encode()), "", 2, 0.6)
    assert Path(out).read_text(encoding="utf-8").split("\n") == ["two one", "", "", "six five", ""]
    assert status.startswith("4 lines: 2 translated, 2 left empty")
    assert "line 2, 3." in status and "over 100 characters" in status


def test_a_line_over_the_token_cap_is_left_empty_with_the_real_library(
    tiny_model_dir, tmp_path, results
):
    from seq2seq.translator import Translator

    translator = Translator.load(tiny_model_dir[0], max_sentence_tokens=8)
    service = TranslationService({"en-de": translator}, max_input_chars=100, results=results)
    data = b"one two\n" + b"one two three four five six seven eight nine\nthree\n"
    out, status = service.translate_file(upload(tmp_path, data), "", 2, 0.6)
    lines = Path(out).read_text(encoding="utf-8").split("\n")
    assert lines[0] == "two one" and lines[1] == "" and lines[2] == "three"
    assert "2 translated, 1 left empty" in status and "line 2." in status


def test_invisible_lines_never_reach_the_model(fake, tmp_path):
    translator, service = fake
    data = "one\n\u200b\n\ufeff\u200e\nx\x01y\n".encode()
    out, _ = service.translate_file(upload(tmp_path, data), "", 2, 0.6)
    assert translator.seen == ["one", "x\x01y"]
    assert Path(out).read_text(encoding="utf-8") == "one\n\n\nx\x01y\n"


def test_translate_file_refuses_non_utf8_naming_line_and_byte(fake, tmp_path):
    _, service = fake
    with pytest.raises(Refusal, match=r"not UTF-8 text: line 2, byte 4 "):
        service.translate_file(upload(tmp_path, b"ok\ncaf\xe9\n"), "", 2, 0.6)
    with pytest.raises(Refusal, match="Upload a .txt file"):
        service.translate_file(None, "", 2, 0.6)


@pytest.mark.parametrize("text", [*INVISIBLE_TEXTS, None])
def test_invisible_text_counts_as_empty(fake, text):
    translator, service = fake
    with pytest.raises(Refusal, match="Type a sentence to translate."):
        service.api_translate(text)
    with pytest.raises(Refusal, match="Type a sentence to translate."):
        service.api_attention(text)
    assert translator.seen == []


def test_visible_text_with_format_characters_is_kept():
    assert visible(" a\u200bb ") == "a\u200bb"
    assert visible("é") == "é"


def test_an_empty_model_output_says_so(fake):
    _, service = fake
    with pytest.raises(Refusal, match="translation of this input is empty"):
        service.api_translate("EMPTY")
    assert service.api_beam("EMPTY")["hypotheses"][0]["text"] == ""


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
    _, service = fake
    with pytest.raises(Refusal) as error:
        getattr(service, endpoint)(*args)
    assert str(error.value).startswith(message), str(error.value)


def test_json_answers_never_contain_nan(fake):
    _, service = fake  # the fake's scores are NaN
    answer = service.api_beam("a b", "", 2, 1, 0.6)
    json.dumps(answer, allow_nan=False)
    assert answer["hypotheses"][0]["score"] is None
    result = service.translation("a b", "", 2, 1, 0.6)
    json.loads(views.attention_json(result), parse_constant=pytest.fail)


def test_result_files_live_in_one_folder(service):
    result = service.translation("one two three", "", 4, 3, 0.0)
    files, note = service.export_files(result)
    assert note == "" and [Path(f).name for f in files] == [
        "candidates.tsv",
        "attention.json",
        "alignment.pharaoh",
        "attention.png",
    ]
    assert Path(files[3]).read_bytes()[:4] == b"\x89PNG"
    assert all(Path(f).parent.parent == service.results.path for f in files)


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
    service = TranslationService({"xx-yy": translator}, results=results, max_result_bytes=2000)
    result = service.translation("a b c d e f g h i j k l m n o p q r s t", "", 2, 1, 0.6)
    files, note = service.export_files(result)
    assert [Path(f).name for f in files] == ["candidates.tsv", "alignment.pharaoh", "attention.png"]
    assert "The attention export would be" in note and "not offered" in note
    with pytest.raises(Refusal, match=r"attention matrix .*would be .* the limit is 2,000 bytes"):
        service.api_attention("a b c d e f g h i j k l m n o p q r s t " * 4)


def test_beam_tree_endpoint_answers_json(service):
    answer = service.api_beam_tree("one two three. Four five", "", 3, 2, 0.6)
    json.dumps(answer, allow_nan=False)
    assert [s["source"] for s in answer["sentences"]] == ["one two three.", "Four five"]
    for sentence in answer["sentences"]:
        nodes = sentence["nodes"]
        assert sentence["beam_size"] == 3 and sentence["steps"] == nodes[-1]["step"] + 1
        assert [n["rank"] for n in nodes if n["rank"]] != []
        assert all(
            n["parent"] is None or nodes[n["parent"]]["step"] == n["step"] - 1 for n in nodes
        )
    best = service.api_beam("one two three", "", 3, 2, 0.6)["hypotheses"]
    (sentence,) = service.api_beam_tree("one two three", "", 3, 2, 0.6)["sentences"]
    ends = sorted((n for n in sentence["nodes"] if n["rank"]), key=lambda n: n["rank"])
    assert [n["score"] for n in ends] == [h["score"] for h in best]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ("", "xx-yy", 5, 3, 0.6)),
        (
            {"text": "a", "dir": "xx-yy", "beam": "4", "n": "2", "lp": "1"},
            ("a", "xx-yy", 4, 2, 1.0),
        ),
        ({"dir": "English", "beam": "99", "n": "abc", "lp": "nan"}, ("", "xx-yy", 10, 3, 0.6)),
    ],
)
def test_query_string_prefill(fake, query, expected):
    _, service = fake
    assert from_query(service, SimpleNamespace(query_params=query)) == expected


def test_each_model_has_its_own_length_penalty(results):
    """The model's α where none is given (API None, a link without ``lp``); a given α
    wins."""
    one, two = FakeTranslator(0.6), FakeTranslator(1.25)
    two.bundle = SimpleNamespace(direction="yy-xx", path="/nonexistent")
    two.model = SimpleNamespace(model_config=SimpleNamespace(src_lang="yy", tgt_lang="xx"))
    service = TranslationService({"xx-yy": one, "yy-xx": two}, max_input_chars=100, results=results)
    assert service.api_beam("a b", "yy-xx", 3, 1)["length_penalty"] == 1.25
    assert service.api_beam("a b", "yy-xx", 3, 1, None)["length_penalty"] == 1.25
    assert service.api_beam("a b", "yy-xx", 3, 1, 0.2)["length_penalty"] == 0.2
    assert service.api_beam("a b", "xx-yy", 3, 1)["length_penalty"] == 0.6
    query = SimpleNamespace(query_params={"text": "a", "dir": "yy-xx"})
    assert from_query(service, query).alpha == 1.25
    query.query_params["lp"] = "0.3"
    assert from_query(service, query).alpha == 0.3


def test_one_decoding_limit_for_all_endpoints(results):
    """Fifteen requests at once over five API endpoints: at most ``concurrency`` of them
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
    service = TranslationService({"xx-yy": translator}, results=results, concurrency=2)
    calls = [
        service.api_translate,
        service.api_beam,
        service.api_attention,
        service.api_beam_tree,
        service.api_force,
    ] * 3
    with ThreadPoolExecutor(15) as pool:
        list(pool.map(lambda call: call("one two three"), calls))
    assert translator.most == 2 and len(translator.seen) == 15


def test_answers_sure_to_be_too_large_are_refused_before_decoding(fake):
    """Many short sentences at beam 10: the tree and the attention matrix are refused from
    the input's size alone, without decoding; a small input is answered."""
    translator, service = fake
    service.max_result_bytes, service.max_input_chars = 100_000, 2000
    text = "Hi. " * 499
    for call in (service.api_beam_tree, service.api_attention):
        with pytest.raises(Refusal, match=r"estimated before decoding\) would be"):
            call(text, "", 10)
    assert translator.seen == []
    assert service.api_beam_tree("one two", "", 10)["sentences"] == []  # (the fake has no tree)
    assert translator.seen == ["one two"]


def test_a_model_without_attention_is_served_without_attention(results):
    """``/beam`` and the page's views answer for a model without attention; ``/attention``
    says in plain words that it has none (before decoding); the downloads hold no
    alignments and no attention rows; the coverage view says why it has nothing."""
    translator = FakeTranslator(attends=False)
    rival = TranslationService({"xx-yy": translator}, results=results)
    answer = rival.api_beam("a b c", "", 3, 1, 0.6)
    assert answer["attends"] is False and answer["hypotheses"][0]["text"] == "c b a"
    assert "attention" not in answer["hypotheses"][0]
    seen = len(translator.seen)
    with pytest.raises(Refusal, match=r"^This model has no attention: .* Ask /beam"):
        rival.api_attention("a b c")
    assert len(translator.seen) == seen  # refused before decoding
    result = rival.translation("a b c", "", 3, 1, 0.6)
    files, note = rival.export_files(result)
    assert note == "" and [Path(f).name for f in files] == ["candidates.tsv", "attention.json"]
    exported = json.loads(Path(files[1]).read_text())
    assert exported["attends"] is False and "attention" not in exported["hypotheses"][0]
    coverage = views.coverage_markdown(result, result.hypotheses[0])
    assert "no attention" in coverage and "⚠" not in coverage
    assert views.token_shading(["a", "b"], [0.0, 0.0], shaded=False) == [("a", None), ("b", None)]
    assert FakeTranslator().translate(["a b"], FakeTranslator().default_options)[0].attends


def test_the_score_endpoint_ranks_a_given_translation(service):
    """``/score`` of the beam's best is its score and rank 1; of a wrong translation, a
    lower score, no rank, and the model's own first piece beside the given one."""
    best = service.api_beam("one two three", "", 4, 4, 0.6)["hypotheses"][0]
    answer = service.api_score("one two three", "", best["text"], 4, 0.6)
    json.dumps(answer, allow_nan=False)
    assert answer["rank"] == 1 and answer["score"] == pytest.approx(best["score"], abs=1e-4)
    assert [t["piece"] for t in answer["tokens"]] == best["pieces"]
    assert all(t["rank"] == 1 for t in answer["tokens"])
    assert len(answer["attention"]) == len(best["pieces"]) and answer["source_tokens"]
    wrong = service.api_score("one two three", "", "one one one one", 4, 0.6)
    assert wrong["rank"] is None and wrong["score"] < min(wrong["beam_scores"])
    assert wrong["tokens"][0]["best_piece"] == best["pieces"][0] != wrong["tokens"][0]["piece"]


@pytest.mark.parametrize(
    "text, translation, message",
    [
        ("one two", "  ", "Type the translation to score"),
        ("", "eins", "Type a sentence"),
        ("one two", "x" * 101, "The translation has 101 characters; the limit is 100"),
    ],
)
def test_the_score_endpoint_refuses_clearly(service, text, translation, message):
    with pytest.raises(Refusal, match=message):
        service.api_score(text, "", translation)


def test_the_force_endpoint_starts_every_candidate_with_the_prefix(service):
    answer = service.api_force("one two three", "", "two", 4, 4, 0.6)
    json.dumps(answer, allow_nan=False)
    assert answer["hypotheses"] and all(h["text"].startswith("two") for h in answer["hypotheses"])
    plain = service.api_force("one two three", "", "", 4, 4, 0.6)
    assert plain["hypotheses"][0]["text"] == service.api_translate("one two three", "", 4, 0.6)
    with pytest.raises(Refusal, match="the prefix has .* pieces; a translation of this text"):
        service.api_force("one", "", "two " * 20, 4, 4, 0.6)
    with pytest.raises(Refusal, match="The prefix must be a string"):
        service.api_force("one", "", 5)
