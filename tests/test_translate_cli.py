"""The translate CLI and word alignments, on the tiny trained model.

Most tests call ``main([...])`` in this process with bytes on a fake stdin/stdout and one
translator per set of caps (fast); two run ``python -m seq2seq.translate`` for real.
"""

import io
import json
import os
import re
import select
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import INVISIBLE_TEXTS

from seq2seq import translate
from seq2seq.alignment import merge_attention, pharaoh, word_index, words

ROOT = Path(__file__).resolve().parents[1]
INPUT = "one two three\n\nfour five\n   \nsix\n"
TRACEBACK = "Traceback (most recent call last)"


@pytest.fixture(scope="module")
def cli(tiny_model_dir, monkeypatch_module):
    """``cli(stdin_bytes, *args) -> (status, stdout, stderr)`` via ``translate.main``."""
    import seq2seq.cli
    from seq2seq.translator import Translator

    folder = str(tiny_model_dir[0])
    translator = Translator.load(folder)

    def load(
        spec, batch_size, max_sentence_tokens, max_input_chars, shortlist, precision, cache_dir
    ):
        """The one translator (its graphs compiled once) with the caps asked for."""
        assert (spec, batch_size, precision) == (folder, 64, "float32")
        translator.max_sentence_tokens = max_sentence_tokens
        translator.max_input_chars = max_input_chars
        translator.asked_for_shortlist = shortlist
        return translator

    monkeypatch_module.setattr(seq2seq.cli, "load_translator_or_exit", load)

    def run(stdin: bytes, *args):
        err = io.StringIO()
        stdin_, stdout_, stderr_ = sys.stdin, sys.stdout, sys.stderr
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
        sys.stdout, sys.stderr = io.TextIOWrapper(io.BytesIO()), err
        try:
            with pytest.raises(SystemExit) as exit_info:
                translate.main(["--model", folder, *args])
            out = sys.stdout.buffer.getvalue().decode("utf-8")
        finally:
            sys.stdin, sys.stdout, sys.stderr = stdin_, stdout_, stderr_
        assert TRACEBACK not in err.getvalue()
        return exit_info.value.code, out, err.getvalue()

    run.translator = translator
    return run


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def ok(cli, stdin, *args) -> str:
    status, out, err = cli(stdin.encode() if isinstance(stdin, str) else stdin, *args)
    assert status == 0, err[-3000:]
    return out


# --- formats -------------------------------------------------------------------------


def test_text_keeps_line_count_and_empty_lines(cli):
    out = ok(cli, INPUT, "--beam-size", "3").split("\n")
    assert out[:-1] == ["three two one", "", "five four", "", "six"]


def test_invisible_lines_are_empty_lines(cli):
    """Lines with nothing to translate get an empty output line (never invented words), in
    text and JSON, and the lines around them keep their place."""
    texts = [t for t in INVISIBLE_TEXTS if "\n" not in t and "\r" not in t]
    stdin = "one two\n" + "".join(t + "\n" for t in texts)
    out = ok(cli, stdin).split("\n")
    assert out[:-1] == ["two one", *[""] * len(texts)]
    lines = ok(cli, stdin, "--format", "json").splitlines()
    assert [json.loads(x)["hypotheses"] for x in lines[1:]] == [[]] * len(texts)


def test_shortlist_is_on_unless_turned_off(cli):
    ok(cli, "one two\n")
    assert cli.translator.asked_for_shortlist is True
    ok(cli, "one two\n", "--no-shortlist")
    assert cli.translator.asked_for_shortlist is False


def test_nbest_rows(cli):
    rows = [
        r.split("\t") for r in ok(cli, INPUT, "--n-best", "3", "--format", "nbest").splitlines()
    ]
    first = [r for r in rows if r[0] == "0"]
    assert [r[1] for r in first] == ["1", "2", "3"]
    scores = [float(r[2]) for r in first]
    assert scores == sorted(scores, reverse=True)
    assert first[0][3] == "three two one"
    assert len({r[3] for r in first}) == 3
    assert [r for r in rows if r[0] == "1"] == [["1", "1", "0.0", ""]]


def test_moses_nbest_rows(cli):
    rows = ok(cli, INPUT, "--n-best", "3", "--format", "moses").splitlines()
    fields = [r.split(" ||| ") for r in rows]
    assert all(len(f) == 3 for f in fields)
    assert [f[0] for f in fields] == ["0"] * 3 + ["1"] + ["2"] * 3 + ["3"] + ["4"] * 3
    assert fields[0][1] == "three two one"
    scores = [float(f[2]) for f in fields[:3]]
    assert scores == sorted(scores, reverse=True) and scores[0] < 0
    assert rows[3] == "1 |||  ||| 0.0"  # an empty line: one empty candidate
    nbest = ok(cli, INPUT, "--n-best", "3", "--format", "nbest").splitlines()
    assert [f[1:] for f in fields] == [r.split("\t")[3:1:-1] for r in nbest]


