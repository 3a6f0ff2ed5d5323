"""Push and pull through the real huggingface_hub client against a local fake Hub.

The CLIs run as subprocesses whose environment points ``HF_ENDPOINT`` at the fake Hub on
127.0.0.1 and ``HF_HOME`` at a temporary cache; nothing here contacts the real Hub.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hub_server import FakeHub
from huggingface_hub import ModelCard

from seq2seq import bundle

pytestmark = pytest.mark.slow  # push and pull in fresh processes against a local Hub

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
    return {
        **base,
        "HF_ENDPOINT": hub.url,
        "HF_HOME": str(home),
        "HF_TOKEN": TOKEN,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "TF_CPP_MIN_LOG_LEVEL": "2",
    }


CODE_URL = "https://example.org/seq2seq-attention.git"
PUSH = ["training.push_to_hub", "--code-url", CODE_URL]


def run(args, env, stdin=None):
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def pushed(hub, env):
    first = run([*PUSH, "--model", MODEL, "--repo-id", "alice/en-de"], env)
    assert first.returncode == 0, first.stderr[-3000:]
    second = run(
        [
            *PUSH,
            "--model",
            MODEL,
            "--repo-id",
            "alice/en-de",
            "--revision",
            "v1",
            "--commit-message",
            "v1 release",
        ],
        env,
    )
    assert second.returncode == 0, second.stderr[-3000:]
    return first, second


def check_card(text: str, folder: Path, repo_id: str):
    """The card parses back with ``ModelCard`` into exactly the metadata we measured."""
    data = ModelCard(text).data
    meta = json.loads((folder / "metadata.json").read_text())
    src, tgt = meta["direction"].split("-")  # a folder's name may add more (en-de-luong)
    assert (data.library_name, data.pipeline_tag, data.language) == (
        "keras",
        "translation",
        [src, tgt],
    )
    alpha = meta.get("decoding", {}).get("length_penalty", 0.6)  # Keras's path must be told
    assert f"beam_size=5, length_penalty={alpha:g}))" in text
    licenses = sorted({s["license"] for s in meta["data_sources"].values()})
    assert data.license == "other" and data.license_link == "LICENSE.md"
    assert data.license_name == "-and-".join(x.lower() for x in licenses) + "-training-data"
    evaluation = json.loads((folder / "eval.json").read_text())
    setting = f"beam {evaluation['beam_size']}"  # and the α, where the evaluation names it
    if "length_penalty" in evaluation:
        setting += f", α {evaluation['length_penalty']:g}"
    assert data.model_name == repo_id
    found = [
        (r.task_type, r.dataset_split, r.metric_type, r.metric_value, r.metric_name, r.metric_args)
        for r in data.eval_results
    ]
    assert found == [
        (
            "translation",
            "test",
            "bleu",
            evaluation["bleu"],
            f"BLEU (sacreBLEU, {setting})",
            {"signature": evaluation["bleu_signature"]},
        ),
        (
            "translation",
            "test",
            "chrf",
            evaluation["chrf"],
            f"chrF (sacreBLEU, {setting})",
            {"signature": evaluation["chrf_signature"]},
        ),
    ]
    assert all(f"{evaluation['sentences']} sentences" in r.dataset_name for r in data.eval_results)
    # Plain YAML reads the same thing: no stray keys from unquoted punctuation.
    front = yaml.safe_load(re.match(r"^---\n(.*?)\n---\n", text, re.S).group(1))
    metrics = front["model-index"][0]["results"][0]["metrics"]
    assert [set(m) for m in metrics] == [{"type", "value", "name", "args"}] * 2
    return data


def test_push_uploads_model_and_card(hub, pushed):
    files = hub.files("alice/en-de")
    local = ROOT / MODEL
    for name in bundle.MODEL_FILES + bundle.EXTRA_FILES:
        assert files[name] == (local / name).read_bytes(), name
    assert set(files) == {*bundle.MODEL_FILES, *bundle.EXTRA_FILES, "README.md", "LICENSE.md"}
    card = files["README.md"].decode("utf-8")
    check_card(card, local, "alice/en-de")
    assert "GPL-2.0-or-later" in card and "libreoffice" in card
    license_md = files["LICENSE.md"].decode("utf-8")
    assert "GPL-2.0-or-later" in license_md and "MPL-2.0" in license_md
    assert hub.files("alice/en-de", "v1").keys() == files.keys()


def python_blocks(card: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", card, re.S)


def run_code(code: str, env, cwd) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, (code, result.stderr[-3000:])
    return result.stdout


def test_card_usage_runs_and_translates_like_the_local_folder(hub, env, pushed, tmp_path):
    """What a Hub visitor copies: the install line and both loading paths, each run in a
    fresh interpreter outside the checkout (PYTHONPATH stands in for the install, which
    tests/test_install.py checks), against the fake Hub."""
    card = hub.files("alice/en-de")["README.md"].decode("utf-8")
    assert re.findall(r"```bash\n(.*?)```", card, re.S) == [f'pip install "git+{CODE_URL}"\n']
    keras_path, translator_path = python_blocks(card)
    assert 'keras.saving.load_model("hf://alice/en-de")' in keras_path
    assert 'Translator.load("alice/en-de")' in translator_path
    outside = {**env, "PYTHONPATH": str(ROOT)}
    code = (
        "from seq2seq.translator import Translator as T; "
        "print(T.load('models/en-de').translate_texts(['Thank you very much.'], beam_size=5))"
    )
    local = run_code(code, env, ROOT)
    assert re.fullmatch(r"\['[^']+'\]\n", local)  # one non-empty translation
    assert run_code(keras_path, outside, tmp_path) == local
    assert run_code(translator_path, outside, tmp_path) == local


def test_keras_can_load_the_local_folder_too(env):
    code = (
        "import keras, seq2seq.model; m = keras.saving.load_model('models/en-de'); "
        "print(type(m).__name__, m.tokenizer.vocab_size)"
    )
    assert run_code(code, env, ROOT) == "Seq2Seq 8000\n"


def test_a_keras_native_push_loads_through_both_paths(hub, env):
    """``model.save("hf://…")`` (Keras's own upload: tokenizer in assets/) loads with Keras
    and with this library's loader, and translates like the local folder."""
    code = """if True:
        import keras
        from seq2seq.bundle import load
        from seq2seq.translator import Translator
        text = ["Thank you very much."]
        local = Translator(load("models/en-de")).translate_texts(text)
        keras.saving.load_model("models/en-de").save("hf://alice/native")
        # Keras's upload carries no metadata.json: the library's α, unless one is given.
        alpha = Translator.load("models/en-de").default_options.length_penalty
        # The library's loader first: it must fetch assets/ itself (Keras's download
        # would fill the shared cache with the whole repo).
        pulled = Translator.load("alice/native")
        assert pulled.default_options.length_penalty == 0.6 != alpha
        assert pulled.translate_texts(text, beam_size=5, length_penalty=alpha) == local
        native = Translator.for_model(keras.saving.load_model("hf://alice/native"))
        assert native.default_options.length_penalty == 0.6
        assert native.translate_texts(text, length_penalty=alpha) == local
        print(local)
    """
    run_code(code, env, ROOT)
    files = hub.files("alice/native")
    assert files["assets/tokenizer.model"] == (ROOT / MODEL / "tokenizer.model").read_bytes()
    assert "tokenizer.model" not in files


def test_an_old_layout_folder_is_pushed_in_the_new_layout(hub, env, tmp_path):
    import keras

    old = tmp_path / "en-de"
    shutil.copytree(ROOT / MODEL, old)
    spec, meta = bundle.read_config(old)
    meta = {k: v for k, v in meta.items() if k not in bundle.FORMAT_KEYS}
    wrapper = {
        "format_version": 1,
        "keras_version": keras.__version__,
        "model": spec,
        "metadata": meta,
    }
    (old / "config.json").write_text(json.dumps(wrapper))
    (old / "metadata.json").unlink()
    push = run([*PUSH, "--model", str(old), "--repo-id", "alice/old"], env)
    assert push.returncode == 0, push.stderr[-3000:]
    files = hub.files("alice/old")
    for name in ("config.json", "metadata.json"):
        assert files[name] == (ROOT / MODEL / name).read_bytes(), name
    assert (old / "config.json").read_text() == json.dumps(wrapper)  # the folder is untouched


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
    offline = run(
        ["seq2seq.translate", "--model", "alice/en-de"], {**env, "HF_HUB_OFFLINE": "1"}, LINES
    )
    assert offline.returncode == 0, offline.stderr[-3000:]
    assert offline.stdout == warm.stdout
    assert len(hub.requests) == before  # not a single request


def test_local_folder_wins_over_a_repo_of_the_same_name(hub, env, pushed):
    result = run(["seq2seq.translate", "--model", MODEL], env, LINES)
    assert result.returncode == 0
    assert not any(MODEL in r["path"] for r in hub.requests)


def test_truncated_download_fails_clearly(hub, env, pushed, tmp_path):
    push = run([*PUSH, "--model", MODEL, "--repo-id", "alice/en-de", "--revision", "broken"], env)
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
    [
        ({"HF_TOKEN": ""}, "alice/x", "no Hub token"),
        ({}, "bob/x", "not allowed (HTTP 403)"),
        ({"HF_ENDPOINT": "http://127.0.0.1:{port}"}, "alice/x", "cannot reach the Hub"),
    ],
    ids=["no-token", "someone-elses-repo", "network-down"],
)
def test_push_errors_are_clear(env, change, repo, message):
    changed = {k: v.format(port=free_port()) for k, v in change.items()}
    environment = {k: v for k, v in {**env, **changed}.items() if v != ""}
    result = run([*PUSH, "--model", MODEL, "--repo-id", repo], environment)
    assert result.returncode == 1
    assert message in result.stderr, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and TOKEN not in result.stderr


