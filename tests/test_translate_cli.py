"""The translate CLI and word alignments, on the tiny trained model."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from seq2seq.alignment import pharaoh, word_attention, word_index

ROOT = Path(__file__).resolve().parents[1]


def run_cli(folder, stdin, *args):
    result = subprocess.run(
        [sys.executable, "-m", "seq2seq.translate", "--model", str(folder), *args],
        input=stdin, cwd=ROOT, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


INPUT = "one two three\n\nfour five\n   \nsix\n"


def test_text_keeps_line_count_and_empty_lines(tiny_model_dir):
    folder, _, _ = tiny_model_dir
    out = run_cli(folder, INPUT, "--beam-size", "3").split("\n")
    assert out[:-1] == ["three two one", "", "five four", "", "six"]


def test_nbest_rows(tiny_model_dir):
    folder, _, _ = tiny_model_dir
    rows = [r.split("\t") for r in run_cli(folder, INPUT, "--n-best", "3", "--format", "nbest")
            .splitlines()]  # fmt: skip
    first = [r for r in rows if r[0] == "0"]
    assert [r[1] for r in first] == ["1", "2", "3"]
    scores = [float(r[2]) for r in first]
    assert scores == sorted(scores, reverse=True)
    assert first[0][3] == "three two one"
    assert len({r[3] for r in first}) == 3
    assert [r for r in rows if r[0] == "1"] == [["1", "1", "0.0", ""]]


def test_json_has_attention_of_right_shape(tiny_model_dir):
    folder, _, _ = tiny_model_dir
    lines = run_cli(folder, INPUT, "--n-best", "2", "--format", "json").splitlines()
    assert len(lines) == 5
    data = json.loads(lines[0])
    assert data["source"] == "one two three"
    for hyp in data["hypotheses"]:
        attention = np.array(hyp["attention"])
        assert attention.shape == (len(hyp["pieces"]), len(data["source_pieces"]))
        np.testing.assert_allclose(attention.sum(1), 1.0, atol=1e-3)
    assert json.loads(lines[1]) == {"source": "", "hypotheses": []}


def test_pharaoh_output(tiny_model_dir):
    folder, _, _ = tiny_model_dir
    lines = run_cli(folder, INPUT, "--format", "pharaoh").split("\n")[:-1]
    assert len(lines) == 5 and lines[1] == ""
    pairs = [tuple(map(int, a.split("-"))) for a in lines[0].split()]
    assert [j for _, j in pairs] == [0, 1, 2]  # one link per output word
    assert all(0 <= i < 3 for i, _ in pairs)


def test_bad_arguments_fail_cleanly(tiny_model_dir):
    folder, _, _ = tiny_model_dir
    result = subprocess.run(
        [sys.executable, "-m", "seq2seq.translate", "--model", str(folder), "--n-best", "9"],
        input="x\n", cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2 and "n-best" in result.stderr


def test_word_index_and_merge():
    src = ["▁Hello", "▁wor", "ld", ".", "</s>"]
    tgt = ["▁Hal", "lo", "▁Welt", ".", "</s>"]
    assert word_index(src) == [0, 1, 1, 1, None]
    attention = np.zeros((5, 5))
    attention[0, 0] = attention[1, 0] = 1  # "Hal" "lo" -> Hello
    attention[2, 2] = attention[3, 3] = 1  # "Welt" -> "ld", "." -> "."
    attention[4, 4] = 1
    merged = word_attention(attention, src, tgt)
    assert merged.shape == (2, 2)
    np.testing.assert_allclose(merged, [[1.0, 0.0], [0.0, 1.0]])
    assert pharaoh(attention, src, tgt) == "0-0 1-1"