def test_json_has_attention_of_right_shape(cli):
    lines = ok(cli, INPUT, "--n-best", "2", "--format", "json").splitlines()
    assert len(lines) == 5
    data = json.loads(lines[0])
    assert data["source"] == "one two three"
    assert len(data["hypotheses"]) == 2
    for hyp in data["hypotheses"]:
        attention = np.array(hyp["attention"])
        assert attention.shape == (len(hyp["pieces"]), len(data["source_pieces"]))
        np.testing.assert_allclose(attention.sum(1), 1.0, atol=1e-3)
    assert json.loads(lines[1]) == {"source": "", "hypotheses": []}


def test_the_length_penalty_is_the_models_unless_given(cli):
    from seq2seq.options import DecodeOptions

    def alpha(*args) -> float:
        return json.loads(ok(cli, "one two three\n", "--format", "json", *args))["length_penalty"]

    assert alpha() == 0.6  # the library's default, for a folder that sets none
    cli.translator.default_options = DecodeOptions(length_penalty=1.5)
    try:
        assert alpha() == 1.5
        assert alpha("--length-penalty", "0.2") == 0.2
    finally:
        cli.translator.default_options = DecodeOptions()


def test_pharaoh_output(cli):
    lines = ok(cli, INPUT, "--format", "pharaoh").split("\n")[:-1]
    assert len(lines) == 5 and lines[1] == ""
    pairs = [tuple(map(int, a.split("-"))) for a in lines[0].split()]
    assert [j for _, j in pairs] == [0, 1, 2]  # one link per output word
    assert all(0 <= i < 3 for i, _ in pairs)


def test_alignments_appended_in_every_format(cli):
    links = ok(cli, INPUT, "--format", "pharaoh").split("\n")
    text = ok(cli, INPUT).split("\n")
    with_links = ok(cli, INPUT, "--alignments").split("\n")
    assert with_links == [f"{t} ||| {a}" for t, a in zip(text[:-1], links)] + [""]
    assert with_links[0].startswith("three two one ||| ") and with_links[1] == " ||| "

    moses = ok(cli, INPUT, "--format", "moses", "--n-best", "2", "--alignments").splitlines()
    assert moses[0] == f"0 ||| three two one ||| {moses[0].split(' ||| ')[2]} ||| {links[0]}"
    assert all(len(r.split(" ||| ")) == 4 for r in moses)
    nbest = ok(cli, INPUT, "--format", "nbest", "--alignments").splitlines()
    assert nbest[0].split("\t")[3:] == ["three two one", links[0]]
    data = json.loads(ok(cli, INPUT, "--format", "json", "--alignments").splitlines()[0])
    assert data["hypotheses"][0]["alignment"] == links[0]


# --- lines -------------------------------------------------------------------------------


def test_only_newline_separates_lines(cli):
    """U+2028, U+2029, U+0085, \\f, \\v, \\x1c-\\x1e and a bare \\r stay inside their line;
    "\\r\\n" ends one line and its "\\r" is dropped; a last line may lack "\\n"."""
    lines = [
        "one\u2028two",
        "three\u2029four\x85five",
        "six\fseven\vone",
        "two\x1cthree\x1dfour\x1efive",
        "six\rseven",
        "\u2028",
        "eight nine",
    ]
    stdin = "\n".join(lines[:3]) + "\r\n" + "\n".join(lines[3:])
    out = ok(cli, stdin, "--format", "json").split("\n")
    assert len(out) == len(lines) + 1 and out[-1] == ""
    assert [json.loads(x)["source"] for x in out[:-1]] == [*lines[:5], "", "eight nine"]
    assert ok(cli, stdin).count("\n") == len(lines)


def test_per_line_failures_keep_alignment_and_exit_1(cli):
    long_sentence = " ".join(["one two three four"] * 10)  # 41 tokens with EOS
    huge = "five six " * 600_000  # a 5 MB line
    stdin = f"one two\n{long_sentence}\nthree four\n{huge}\nfive six\n"
    status, out, err = cli(stdin.encode(), "--max-sentence-tokens", "32")
    assert status == 1
    assert out.split("\n") == ["two one", "", "four three", "", "six five", ""]
    errors = err.splitlines()
    assert re.fullmatch(
        r"error: line 2: a sentence has \d+ subword tokens; the limit is 32.*", errors[0]
    )
    assert errors[1] == "error: line 4: 5400000 bytes; the limit is 20000 characters"
    assert errors[2:] == ["error: 2 of 5 lines not translated"]
    data = [
        json.loads(x)
        for x in cli(stdin.encode(), "--max-sentence-tokens", "32", "--format", "json")[
            1
        ].splitlines()
    ]
    assert len(data) == 5 and data[1]["hypotheses"] == [] and "32" in data[1]["error"]
    assert data[3] == {"source": "", "hypotheses": [], "error": errors[1][15:]}


