"""Shared fixtures: tiny models and a tiny trained model folder (the synthetic task)."""

import atexit
import os
import random
import shutil
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
# The command-line tools keep compiled graphs in ~/.cache/seq2seq by default: the tests'
# own go to a temporary folder (inherited by the commands they start), removed at exit.
if "SEQ2SEQ_CACHE_DIR" not in os.environ:
    os.environ["SEQ2SEQ_CACHE_DIR"] = tempfile.mkdtemp(prefix="seq2seq-test-cache-")
    atexit.register(shutil.rmtree, os.environ["SEQ2SEQ_CACHE_DIR"], ignore_errors=True)

import pytest  # noqa: E402
from fakes import FakeTranslator  # noqa: E402

from webapp.files import ResultFolder  # noqa: E402
from webapp.service import TranslationService  # noqa: E402

# Text with nothing to translate (no letter, digit, punctuation or symbol that draws
# something): every entry point must say so, never invent a translation for it.
INVISIBLE_TEXTS = [
    "\u200b",
    "\ufeff",
    " \u200e\u200f ",
    "\u2060\u00ad",
    "\x01\x02",
    "\x7f",
    "\u202e\t\u202c",  # format and control characters
    "\u3164",
    "\u115f\u1160",
    "\uffa0",  # Hangul fillers (letters that draw nothing)
    "\u2800",  # the blank Braille pattern
    "\u034f",
    "\u0301\u0308",
    "\ufe0f\ufe0e",  # combining marks, variation selectors alone
    "\ue000\uf8ff",
    "\uffff",
    "\U000f0000",  # private use, unassigned
    "\u3000\u2003\u00a0",  # wide and no-break spaces
]
DIGITS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def reverse_task(n, seed, min_len=2, max_len=5):
    """Pairs ``"one two three" -> "three two one"``: a task a tiny model must learn."""
    rng = random.Random(seed)
    pairs = []
    for _ in range(n):
        words = [rng.choice(DIGITS) for _ in range(rng.randint(min_len, max_len))]
        pairs.append((" ".join(words), " ".join(reversed(words))))
    return pairs


def write_tsv(path, pairs):
    path.write_text("".join(f"{s}\t{t}\n" for s, t in pairs), encoding="utf-8")
    return path


def train_tiny(root, out_name="model", attention="bahdanau"):
    """A model folder trained by ``training.train`` on the reverse task (a few seconds)."""
    from training.train import TrainConfig, train

    config = TrainConfig(
        direction="en-de",
        train=str(write_tsv(root / "train.tsv", reverse_task(3000, seed=1))),
        dev=str(write_tsv(root / "dev.tsv", reverse_task(200, seed=2))),
        out=str(root / out_name),
        run_dir=str(root / "run"),
        vocab_size=300,
        batch_tokens=640,
        learning_rate=0.01,
        warmup_steps=20,
        epochs=6,
        patience=6,
        dev_bleu_sentences=100,
        checkpoint_every=0,
        verbose=0,
        model={
            "emb_dim": 32,
            "enc_units": 32,
            "dec_units": 64,
            "attn_units": 32,
            "dropout": 0.0,
            "attention": attention,
        },
    )
    history = train(config)
    return root / out_name, history, config


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    """A tiny Bahdanau-attention en-de model: (folder, history, config)."""
    return train_tiny(tmp_path_factory.mktemp("tiny"))


@pytest.fixture(scope="session")
def tiny_luong_dir(tmp_path_factory):
    """The same task and size with Luong (general) attention, in a folder ``en-de-luong``."""
    return train_tiny(tmp_path_factory.mktemp("tiny-luong"), "en-de-luong", "luong_general")[0]


@pytest.fixture(scope="session")
def tiny_noattn_dir(tmp_path_factory):
    """The same task and size without attention, in a folder ``en-de-noattn``."""
    return train_tiny(tmp_path_factory.mktemp("tiny-noattn"), "en-de-noattn", "none")[0]


# --- test tiers ------------------------------------------------------------------------


def pytest_addoption(parser):
    parser.addoption(
        "--run-slow",
        action="store_true",
        help="also run the tests marked slow (the app with the shipped models, Chromium, "
        "pip installs, training runs, subprocess-heavy CLI and Hub tests): the full suite",
    )


def pytest_collection_modifyitems(config, items):
    """Without --run-slow, the tests marked ``slow`` are deselected (pytest counts them as
    "deselected"): the fast tier."""
    if config.getoption("--run-slow"):
        return
    slow = [item for item in items if "slow" in item.keywords]
    if slow:
        config.hook.pytest_deselected(items=slow)
        items[:] = [item for item in items if "slow" not in item.keywords]


# --- the app's request service (tests/test_service.py, tests/test_page.py) --------------


@pytest.fixture
def results(tmp_path):
    folder = ResultFolder(tmp_path)
    yield folder
    folder.close()


@pytest.fixture(scope="module")
def tiny(tiny_model_dir):
    from seq2seq.translator import Translator

    return Translator.load(tiny_model_dir[0])


@pytest.fixture
def service(tiny, results):
    return TranslationService({tiny.bundle.direction: tiny}, max_input_chars=100, results=results)


@pytest.fixture
def fake(results):
    translator = FakeTranslator()
    service = TranslationService({"xx-yy": translator}, max_input_chars=100, results=results)
    return translator, service
