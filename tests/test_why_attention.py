"""Why attention?: which models' by-length scores are drawn together, the table and the
README figure's command."""

import json

import keras
import pytest

from webapp import why_attention as why


def folder(tmp_path, name, bleus, test="test-v1.tsv.gz", buckets=("1-10", "11-20", "21+")):
    path = tmp_path / name
    path.mkdir()
    rows = [{"bucket": b, "n": 150, "bleu": x, "chrf": 2 * x} for b, x in zip(buckets, bleus)]
    (path / "eval.json").write_text(json.dumps({"test": test, "by_length": rows}))
    return path


def test_only_models_with_and_without_attention_on_one_test_are_drawn(tmp_path):
    a = folder(tmp_path, "a", [30, 25, 20])
    b = folder(tmp_path, "b", [28, 15, 5])
    other_test = folder(tmp_path, "c", [28, 15, 5], test="test-v2.tsv.gz")
    other_buckets = folder(tmp_path, "d", [28, 15], buckets=("1-10", "11+"))
    plain = tmp_path / "e"
    plain.mkdir()  # no eval.json: left out
    series = why.series_of({"a": ("bahdanau", a), "b": ("none", b), "e": ("none", plain)})
    assert [s.key for s in series] == ["a", "b"]
    assert why.comparable(series) == series
    assert why.comparable(series[:1]) == []
    assert why.comparable(why.series_of({"a": ("bahdanau", a), "x": ("luong_dot", b)})) == []
    for odd in (other_test, other_buckets):
        assert why.comparable(why.series_of({"a": ("bahdanau", a), "b": ("none", odd)})) == []
    table = why.table_markdown(series)
    assert table.splitlines()[0] == "| source words | sentences | a | b |"
    assert "| 21+ | 150 | 20.0 | 5.0 |" in table
    lines = why.figure(series).axes[0].get_lines()
    assert [line.get_linestyle() for line in lines] == ["-", "--"]
    assert list(lines[1].get_ydata()) == [28, 15, 5]


def test_the_readme_figure_needs_comparable_models(tmp_path, capsys):
    for name, attention in (("m1", "bahdanau"), ("m2", "none")):
        path = folder(tmp_path, name, [30, 20, 10] if name == "m1" else [25, 10, 2])
        spec = {"config": {"model_config": {"attention": attention}}}
        (path / "config.json").write_text(json.dumps(spec))
        (path / "metadata.json").write_text(
            json.dumps({"seq2seq_format": 2, "keras_version": keras.__version__})
        )
    out = tmp_path / "why.png"
    why.main([str(tmp_path / "m1"), str(tmp_path / "m2"), "--out", str(out)])
    assert out.read_bytes()[:4] == b"\x89PNG" and "| m1 | m2 |" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        why.main([str(tmp_path / "m1"), "--out", str(tmp_path / "no.png")])
    assert not (tmp_path / "no.png").exists()
