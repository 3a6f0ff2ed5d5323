"""Push and pull through the real huggingface_hub client against a local fake Hub.

The CLIs run as subprocesses whose environment points ``HF_ENDPOINT`` at the fake Hub on
127.0.0.1 and ``HF_HOME`` at a temporary cache; nothing here contacts the real Hub.
"""

import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hub_server import FakeHub

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "hf_test_token"
MODEL = "models/en-de"
LINES = "Click the arrow next to the icon to open the toolbar.\nThank you very much.\n"


@pytest.fixture(scope="module")
def hub():
    server = FakeHub({TOKEN: "alice"})
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def env(hub, tmp_path_factory):
    home = tmp_path_factory.mktemp("hf_home")
    base = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    return {**base, "HF_ENDPOINT": hub.url, "HF_HOME": str(home), "HF_TOKEN": TOKEN,
            "HF_HUB_DISABLE_TELEMETRY": "1", "TF_CPP_MIN_LOG_LEVEL": "2"}  # fmt: skip


def run(args, env, stdin=None):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)  # fmt: skip


@pytest.fixture(scope="module")
def pushed(hub, env):
    first = run(["training.push_to_hub", "--model", MODEL, "--repo-id", "alice/en-de"], env)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run(["training.push_to_hub", "--model", MODEL, "--repo-id", "alice/en-de",
                  "--revision", "v1", "--commit-message", "v1 release"], env)  # fmt: skip
    assert second.returncode == 0, second.stderr[-3000:]
    return first, second


def test_push_uploads_model_and_card(hub, pushed):
    files = hub.files("alice/en-de")
    local = ROOT / MODEL
    for name in ("config.json", "model.weights.h5", "tokenizer.model", "eval.json",
                 "training_log.csv", "curves.png"):  # fmt: skip
        assert files[name] == (local / name).read_bytes(), name
    card = files["README.md"].decode("utf-8")
    meta = yaml.safe_load(re.match(r"^---\n(.*?)\n---\n", card, re.S).group(1))
    assert meta["library_name"] == "keras" and meta["pipeline_tag"] == "translation"
    assert meta["language"] == ["en", "de"]
    metrics = {m["type"]: m for m in meta["model-index"][0]["results"][0]["metrics"]}
    evaluation = json.loads((local / "eval.json").read_text())
    assert metrics["bleu"]["value"] == evaluation["bleu"]
    assert metrics["chrf"]["value"] == evaluation["chrf"]
    assert metrics["bleu"]["args"] == evaluation["bleu_signature"]
    assert "GPL-2.0-or-later" in card and "libreoffice" in card
    assert hub.files("alice/en-de", "v1").keys() == files.keys()


def test_token_never_leaks(hub, pushed):
    for result in pushed:
        assert TOKEN not in result.stdout + result.stderr
    for revision in ("main", "v1"):
        for name, content in hub.files("alice/en-de", revision).items():
            assert TOKEN.encode() not in content, name


def test_pull_by_repo_id_revision_and_commit_translates_like_the_folder(hub, env, pushed):
    local = run(["seq2seq.translate", "--model", MODEL], env, LINES)
    assert local.returncode == 0, local.stderr[-3000:]
    sha = hub.commits("alice/en-de", "v1")[-1]
    for spec in ("alice/en-de", "hf://alice/en-de", "alice/en-de@v1", f"alice/en-de@{sha}"):
        pulled = run(["seq2seq.translate", "--model", spec], env, LINES)
        assert pulled.returncode == 0, (spec, pulled.stderr[-3000:])
        assert pulled.stdout == local.stdout, spec
        assert re.search(r"model: Hub repo `alice/en-de` .*commit [0-9a-f]{40}", pulled.stderr)


def test_offline_mode_loads_from_the_cache(hub, env, pushed):
    warm = run(["seq2seq.translate", "--model", "alice/en-de"], env, LINES)
    assert warm.returncode == 0
    before = len(hub.requests)
    offline = run(["seq2seq.translate", "--model", "alice/en-de"],
                  {**env, "HF_HUB_OFFLINE": "1"}, LINES)  # fmt: skip
    assert offline.returncode == 0, offline.stderr[-3000:]
    assert offline.stdout == warm.stdout
    assert len(hub.requests) == before  # not a single request


def test_local_folder_wins_over_a_repo_of_the_same_name(hub, env, pushed):
    result = run(["seq2seq.translate", "--model", MODEL], env, LINES)
    assert result.returncode == 0
    assert not any(MODEL in r["path"] for r in hub.requests)


def test_truncated_download_fails_clearly(hub, env, pushed, tmp_path):
    push = run(["training.push_to_hub", "--model", MODEL, "--repo-id", "alice/en-de",
                "--revision", "broken"], env)  # fmt: skip
    assert push.returncode == 0, push.stderr[-2000:]
    hub.truncate("alice/en-de", "broken", "model.weights.h5", 1_000_000)
    fresh = {**env, "HF_HOME": str(tmp_path / "fresh")}  # a cache without the good weights
    pulled = run(["seq2seq.translate", "--model", "alice/en-de@broken"], fresh, LINES)
    assert pulled.returncode != 0
    assert "model.weights.h5" in pulled.stderr and "Traceback" not in pulled.stderr


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    "change, repo, message",
    [({"HF_TOKEN": ""}, "alice/x", "no Hub token"),
     ({}, "bob/x", "not allowed (HTTP 403)"),
     ({"HF_ENDPOINT": "http://127.0.0.1:{port}"}, "alice/x", "cannot reach the Hub")],
    ids=["no-token", "someone-elses-repo", "network-down"],
)  # fmt: skip
def test_push_errors_are_clear(env, change, repo, message):
    changed = {k: v.format(port=free_port()) for k, v in change.items()}
    environment = {k: v for k, v in {**env, **changed}.items() if v != ""}
    result = run(["training.push_to_hub", "--model", MODEL, "--repo-id", repo], environment)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr


def test_unknown_repo_fails_clearly(env):
    result = run(["seq2seq.translate", "--model", "alice/nothing-here"], env, LINES)
    assert result.returncode == 1 and "repository not found" in result.stderr


def test_model_panel_names_repo_and_commit(hub, env, pushed):
    sha = hub.commits("alice/en-de", "v1")[-1]
    code = ("from seq2seq import hub, views; b = hub.load('alice/en-de@v1'); "
            "print(views.model_markdown(b, None))")  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert "alice/en-de" in result.stdout and sha in result.stdout and "`v1`" in result.stdout


@pytest.mark.parametrize("folder", ["models/en-de", "models/de-en", "models/en-fr"])
def test_every_shipped_model_has_a_valid_card(folder):
    from seq2seq.hub import model_card

    card = model_card(ROOT / folder, f"alice/{Path(folder).name}")
    meta = yaml.safe_load(re.match(r"^---\n(.*?)\n---\n", card, re.S).group(1))
    src, tgt = Path(folder).name.split("-")
    assert meta["language"] == [src, tgt]
    evaluation = json.loads((ROOT / folder / "eval.json").read_text())
    metrics = {m["type"]: m["value"] for m in meta["model-index"][0]["results"][0]["metrics"]}
    assert metrics == {"bleu": evaluation["bleu"], "chrf": evaluation["chrf"]}
    assert evaluation["bleu"] >= 25  # the quality bar of every shipped direction