def test_unknown_repo_fails_clearly(env):
    result = run(["seq2seq.translate", "--model", "alice/nothing-here"], env, LINES)
    assert result.returncode == 1 and "repository not found" in result.stderr


def test_model_panel_names_repo_and_commit(hub, env, pushed):
    sha = hub.commits("alice/en-de", "v1")[-1]
    code = (
        "from seq2seq import hub; from webapp import views; b = hub.load('alice/en-de@v1'); "
        "print(views.model_markdown(b, None))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "alice/en-de" in result.stdout and sha in result.stdout and "`v1`" in result.stdout


@pytest.mark.parametrize("folder", sorted(f"models/{d.name}" for d in (ROOT / "models").iterdir()))
def test_every_shipped_model_has_a_valid_card(folder):
    from seq2seq.hub import model_card

    card = str(model_card(ROOT / folder, f"alice/{Path(folder).name}", CODE_URL))
    check_card(card, ROOT / folder, f"alice/{Path(folder).name}")


def test_a_push_without_a_code_url_stops_before_uploading(hub, env):
    """No --code-url and no origin remote with a URL: a usage error, nothing uploaded."""
    before = len(hub.requests)
    no_git = {**env, "GIT_DIR": str(ROOT / "no-such-git-dir")}
    cmd = ["training.push_to_hub", "--model", MODEL, "--repo-id", "alice/no-url"]
    result = run(cmd, no_git)
    assert result.returncode == 2 and "--code-url is needed" in result.stderr, result.stderr
    assert len(hub.requests) == before