def test_max_input_chars_counts_characters(cli):
    """Characters, not bytes; a line's "\r\n" ending is not part of it."""
    status, out, err = cli("one two\r\nöne twö\r\n".encode(), "--max-input-chars", "7")
    assert status == 0 and out.count("\n") == 2, err
    status, out, err = cli("one two\nöne twö!\n".encode(), "--max-input-chars", "7")
    assert status == 1 and out.split("\n")[1] == ""
    assert "line 2: 8 characters; the limit is 7" in err


def test_non_utf8_input_names_line_and_byte(cli):
    stdin = b"one two\nthree f\xe9ur\nfive\n"
    status, out, err = cli(stdin)
    assert status == 1
    assert out == "two one\n"  # the lines before the bad one are still translated
    assert "line 2 is not valid utf-8" in err
    assert "byte 7 of the line (offset 15 in the input)" in err
    status, out, err = cli(stdin, "--encoding", "latin-1")
    assert status == 0 and out.count("\n") == 3, err


def test_binary_input_is_refused_cleanly(cli):
    status, out, err = cli(b"one two\n\x7fELF\x02\x01\x01\x00\x00\x00\n\x00" * 50)
    assert status == 1 and out == "two one\n"
    assert err.strip() == (
        "error: line 2 has a NUL byte at byte 7 of the line (offset 15 in the input): "
        "this looks like a binary file, not text"
    )
    status, out, err = cli(bytes(range(256)) * 100)
    assert status == 1 and out == "" and "line 1" in err


def test_input_and_output_files(cli, tmp_path):
    source, target = tmp_path / "in.txt", tmp_path / "out.txt"
    source.write_bytes(INPUT.encode())
    status, out, err = cli(b"ignored\n", "-i", str(source), "-o", str(target))
    assert status == 0 and out == "", err
    assert target.read_text(encoding="utf-8") == "three two one\n\nfive four\n\nsix\n"
    status, out, err = cli(b"", "--input", str(source), "--output", str(source))
    assert status == 2 and "--output is the --input file" in err
    assert source.read_bytes() == INPUT.encode()
    status, out, err = cli(b"", "-i", str(tmp_path / "missing.txt"))
    assert status == 1 and "cannot read" in err


