"""training.length_penalty: a dev sweep that records the chosen alpha in the folder."""

import json
import shutil

import pytest
from conftest import reverse_task, write_tsv

from seq2seq.translator import Translator
from training import length_penalty


def test_choose_takes_the_best_and_the_first_on_a_tie():
    results = {
        0.6: {"chrf": 30.0, "bleu": 9.0},
        1.0: {"chrf": 31.0, "bleu": 8.5},
        1.4: {"chrf": 31.0, "bleu": 7.0},
    }
    assert length_penalty.choose(results, "chrf") == 1.0
    assert length_penalty.choose(results, "bleu") == 0.6
    assert length_penalty.choose(results, "mean") == 1.0  # 19.75 > 19.5 and 19.0


def test_write_records_the_chosen_alpha_and_how(tiny_model_dir, tmp_path, capsys, monkeypatch):
    folder = shutil.copytree(tiny_model_dir[0], tmp_path / "model")
    dev = write_tsv(tmp_path / "dev.tsv", reverse_task(8, seed=9))
    scores = {0.2: (3.0, 40.0), 1.6: (1.0, 42.5)}  # the sweep's scores, stood in for: the
    # tiny model translates its task perfectly whatever the alpha, so every alpha would tie

    def fake_evaluate(translator, test, beam_size, length_penalty):
        assert test == str(dev) and beam_size == 3 and translator.search.shortlist is None
        return dict(zip(["bleu", "chrf"], scores[length_penalty]))

    monkeypatch.setattr(length_penalty, "evaluate", fake_evaluate)
    length_penalty.main(
        [
            "--model",
            str(folder),
            "--dev",
            str(dev),
            "--alphas",
            "0.2,1.6",
            "--beam-size",
            "3",
            "--write",
        ]
    )
    out = capsys.readouterr().out
    assert "α 1.60  BLEU   1.00  chrF  42.50  ← best" in out  # mean 21.75 > 21.5
    decoding = json.loads((folder / "metadata.json").read_text())["decoding"]
    assert decoding == {
        "length_penalty": 1.6,
        "chosen_on": "dev.tsv, best mean of BLEU and chrF, beam 3 "
        "(BLEU / chrF: α 0.2 3.0 / 40.0, α 1.6 1.0 / 42.5)",
    }
    assert Translator.load(folder).default_options.length_penalty == 1.6


def test_a_real_sweep_scores_every_alpha(tiny_model_dir, tmp_path):
    dev = write_tsv(tmp_path / "dev.tsv", reverse_task(8, seed=9))
    translator = Translator.load(tiny_model_dir[0], shortlist=False)
    results = length_penalty.sweep(translator, str(dev), [0.0, 2.0], beam_size=2)
    assert [r["length_penalty"] for r in results.values()] == [0.0, 2.0]
    assert all(r["sentences"] == 8 and r["chrf"] > 50 for r in results.values())


@pytest.mark.parametrize(
    "args, message",
    [
        (["--alphas", "0.6,x"], "could not convert"),
        (["--alphas", "0.6,9"], "each alpha must be a number between 0 and 5, got 9.0"),
        (["--alphas", "1,1.0"], "alphas repeat: 1,1.0"),
        (["--beam-size", "0"], "--beam-size must be between 1 and 10, got 0"),
        (["--write"], "--write needs a local model folder; nowhere has no metadata.json"),
    ],
)
def test_bad_options_are_usage_errors(args, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        length_penalty.main(["--model", "nowhere", "--dev", "unused", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err
