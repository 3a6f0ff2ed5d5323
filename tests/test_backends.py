"""The compiled search on the JAX backend (``jax.jit`` per bucket) translates like the
TensorFlow one, in a subprocess (a process has one Keras backend)."""

import json
import os
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

import pytest

from seq2seq.translator import Translator

ROOT = Path(__file__).resolve().parents[1]
TEXTS = ["one two three", "four five six seven eight", "nine"]
CODE = """if True:
    import json, sys
    import keras
    from seq2seq.translator import Translator
    translator = Translator.load(sys.argv[1], batch_size=4)
    texts = json.loads(sys.argv[2])
    out = {beam: [[h.text, h.score] for t in translator.translate(texts, beam_size=beam,
                  n_best=beam) for h in t.hypotheses] for beam in (1, 3)}
    print(json.dumps({"backend": keras.backend.backend(),
                      "graphs": len(translator.search.graphs()), "out": out}))
"""


@pytest.mark.slow
@pytest.mark.skipif(find_spec("jax") is None, reason="jax is not installed")
def test_jax_compiled_search_equals_tensorflow(tiny_model_dir):
    env = {**os.environ, "KERAS_BACKEND": "jax", "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-c", CODE, str(tiny_model_dir[0]), json.dumps(TEXTS)]
    run = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    jax_side = json.loads(run.stdout.strip().splitlines()[-1])
    assert jax_side["backend"] == "jax" and jax_side["graphs"] >= 2  # compiled, per bucket
    translator = Translator.load(tiny_model_dir[0], batch_size=4)
    for beam in (1, 3):
        tf_side = [
            [h.text, h.score]
            for t in translator.translate(TEXTS, beam_size=beam, n_best=beam)
            for h in t.hypotheses
        ]
        got = jax_side["out"][str(beam)]
        assert [text for text, _ in got] == [text for text, _ in tf_side]
        assert [s for _, s in got] == pytest.approx([s for _, s in tf_side], abs=1e-3)
