"""Every kind of input gets a translation or a clear message; broken model folders are
named; concurrent use equals sequential use."""

import json
import shutil
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from conftest import INVISIBLE_TEXTS, reverse_task
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seq2seq import bundle
from seq2seq.compiled import WIDTHS as WIDTHS_ALL
from seq2seq.translator import Translator

ROOT = Path(__file__).resolve().parents[1]

ODD_INPUTS = [
    "",
    "   \t\n ",
    "one\x00two\x07three\x1b",
    "zero\u200bwidth\u200d and \u202ebidi\u202c marks",
    "emoji 😀🎉👩‍👩‍👧",
    "中文和日本語のテキスト",
    "مرحبا بالعالم",
    "Привет, мир",
    "<script>alert('x')</script> <b>bold</b> &amp;",
    "lone \ud800 surrogate \udfff",
    "one. two! three? four…",
]


@pytest.fixture(scope="module")
def translator(tiny_model_dir):
    return Translator.load(tiny_model_dir[0], jit_compile=False, max_sentence_tokens=120)


def check_well_formed(result):
    for h in result.hypotheses:
        assert isinstance(h.text, str)
        assert h.attention.shape == (len(h.ids), len(result.source_pieces))
        assert np.isfinite(h.attention).all() and np.isfinite(h.log_prob)
        assert len(h.token_log_probs) == len(h.ids) == len(h.pieces)


@pytest.mark.slow
@pytest.mark.parametrize("text", ODD_INPUTS)
def test_odd_inputs_translate(translator, text):
    (result,) = translator.translate([text], beam_size=3, n_best=2)
    check_well_formed(result)
    if not text.strip():
        assert result.hypotheses == [] and result.best == ""


def test_caps_give_clear_messages(translator):
    with pytest.raises(ValueError, match="subword tokens; the limit is 120"):
        translator.translate(["a" * 5000])  # one very long token
    with pytest.raises(ValueError, match="characters; the limit is 20000"):
        translator.translate(["one two. " * 12_000])  # a 100 KB paste
    with pytest.raises(ValueError, match="beam_size must be between 1 and 10"):
        translator.translate(["one"], beam_size=50)
    with pytest.raises(ValueError, match="n_best must be between 1 and 10"):
        translator.translate(["one"], n_best=99, temperature=1.0)


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=120), beam=st.integers(1, 4))
def test_fuzz_library(translator, text, beam):
    try:
        (result,) = translator.translate([text], beam_size=beam, n_best=beam)
    except ValueError as e:  # only the documented caps may refuse
        assert "limit" in str(e)
        return
    check_well_formed(result)


BAD_OPTIONS = [
    {"beam_size": "abc"},
    {"beam_size": None},
    {"beam_size": float("nan")},
    {"beam_size": float("inf")},
    {"beam_size": 2.5},
    {"beam_size": 0},
    {"beam_size": True},
    {"n_best": None},
    {"n_best": 6, "beam_size": 5},
    {"length_penalty": None},
    {"length_penalty": float("nan")},
    {"length_penalty": float("inf")},
    {"length_penalty": 1e308},
    {"length_penalty": -100},
    {"temperature": float("nan")},
    {"temperature": -1},
    {"top_k": -1},
    {"top_k": 10**7},
    {"seed": -1},
    {"seed": "x"},
]


@pytest.mark.parametrize("fields", BAD_OPTIONS, ids=repr)
def test_bad_decode_options_are_refused_by_name(translator, fields):
    name = next(iter(fields)) if len(fields) == 1 else "n_best"
    with pytest.raises(ValueError, match=name):
        translator.translate(["one"], **fields)


@pytest.mark.parametrize("text", INVISIBLE_TEXTS)
def test_invisible_text_counts_as_empty(translator, text):
    (result,) = translator.translate([text])
    assert result.hypotheses == [] and result.best == ""


@pytest.mark.slow
def test_compiled_graphs_stay_within_the_buckets(tiny_model_dir):
    from seq2seq.compiled import BEAM_SLOTS, ROWS, WIDTHS

    translator = Translator.load(tiny_model_dir[0], batch_size=4)
    words = [s for s, _ in reverse_task(40, seed=5, min_len=1, max_len=12)]
    for i, beam in enumerate([1, 2, 3, 6, 9, 10]):
        translator.translate(words[i : i + 1 + i % 3], beam_size=beam, split=False)
    graphs = translator.search.graphs()
    assert {rows for rows, *_ in graphs} <= {*ROWS, *translator.search.rows, None}
    for _, width, *_ in graphs:  # past the last bucket (evaluation's cap): multiples of 64
        assert width in (*WIDTHS, None) or (width > WIDTHS[-1] and width % 64 == 0)
    assert {slots for *_, slots in graphs} <= {1, *BEAM_SLOTS}
    assert len(graphs) <= len(translator.search.rows) * len(WIDTHS) * (1 + 2 * len(BEAM_SLOTS))
    translator.translate(["one two"], beam_size=4)
    seen = len(translator.search.graphs())
    translator.translate(["one two"], beam_size=3)  # beams 2-5 share one graph
    translator.translate(["one two"], beam_size=2)
    assert len(translator.search.graphs()) == seen