# --- options -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--beam-size", "11"], "--beam-size must be between 1 and 10, got 11"),
        (["--beam-size", "0"], "--beam-size must be between 1 and 10, got 0"),
        (["--beam-size", "2.5"], "argument --beam-size: not a whole number: '2.5'"),
        (["--beam-size", "3", "--n-best", "4"], "--n-best must be between 1 and 3, got 4"),
        (["--n-best", "0"], "--n-best must be between 1 and 5, got 0"),
        (["--batch-size", "0"], "argument --batch-size: must be between 1 and 1024, got 0"),
        (["--batch-size", "x"], "argument --batch-size: not a whole number: 'x'"),
        (["--length-penalty", "nan"], "argument --length-penalty: must be a finite number"),
        (["--length-penalty", "inf"], "argument --length-penalty: must be a finite number"),
        (["--length-penalty", "-1"], "--length-penalty must be a number between 0 and 5"),
        (["--length-penalty", "1e308"], "--length-penalty must be a number between 0 and 5"),
        (["--length-penalty", "abc"], "argument --length-penalty: not a number: 'abc'"),
        (["--max-sentence-tokens", "1"], "argument --max-sentence-tokens: must be between"),
        (["--max-input-chars", "0"], "argument --max-input-chars: must be between"),
        (["--encoding", "nope"], "argument --encoding: unknown encoding 'nope'"),
        (["--encoding", "utf-16"], "argument --encoding: 'utf-16' is not ASCII-compatible"),
        (["--format", "pharaoh", "--alignments"], "--alignments does not apply"),
        (["--format", "nbest", "--word-level"], "--word-level applies to alignments"),
        (["--format", "xml"], "argument --format: invalid choice"),
    ],
)
def test_bad_options_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        translate.parse_args(["--model", "unused", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ") and f"error: {message}" in err


# --- the real command ------------------------------------------------------------------


@pytest.mark.slow
def test_command_streams_line_by_line(tiny_model_dir):
    """The first output line comes while stdin is still open (flushed per batch); exit 0."""
    process = subprocess.Popen(
        [sys.executable, "-m", "seq2seq.translate", "--model", str(tiny_model_dir[0])],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    try:
        process.stdin.write(b"one two three\r\n")
        process.stdin.flush()
        ready, _, _ = select.select([process.stdout], [], [], 240)
        assert ready, "no output while the input is open"
        assert process.stdout.readline() == b"three two one\n"
        process.stdin.write("four\u2028five\nsix".encode())
        process.stdin.close()
        assert process.stdout.read() == b"five four\nsix\n"
        assert process.wait(timeout=120) == 0, process.stderr.read().decode()[-3000:]
    finally:
        process.kill()
        process.wait()


@pytest.mark.slow
def test_command_decodes_under_mixed_bfloat16(tiny_model_dir):
    """``--precision mixed_bfloat16``: the tiny model's reversals (a large margin between
    the best candidate and the rest) come out as under float32."""
    command = [sys.executable, "-m", "seq2seq.translate", "--model", str(tiny_model_dir[0])]
    text = b"one two three\nfour five\nsix seven eight nine\n"
    outs = [
        subprocess.run(
            [*command, "--precision", p], input=text, cwd=ROOT, capture_output=True, timeout=300
        )
        for p in ("float32", "mixed_bfloat16")
    ]
    assert [o.returncode for o in outs] == [0, 0], outs[1].stderr.decode()[-2000:]
    assert outs[0].stdout == outs[1].stdout == b"three two one\nfive four\nnine eight seven six\n"


def test_command_usage_error_and_bad_input(tiny_model_dir):
    command = [sys.executable, "-m", "seq2seq.translate", "--model", str(tiny_model_dir[0])]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    usage = subprocess.run(
        [*command, "--beam-size", "11"],
        input=b"x\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert usage.returncode == 2 and b"--beam-size must be between 1 and 10" in usage.stderr
    binary = subprocess.run(
        command, input=b"\xff\xfe\x00\x01", cwd=ROOT, env=env, capture_output=True, timeout=300
    )
    assert binary.returncode == 1 and binary.stdout == b""
    assert b"error: line 1 " in binary.stderr and TRACEBACK.encode() not in binary.stderr


# --- alignment helpers -------------------------------------------------------------------


def test_word_index_and_merge():
    src = ["▁Hello", "▁wor", "ld", ".", "</s>"]
    tgt = ["▁Hal", "lo", "▁Welt", ".", "</s>"]
    assert word_index(src) == [0, 1, 1, 1, None]
    attention = np.zeros((5, 5))
    attention[0, 0] = attention[1, 0] = 1  # "Hal" "lo" -> Hello
    attention[2, 2] = attention[3, 3] = 1  # "Welt" -> "ld", "." -> "."
    attention[4, 4] = 1
    merged = merge_attention(attention, src, tgt)
    assert merged.shape == (2, 2)
    np.testing.assert_allclose(merged, [[1.0, 0.0], [0.0, 1.0]])
    assert pharaoh(attention, src, tgt, word_level=True) == "0-0 1-1"
    assert pharaoh(attention, src, tgt) == "0-0 0-1 2-2 3-3"  # pieces; </s> never aligned


def test_word_level_flag_aligns_words(cli):
    """One source word of several pieces ("fourfive"): piece and word indexes differ."""
    line = "one fourfive six\n"
    data = json.loads(ok(cli, line, "--format", "json"))
    src, best = data["source_pieces"], data["hypotheses"][0]
    assert len(words(src)) == 3 and len(src) > 4
    for flags, word_level in (((), False), (("--word-level",), True)):
        links = ok(cli, line, "--format", "pharaoh", *flags).strip()
        assert links == pharaoh(np.array(best["attention"]), src, best["pieces"], word_level)
        appended = ok(cli, line, "--alignments", *flags).strip()
        assert appended.endswith(f" ||| {links}")
    assert ok(cli, line, "--format", "pharaoh") != ok(
        cli, line, "--format", "pharaoh", "--word-level"
    )


@pytest.mark.slow  # trains a tiny model without attention
@pytest.mark.parametrize("args", [["--alignments"], ["--format", "pharaoh"]])
def test_alignments_of_a_model_without_attention_are_refused(
    tiny_noattn_dir, capsys, monkeypatch, args
):
    """Exit status 2 and one plain line, before anything is read or written."""
    import seq2seq.cli
    from seq2seq.translator import Translator

    # The real loading (the module's ``cli`` fixture replaces it with the tiny model's).
    monkeypatch.setattr(
        seq2seq.cli, "load_translator_or_exit", lambda spec, **_: Translator.load(spec)
    )
    with pytest.raises(SystemExit) as exit_info:
        translate.main(["--model", str(tiny_noattn_dir), "-i", os.devnull, *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "has no attention" in err and TRACEBACK not in err
