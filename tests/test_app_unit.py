"""The app's handlers without a server: import has no side effects, file batches keep
their line count, bad input gets a clear message."""

import subprocess
import sys
from pathlib import Path

import gradio as gr
import pytest

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


class NoProgress:
    def tqdm(self, iterable, **_):
        return iterable


@pytest.fixture(scope="module")
def demo(tiny_model_dir):
    import app
    from seq2seq.translator import Translator

    translator = Translator.load(tiny_model_dir[0])
    return app.Demo({app.direction_label(translator): translator}, max_input_chars=100)


def test_translate_file_keeps_lines(demo, tmp_path):
    direction = next(iter(demo.translators))
    source = tmp_path / "in.txt"
    source.write_text("one two\n\nthree four five\n   \nsix\n", encoding="utf-8")
    out, status = demo.translate_file(str(source), direction, 2, 0.6, progress=NoProgress())
    lines = Path(out).read_text(encoding="utf-8").split("\n")
    assert lines[:-1] == ["two one", "", "five four three", "", "six"]
    assert not source.exists()  # the upload is deleted once read
    assert "5 lines" in status


def test_translate_file_errors(demo, tmp_path):
    direction = next(iter(demo.translators))
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"caf\xe9\n")
    with pytest.raises(gr.Error, match="not UTF-8"):
        demo.translate_file(str(bad), direction, 2, 0.6, progress=NoProgress())
    long = tmp_path / "long.txt"
    long.write_text("ok\n" + "one " * 60 + "\n")
    with pytest.raises(gr.Error, match="Line 2 is over the limit"):
        demo.translate_file(str(long), direction, 2, 0.6, progress=NoProgress())


def test_views_and_rerank_through_handlers(demo):
    direction = next(iter(demo.translators))
    result = demo.translation("one two three", direction, 4, 3, 0.0)
    best, table, figure, target, source, files, selected, _ = demo.render(result, "three two one",
                                                                           False, 0)  # fmt: skip
    assert best == "three two one"
    rows = table.value["data"]
    assert len(rows) == 3 and rows[0][5] == 100.0  # sentence BLEU of the exact match
    assert [Path(f).name for f in files] == ["candidates.tsv", "attention.json",
                                             "alignment.pharaoh"]  # fmt: skip
    assert len(target) == result.hypotheses[0].length
    assert len(source) == len(result.source_pieces)
    reranked = demo.rerank(result, 1.5, "", False)
    assert reranked[-1].length_penalty == 1.5