@pytest.mark.slow
def test_a_server_never_waits_for_a_new_bucket(tiny_model_dir):
    server = Translator.load(tiny_model_dir[0], batch_size=4, on_demand=False)
    before = set(server.search.graphs())
    (result,) = server.translate(["one two three " * 13], beam_size=7, split=False)
    assert result.best  # answered by the shape-agnostic graph of its mode
    new = set(server.search.graphs()) - before
    assert all(rows is None and width is None for rows, width, *_ in new)
    done = server.warm_up(rows=(1,), beams=(7,))
    assert all(key[0] is not None for key in set(server.search.graphs()) - before - new)
    assert len(done) <= len(WIDTHS_ALL) + 1


def test_concurrent_equals_sequential(tiny_model_dir):
    translator = Translator.load(tiny_model_dir[0])
    jobs = [[s for s, _ in reverse_task(6, seed=k)] for k in range(4)]
    sequential = [[t.best for t in translator.translate(j, beam_size=3)] for j in jobs]
    concurrent: dict[int, list[str]] = {}

    def work(k):
        concurrent[k] = [t.best for t in translator.translate(jobs[k], beam_size=3)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [concurrent[k] for k in range(4)] == sequential


# Characters of every kind a user or a fuzzer sends: letters with and without accents,
# CJK, emoji sequences, lone combining marks, controls and every line-breaking character,
# format characters (zero-width, bidi, BOM), markup, digits and punctuation, lone surrogates.
FUZZ_ALPHABETS = [
    "abcdefghijklmnopqrstuvwxyz     ",
    "ÄÖÜäöüßéèàçñœ",
    "中文日本語한국어的了是",
    "😀🎉👩‍👩‍👧🇩🇪",
    "\u0301\u0308\u20dd",
    "\x00\x07\x1b\t\r\n\x0b\x0c\x1c\x1d\x1e\x85",
    "\u200b\u200d\u202e\u2028\u2029\ufeff",
    "<>&\"'/\\{}[]",
    "0123456789.,!?;:-…",
    "\ud800\udfff",
]


def fuzz_text(rng) -> str:
    alphabets = rng.sample(FUZZ_ALPHABETS, rng.randint(1, 3))
    return "".join(rng.choice(rng.choice(alphabets)) for _ in range(rng.randint(0, 40)))


@pytest.mark.slow
def test_ten_thousand_random_inputs(tiny_model_dir):
    """Each input gets a well-formed translation, an empty answer for empty input, or a
    Translation naming the cap it is over; nothing raises, whatever the characters."""
    import random

    # Outputs capped short: what is tested is the handling of inputs, not long decoding.
    translator = Translator.load(tiny_model_dir[0], batch_size=64, max_len_a=0.5, max_len_b=4)
    rng = random.Random(0)
    texts = [fuzz_text(rng) for _ in range(10_000)]
    outcomes = Counter()
    for start in range(0, len(texts), 1_000):
        chunk = texts[start : start + 1_000]
        results = translator.translate(chunk, beam_size=1, errors="empty")
        assert len(results) == len(chunk)
        for result in results:
            if result.error:
                assert "limit" in result.error or "tokens" in result.error, result.error
                outcomes["over a cap"] += 1
                continue
            check_well_formed(result)
            outcomes["translated" if result.hypotheses else "empty"] += 1
    assert outcomes["translated"] > 5_000, outcomes


def test_the_shape_attack_leaves_a_server_within_its_graphs(tiny_model_dir, tmp_path):
    """Issue 15's attack on an app of the tiny model: every (beam 1-10, source length)
    combination once. A server compiles nothing per request: every answer comes from a
    graph it already had or from one shape-agnostic graph per search mode."""
    from webapp.files import Refusal, ResultFolder
    from webapp.service import TranslationService

    server = Translator.load(tiny_model_dir[0], on_demand=False)
    results = ResultFolder(tmp_path)
    demo = TranslationService({"en-de": server}, results, max_input_chars=2000)
    words = [w for s, _ in reverse_task(200, seed=3, min_len=4, max_len=12) for w in s.split()]
    before = set(server.search.graphs())
    answered = 0
    for beam in range(1, 11):
        for length in range(8, 73, 8):
            text = " ".join(words[beam * length : beam * length + length - 1])
            try:
                answered += bool(demo.api_translate(text, "en-de", beam, 0.6))
            except Refusal as e:  # a clear message is an answer too
                assert "empty" in str(e).lower(), e
    results.close()
    new = set(server.search.graphs()) - before
    assert all(rows is None and width is None for rows, width, *_ in new), new
    assert len(new) <= 3  # greedy, beam 2-5 and beam 6-10
    assert answered > 45


# --- broken model folders -------------------------------------------------------------


@pytest.fixture
def copy(tiny_model_dir, tmp_path):
    target = tmp_path / "model"
    shutil.copytree(tiny_model_dir[0], target)
    return target


def test_missing_file(copy):
    (copy / "tokenizer.model").unlink()
    with pytest.raises(bundle.BundleError, match=r"tokenizer\.model: tokenizer file missing"):
        bundle.load(copy)
    (copy / "config.json").unlink()
    with pytest.raises(bundle.BundleError, match=r"config\.json: missing"):
        bundle.load(copy)


def test_truncated_weights(copy):
    weights = copy / "model.weights.h5"
    weights.write_bytes(weights.read_bytes()[:5000])
    with pytest.raises(bundle.BundleError, match=r"model\.weights\.h5: corrupted"):
        bundle.load(copy)
    drop_digest(copy)  # a folder without a digest (saved before digests): HDF5 refuses it
    with pytest.raises(bundle.BundleError, match=r"model\.weights\.h5: cannot be loaded"):
        bundle.load(copy)


def drop_digest(folder):
    metadata = json.loads((folder / "metadata.json").read_text())
    del metadata[bundle.WEIGHTS_DIGEST]
    (folder / "metadata.json").write_text(json.dumps(metadata))


def test_random_bytes_inside_the_weights_are_refused(copy):
    """64 KiB of random bytes in the middle of the weights (HDF5 still reads such a file,
    with garbage values): the digest recorded at save time no longer matches."""
    weights = copy / "model.weights.h5"
    data = bytearray(weights.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 65536] = np.random.default_rng(0).bytes(65536)
    weights.write_bytes(bytes(data[: len(weights.read_bytes())]))
    with pytest.raises(bundle.BundleError, match=r"model\.weights\.h5: corrupted"):
        bundle.load(copy)


def test_nan_weights_are_refused_and_the_cli_says_so_in_one_line(copy):
    import h5py

    with h5py.File(copy / "model.weights.h5", "r+") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name) if hasattr(obj, "shape") else None)
        embedding = next(n for n in names if "embedding" in n)
        values = f[embedding][...]
        values[: len(values) // 2] = np.nan
        f[embedding][...] = values
    with pytest.raises(bundle.BundleError, match=r"model\.weights\.h5: corrupted"):
        bundle.load(copy)
    drop_digest(copy)  # without a digest the values themselves are checked
    with pytest.raises(bundle.BundleError, match=r"model\.weights\.h5: not finite"):
        bundle.load(copy)
    command = [sys.executable, "-m", "seq2seq.translate", "--model", str(copy)]
    done = subprocess.run(command, input=b"one two\n", capture_output=True, timeout=300, cwd=ROOT)
    assert done.returncode != 0 and done.stdout == b""
    message = done.stderr.decode()
    errors = [line for line in message.splitlines() if line.startswith("error:")]
    assert "Traceback" not in message and len(errors) == 1, message  # (TensorFlow logs too)
    assert "model.weights.h5: not finite" in errors[0]


def test_saving_records_the_digest_of_the_weights(copy):
    metadata = json.loads((copy / "metadata.json").read_text())
    assert metadata[bundle.WEIGHTS_DIGEST] == bundle.weights_digest(copy / "model.weights.h5")


def test_vocabulary_mismatch(copy, tmp_path):
    from seq2seq.tokenizer import Tokenizer

    Tokenizer.train(["some other words entirely"] * 40, vocab_size=290).save(copy)
    with pytest.raises(bundle.BundleError, match=r"tokenizer\.model: vocabulary of \d+ pieces"):
        bundle.load(copy)


def test_wrong_keras_version_and_bad_json(copy):
    metadata = json.loads((copy / "metadata.json").read_text())
    (copy / "metadata.json").write_text(json.dumps({**metadata, "keras_version": "2.15.0"}))
    with pytest.raises(bundle.BundleError, match=r"metadata\.json: saved with Keras 2\.15\.0"):
        bundle.load(copy)
    (copy / "config.json").write_text("{not json")
    with pytest.raises(bundle.BundleError, match=r"config\.json: not valid JSON"):
        bundle.load(copy)


def test_config_cannot_name_other_classes(copy):
    config = json.loads((copy / "config.json").read_text())
    config["class_name"] = "Lambda"
    (copy / "config.json").write_text(json.dumps(config))
    with pytest.raises(bundle.BundleError, match="not a serialized Seq2Seq"):
        bundle.load(copy)


def test_app_refuses_a_broken_default_and_reports_a_broken_extra(tiny_model_dir, copy):
    from webapp.launcher import load_translators

    (copy / "model.weights.h5").write_bytes(b"garbage")
    with pytest.raises(SystemExit, match="cannot load the default model"):
        load_translators([str(copy)])
    translators, errors = load_translators([str(tiny_model_dir[0]), str(copy)])
    assert len(translators) == 1
    assert len(errors) == 1 and "model.weights.h5" in errors[0]
