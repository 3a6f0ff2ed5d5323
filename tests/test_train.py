"""End to end: the training script learns the synthetic reverse task; resume; mirrored."""

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import reverse_task, write_tsv

from seq2seq import bundle
from seq2seq.translator import Translator

pytestmark = pytest.mark.slow  # training runs

ROOT = Path(__file__).resolve().parents[1]


def test_reverse_task_is_learned(tiny_model_dir):
    folder, history, _ = tiny_model_dir
    translator = Translator.load(folder)
    pairs = reverse_task(200, seed=99)
    outputs = translator.translate_texts([s for s, _ in pairs], beam_size=1)
    exact = sum(o == t for o, (_, t) in zip(outputs, pairs)) / len(pairs)
    assert exact >= 0.95, list(zip(outputs, pairs))[:5]
    beam = translator.translate_texts([s for s, _ in pairs], beam_size=4)
    assert sum(o == t for o, (_, t) in zip(beam, pairs)) / len(pairs) >= 0.95


def test_model_folder_has_log_curves_and_throughput(tiny_model_dir):
    folder, history, config = tiny_model_dir
    for name in bundle.MODEL_FILES + [bundle.LOG_FILE, bundle.CURVES_FILE]:
        assert (folder / name).is_file(), name
    with open(folder / "training_log.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(history.history["loss"])
    assert {"loss", "val_loss", "dev_bleu", "tgt_tok_per_s"} <= set(rows[0])
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert max(float(r["dev_bleu"]) for r in rows) > 50
    meta = json.loads((folder / bundle.METADATA_FILE).read_text())
    assert meta["direction"] == "en-de" and meta["parameters"] > 0


TRAIN_MAIN = "import sys; from training.train import main; main(sys.argv[1:])"


def run_train(args, env_extra=None, cwd=ROOT):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **(env_extra or {})}
    return subprocess.run(
        [sys.executable, "-c", TRAIN_MAIN, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def small_run_args(tmp_path, extra=()):
    train = write_tsv(tmp_path / "train.tsv", reverse_task(300, seed=3))
    dev = write_tsv(tmp_path / "dev.tsv", reverse_task(30, seed=4))
    return [
        "--train",
        str(train),
        "--dev",
        str(dev),
        "--out",
        str(tmp_path / "model"),
        "--run_dir",
        str(tmp_path / "run"),
        "--vocab_size",
        "300",
        "--batch_tokens",
        "400",
        "--dev_bleu_sentences",
        "20",
        "--verbose",
        "0",
        "--checkpoint_every",
        "0",
        "--model.emb_dim",
        "16",
        "--model.enc_units",
        "16",
        "--model.dec_units",
        "32",
        "--model.attn_units",
        "16",
        *extra,
    ]


def test_resume_continues_from_checkpoint(tmp_path):
    first = run_train(small_run_args(tmp_path, ["--epochs", "1"]))
    assert first.returncode == 0, first.stderr[-3000:]
    again = run_train(small_run_args(tmp_path, ["--epochs", "2"]))
    assert again.returncode != 0 and "--resume" in again.stderr
    resumed = run_train(small_run_args(tmp_path, ["--epochs", "2", "--resume"]))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(tmp_path / "model" / "training_log.csv") as f:
        epochs = [int(r["epoch"]) for r in csv.DictReader(f)]
    assert epochs == [0, 1]  # epoch 0 from the first run, epoch 1 from the resumed one


def test_a_run_stopped_inside_an_epoch_resumes_at_its_step(tmp_path):
    """A run of one epoch, resumed for three and stopped after one step (a checkpoint
    each step), goes on from there (not from the epoch's start), in the right epoch, and
    ends after the planned epochs × batches steps."""

    def train(*flags):
        result = run_train(small_run_args(tmp_path, ["--checkpoint_every", "1", *flags]))
        assert result.returncode == 0, result.stderr[-3000:]
        checkpoint = tmp_path / "run" / "backup" / "training_metadata.json"
        return result.stderr, json.loads(checkpoint.read_text())

    train("--epochs", "1")
    log, checkpoint = train("--epochs", "3", "--resume", "--max_minutes", "0.00001")
    found = re.search(r"resumed at step (\d+) of (\d+): epoch 2, batch 1 of (\d+)", log)
    assert found, log[-3000:]
    per_epoch = int(found[3])
    assert [int(found[1]), int(found[2])] == [per_epoch, 3 * per_epoch]
    assert "time limit" in log and checkpoint == {"epoch": 1, "batch": 0}
    log, checkpoint = train("--epochs", "3", "--resume")
    assert f"resumed at step {per_epoch + 1} of {3 * per_epoch}: epoch 2, batch 2 of" in log
    assert f"step {3 * per_epoch} of {3 * per_epoch}: the run's last" in log
    # Its last epoch ended one step early (the plan's end), at its second-last batch.
    assert checkpoint == {"epoch": 2, "batch": per_epoch - 2}
    with open(tmp_path / "model" / "training_log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1, 1, 2]


def test_sigterm_stops_a_run_with_a_checkpoint_of_its_step(tmp_path):
    """``kill PID`` during training: the run saves a checkpoint of the step it is at
    (none was due: one per epoch) and exits 0; ``--resume`` goes on from that step."""
    args = small_run_args(tmp_path, ["--epochs", "3"])
    command = [sys.executable, "-c", TRAIN_MAIN]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    process = subprocess.Popen(
        [*command, *args], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True
    )
    lines = []
    for line in process.stderr:
        lines.append(line)
        if "SIGTERM saves one and stops" in line:
            process.terminate()
            break
    log = "".join(lines) + process.communicate(timeout=300)[1]
    assert process.returncode == 0, log[-3000:]
    found = re.search(r"SIGTERM: stopped at step (\d+) of (\d+), checkpoint saved", log)
    assert found, log[-3000:]
    assert "training finished" not in log
    resumed = run_train(small_run_args(tmp_path, ["--epochs", "3", "--resume"]))
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert f"resumed at step {found[1]} of {found[2]}:" in resumed.stderr


def test_mirrored_strategy_on_two_logical_cpus(tmp_path):
    script = (
        "import sys, tensorflow as tf\n"
        "cpu = tf.config.list_physical_devices('CPU')[0]\n"
        "two = [tf.config.LogicalDeviceConfiguration()] * 2\n"
        "tf.config.set_logical_device_configuration(cpu, two)\n"
        "from training.train import main\n"
        "main(sys.argv[1:])\n"
    )
    args = small_run_args(tmp_path, ["--epochs", "1", "--strategy", "mirrored"])
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "strategy data_parallel on tensorflow: 2 devices in sync" in result.stderr
    assert (tmp_path / "model" / "model.weights.h5").is_file()


def test_evaluate_cli_on_tiny_model(tiny_model_dir, tmp_path):
    folder, _, _ = tiny_model_dir
    rows = [(s, t, "synthetic") for s, t in reverse_task(50, seed=7)]
    test = tmp_path / "test.tsv"
    test.write_text("".join("\t".join(r) + "\n" for r in rows))
    out = tmp_path / "eval.json"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "training.evaluate",
            "--model",
            str(folder),
            "--test",
            str(test),
            "--beam-size",
            "3",
            "--json",
            "--output",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    printed = json.loads(result.stdout)
    assert printed == json.loads(out.read_text())
    assert printed["bleu"] > 80 and printed["chrf"] > 80
    assert printed["bleu_signature"].startswith("nrefs:1|case:mixed|eff:no|tok:13a")
    assert printed["per_source"]["synthetic"]["sentences"] == 50


def warm_start(tiny_model_dir, tmp_path, **changes):
    """The tiny model's config, continued from its folder for one epoch under ``tmp_path``."""
    import dataclasses

    folder, _, base = tiny_model_dir
    fields = dict(out=str(tmp_path / "model"), run_dir=str(tmp_path / "run"), epochs=1)
    fields.update(init_from=str(folder), dev_bleu_sentences=20, model={})
    return dataclasses.replace(base, **{**fields, **changes})


def reversed_right(translations: list[str], sources: list[str]) -> int:
    """How many of ``translations`` are their source's digits reversed (the tiny task)."""
    return sum(t == " ".join(reversed(s.split())) for t, s in zip(translations, sources))


def test_init_from_starts_from_the_model_folder(tiny_model_dir, tmp_path):
    # Learning rate 0: the run must end where the folder started, with its tokenizer.
    import numpy as np

    from training.train import train

    folder = tiny_model_dir[0]
    config = warm_start(tiny_model_dir, tmp_path, learning_rate=0.0)
    history = train(config)
    out = Path(config.out)
    tokenizer = (folder / "tokenizer.model").read_bytes()
    assert (out / "tokenizer.model").read_bytes() == tokenizer
    assert (Path(config.run_dir) / "tokenizer.model").read_bytes() == tokenizer
    with open(folder / "training_log.csv") as f:
        first_loss_from_scratch = float(next(csv.DictReader(f))["loss"])
    assert history.history["loss"][0] < 0.5 * first_loss_from_scratch
    before, after = Translator.load(folder), Translator.load(out)
    for a, b in zip(before.bundle.model.get_weights(), after.bundle.model.get_weights()):
        np.testing.assert_allclose(a, b)
    sources = [s for s, _ in reverse_task(30, seed=5)]
    assert after.translate_texts(sources, beam_size=1) == before.translate_texts(
        sources, beam_size=1
    )


def test_a_fine_tune_under_mixed_bfloat16_keeps_learning(tiny_model_dir, tmp_path):
    """``precision: mixed_bfloat16`` continues the tiny model for one epoch: its loss stays
    near the float32 model's (it learned the task), the folder it writes is float32 and
    loads either way, and it still reverses digits; a precision it does not know is
    refused before any work."""
    import dataclasses

    from training.train import train

    folder = tiny_model_dir[0]
    config = warm_start(tiny_model_dir, tmp_path, learning_rate=1e-3, precision="mixed_bfloat16")
    history = train(config)
    with open(folder / "training_log.csv") as f:
        last_fp32_loss = float(list(csv.DictReader(f))[-1]["loss"])
    assert history.history["loss"][0] < 1.5 * last_fp32_loss
    assert "dtype" not in json.loads((Path(config.out) / "config.json").read_text())["config"]
    sources = [s for s, _ in reverse_task(30, seed=5)]
    for precision in ("float32", "mixed_bfloat16"):
        out = Translator.load(config.out, precision=precision).translate_texts(sources)
        assert reversed_right(out, sources) >= 27
    bad = dataclasses.replace(config, precision="float16", run_dir=str(tmp_path / "run2"))
    with pytest.raises(SystemExit, match="precision must be one of float32, mixed_bfloat16"):
        train(bad)


def test_training_grows_a_model_folder_that_still_translates(tiny_model_dir, tmp_path, monkeypatch):
    """``init_from`` a 1-layer folder (another run's, ``runs/...`` under ``$SEQ2SEQ_RUNS``)
    with ``model: {enc_layers: 2}`` (learning rate 0): the written folder has two encoder
    layers and still reverses digits as the folder did (``training.grow``); a shape change
    other than added layers is refused."""
    import shutil

    from training.train import train

    monkeypatch.setenv("SEQ2SEQ_RUNS", str(tmp_path / "runs-root"))
    shutil.copytree(tiny_model_dir[0], tmp_path / "runs-root" / "small" / "model")
    config = warm_start(
        tiny_model_dir,
        tmp_path,
        learning_rate=0.0,
        model={"enc_layers": 2},
        init_from="runs/small/model",
    )
    train(config)
    saved = json.loads((Path(config.out) / "config.json").read_text())["config"]
    assert saved["model_config"]["enc_layers"] == 2
    sources = [s for s, _ in reverse_task(30, seed=5)]
    out = Translator.load(config.out).translate_texts(sources, beam_size=1)
    assert reversed_right(out, sources) >= 27

    wider = warm_start(tiny_model_dir, tmp_path / "wider", model={"dec_units": 128})
    with pytest.raises(SystemExit, match="changed: dec_units"):
        train(wider)


def test_grow_configs_reach_the_big_shape_from_the_shipped_models():
    """``<direction>-grow.json``: the big recipe (data, batches, precision), started from
    the shipped model of its direction, grown to exactly the big model's shape."""
    from seq2seq.config import ModelConfig
    from training.grow import check_growth

    big = json.loads((ROOT / "training/configs/en-de-big.json").read_text())
    for direction in ("en-de", "de-en"):
        config = json.loads((ROOT / f"training/configs/{direction}-grow.json").read_text())
        assert config["direction"] == direction and config["init_from"] == f"models/{direction}"
        shipped = json.loads((ROOT / config["init_from"] / "config.json").read_text())
        shipped = ModelConfig.from_dict(shipped["config"]["model_config"])
        grown = ModelConfig.from_dict({**shipped.to_dict(), **config["model"]})
        assert check_growth(shipped, grown, config["init_from"]) == 1
        assert {k: grown.to_dict()[k] for k in big["model"]} == big["model"]
        schedule = {"learning_rate", "warmup_steps", "epochs"}
        mine = {"direction", "out", "run_dir", "init_from", "model", *schedule}
        assert {k for k in big if big[k] != config.get(k)} <= mine
        assert set(config) - set(big) == {"init_from"}
    # The grown en-de goes on for a second cosine cycle from that run's model.
    grow = json.loads((ROOT / "training/configs/en-de-grow.json").read_text())
    again = json.loads((ROOT / "training/configs/en-de-grow2.json").read_text())
    assert again["init_from"] == grow["out"] and again["model"] == {}
    assert {k for k in grow if grow[k] != again[k]} <= {
        "out",
        "run_dir",
        "init_from",
        "model",
        *schedule,
    }


def test_luong_config_is_the_shipped_en_de_recipe_with_luong_attention():
    # The compare view sets two attention mechanisms side by side: the Luong model must be
    # trained like models/en-de on the same data (its first corpus, kept frozen as
    # en-de-v1/train; dev.tsv.gz was renamed dev-v1), the same shape and optimiser, with
    # only the attention changed. The schedule is the exception: models/en-de trained for
    # 36 epochs on a GPU; the Luong model trains on this 2-core CPU in one session, so its
    # batches are bucketed tightly (less padding) and its cosine decay spans 10 epochs.
    # models/en-de was later fine-tuned and averaged (its metadata says so); its first step
    # is training/configs/en-de.json, which the Luong model mirrors.
    luong = json.loads((ROOT / "training/configs/en-de-luong.json").read_text())
    shipped = json.loads((ROOT / "training/configs/en-de.json").read_text())
    history = json.loads((ROOT / "models/en-de" / bundle.METADATA_FILE).read_text())
    assert "training/configs/en-de.json" in history["trained_on"]
    assert luong["train"] == "training/data/en-de-v1/train.tsv.gz"
    assert (ROOT / luong["train"]).is_file()
    assert luong["dev"] == shipped["dev"] == "training/data/en-de/dev-v1.tsv.gz"
    assert luong["model"] == {**shipped["model"], "attention": "luong_general"}
    paths = {"train", "dev", "out", "run_dir", "model", "train_pairs", "verbose"}  # + logging
    cpu_schedule = {
        "batch_tokens",
        "bucket_step",
        "epochs",
        "jit_compile",
        "max_minutes",
        "checkpoint_every",
    }
    skip = paths | cpu_schedule
    assert {k: v for k, v in luong.items() if k not in skip} == {
        k: v for k, v in shipped.items() if k not in skip
    }


def test_upsample_repeats_the_pairs_of_the_named_sources():
    import pytest

    from training.readers import Pair
    from training.train import TrainConfig, upsampled

    pairs = [Pair("a", "A", "wesnoth"), Pair("b", "B", "libreoffice"), Pair("c", "C", "wesnoth")]
    out = upsampled(pairs, {"wesnoth": 3})
    assert sorted(p.src for p in out) == ["a"] * 3 + ["b"] + ["c"] * 3
    assert upsampled(pairs, {}) == pairs
    assert [p.src for p in upsampled(pairs, {"wesnoth": 0})] == ["b"]  # left out
    for bad in ({"wesnoth": -1}, {"wesnoth": 1.5}, {"wesnoth": True}, {"cdda": 2}):
        with pytest.raises(SystemExit, match="upsample"):
            upsampled(pairs, bad)
    assert TrainConfig().upsample == {}  # off unless a config names it


def test_run_folders_resolve_under_seq2seq_runs(monkeypatch, tmp_path):
    from training.runs import resolve_out, resolve_run_dir, runs_root

    monkeypatch.setenv("SEQ2SEQ_RUNS", str(tmp_path / "runs-here"))
    runs = tmp_path / "runs-here"
    assert resolve_run_dir("runs/en-zh-ft/run") == runs / "en-zh-ft" / "run"
    assert resolve_run_dir("./runs/en-zh-ft/run") == runs / "en-zh-ft" / "run"
    assert resolve_run_dir("scratch") == runs / "scratch"  # every relative run_dir
    assert resolve_out("runs/en-zh-ft/model") == runs / "en-zh-ft" / "model"
    assert resolve_out("models/en-de") == Path("models/en-de")  # shipped folders stay
    assert resolve_out("runsabc/model") == Path("runsabc/model")
    for absolute in (tmp_path / "run", tmp_path / "runs" / "x"):
        assert resolve_run_dir(absolute) == absolute and resolve_out(absolute) == absolute
    monkeypatch.delenv("SEQ2SEQ_RUNS")
    assert runs_root() == Path.home() / ".cache" / "seq2seq" / "runs"
    assert resolve_run_dir("runs/x/run") == Path.home() / ".cache/seq2seq/runs/x/run"


def test_every_run_config_keeps_its_runs_under_seq2seq_runs():
    # Configs name run folders runs/<name>/...: all of them resolve outside the work tree.
    from training.runs import resolve_out, resolve_run_dir, runs_root

    for path in sorted((ROOT / "training" / "configs").glob("*.json")):
        config = json.loads(path.read_text())
        run_dir = resolve_run_dir(config["run_dir"])
        assert runs_root() in run_dir.parents, path.name
        out = config.get("out", "models/en-de")
        assert out.startswith(("runs/", "models/")), path.name
        if out.startswith("runs/"):
            assert runs_root() in resolve_out(out).parents, path.name


def write_origin_tsv(path, pairs, origin):
    path.write_text("".join(f"{s}\t{t}\t{origin}\n" for s, t in pairs), encoding="utf-8")
    return path


def test_train_extra_files_are_read_like_train_and_upsampled_by_tag(tmp_path):
    from training.train import TrainConfig, read_training_pairs, upsampled

    train = write_origin_tsv(tmp_path / "train.tsv", [("Hello.", "Hallo.")], "ding")
    extra = write_origin_tsv(
        tmp_path / "extra.tsv", [("Good morning!", "Guten Morgen!")], "auf_deutsch"
    )
    config = TrainConfig(direction="de-en", train=str(train), train_extra=[str(extra)])
    pairs = read_training_pairs(config)
    assert [(p.src, p.tgt, p.origin) for p in pairs] == [
        ("Hallo.", "Hello.", "ding"),
        ("Guten Morgen!", "Good morning!", "auf_deutsch"),  # reversed too
    ]
    assert [p.src for p in upsampled(pairs, {"auf_deutsch": 3})].count("Guten Morgen!") == 3
    assert read_training_pairs(TrainConfig(train=str(train))) == [("Hello.", "Hallo.", "ding")]
    assert TrainConfig().train_extra == []


def test_run_with_relative_folders_and_an_extra_file_lives_under_seq2seq_runs(tmp_path):
    # A config with relative runs/ paths, run from another working directory: the run and
    # model folders go under $SEQ2SEQ_RUNS, the extra file's pairs are trained on (upsampled
    # by their tag) and recorded, and --resume finds the checkpoint again.
    cwd, runs = tmp_path / "work", tmp_path / "runs-here"
    cwd.mkdir()
    train = write_tsv(tmp_path / "train.tsv", reverse_task(300, seed=3))
    extra = write_origin_tsv(tmp_path / "extra.tsv", reverse_task(40, seed=5), "auf_deutsch")
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            {
                "train": str(train),
                "train_extra": [str(extra)],
                "upsample": {"auf_deutsch": 3},
                "dev": str(write_tsv(tmp_path / "dev.tsv", reverse_task(30, seed=4))),
                "out": "runs/tiny/model",
                "run_dir": "runs/tiny/run",
                "vocab_size": 300,
                "batch_tokens": 400,
                "dev_bleu_sentences": 20,
                "verbose": 0,
                "checkpoint_every": 0,
                "epochs": 1,
                "model": {"emb_dim": 16, "enc_units": 16, "dec_units": 32, "attn_units": 16},
            }
        )
    )
    env = {"SEQ2SEQ_RUNS": str(runs), "PYTHONPATH": str(ROOT)}
    first = run_train(["--config", str(config)], env, cwd=cwd)
    assert first.returncode == 0, first.stderr[-3000:]
    model = runs / "tiny" / "model"
    assert (model / "model.weights.h5").is_file() and (runs / "tiny/run/backup").is_dir()
    assert not (cwd / "runs").exists()
    meta = json.loads((model / bundle.METADATA_FILE).read_text())
    assert meta["training"]["train_pairs"] == 300 + 3 * 40
    assert meta["training"]["train_extra"] == [str(extra)]
    assert meta["data_sources"]["auf_deutsch"]["train_pairs"] == 40
    assert "not stated" in meta["data_sources"]["auf_deutsch"]["description"]
    resumed = run_train(["--config", str(config), "--epochs", "2", "--resume"], env, cwd=cwd)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    with open(model / "training_log.csv") as f:
        assert [int(r["epoch"]) for r in csv.DictReader(f)] == [0, 1]


def test_everyday_configs_are_their_finetunes_with_the_everyday_file_upsampled():
    # Fine-tunes of the shipped models on the old corpus (replayed with the same domain
    # weights) plus the pair's supplementary everyday file, its source upsampled 5x.
    from training.readers import read_tsv

    bases = {
        "en-zh-everyday.json": (
            "en-zh-finetune2.json",
            {"chinesevocablist": 5, "hsk_sentences": 5},
        ),
        # Its ablation: the HSK sentences left out.
        "en-zh-everyday-nohsk.json": (
            "en-zh-finetune2.json",
            {"chinesevocablist": 5, "hsk_sentences": 0},
        ),
        "en-fr-everyday.json": ("en-fr-finetune.json", {"freedict": 2, "tuxpaint_stamps": 5}),
        # Its ablation: the casual supplement (a file of its own) added.
        "en-fr-casual.json": (
            "en-fr-finetune.json",
            {"freedict": 2, "tuxpaint_stamps": 5, "fillets": 3, "gcompris_words": 3},
        ),
        "en-de-everyday.json": ("en-de-finetune.json", {"auf_deutsch": 5}),
        "de-en-everyday.json": ("de-en-finetune.json", {"auf_deutsch": 5}),
    }
    for name, (base_name, tags) in bases.items():
        config = json.loads((ROOT / "training/configs" / name).read_text())
        base = json.loads((ROOT / "training/configs" / base_name).read_text())
        origins = {p.origin for extra in config["train_extra"] for p in read_tsv(ROOT / extra)[0]}
        assert origins == set(tags)
        assert config["upsample"] == {**base["upsample"], **tags}
        assert config["init_from"] == base["init_from"] and (ROOT / config["init_from"]).is_dir()
        assert config["learning_rate"] == 5e-4 and config["checkpoint_every"] == 100
        assert 40 <= config["max_minutes"] <= 90  # a run fits in a session beside others
        assert config["out"].startswith("runs/") and config["run_dir"].startswith("runs/")
        changed = {
            "train_extra",
            "upsample",
            "out",
            "run_dir",
            "jit_compile",
            "max_minutes",
            "precision",
            "epochs",
            "log_every",
        }
        assert {k: v for k, v in config.items() if k not in changed} == {
            k: v for k, v in base.items() if k not in changed
        }
