"""The repository as a Hugging Face Space: README front matter and the files deployed."""

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from seq2seq import bundle
from training.deploy_space import RUNTIME_MODEL_FILES, space_files, space_readme

ROOT = Path(__file__).resolve().parents[1]


def front_matter(text: str | None = None) -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8") if text is None else text
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md must start with the Spaces front matter"
    return yaml.safe_load(match.group(1))


def body(text: str) -> str:
    return re.sub(r"^---\n.*?\n---\n", "", text, count=1, flags=re.S).strip()


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.split("==")[0].strip().lower() == package:
            return line.split("==")[1].strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


def test_front_matter_matches_the_repository():
    meta = front_matter()
    for key in (
        "title",
        "emoji",
        "sdk",
        "sdk_version",
        "python_version",
        "app_file",
        "license",
        "short_description",
    ):
        assert meta.get(key), key
    assert meta["sdk"] == "gradio"
    assert meta["sdk_version"] == pinned("gradio")
    assert (ROOT / meta["app_file"]).is_file()
    assert re.fullmatch(r"3\.\d+", str(meta["python_version"]))
    assert len(meta["short_description"]) <= 60
    for repo in meta.get("models", []):
        assert re.fullmatch(r"[\w.-]+/[\w.-]+", repo)


def test_space_gets_only_what_it_runs():
    with_models = space_files(with_models=True)
    runs = {
        "app.py",
        "requirements.txt",
        "packages.txt",
        "README.md",
        "seq2seq/model.py",
        "webapp/service.py",
        "webapp/page.py",
    }
    assert runs <= set(with_models)
    assert "models/en-de/model.weights.h5" in with_models
    assert not any(p.startswith(("tests/", "training/", "benchmarks/", ".")) for p in with_models)
    without = space_files(with_models=False)
    assert not any(p.startswith("models/") for p in without)
    # Every bundled model arrives loadable and fast: its model files and shortlist, its
    # scores (eval.json), none of the other extras.
    for folder in sorted((ROOT / "models").iterdir()):
        sent = {p.split("/")[-1] for p in with_models if p.startswith(f"models/{folder.name}/")}
        assert sent == {*bundle.MODEL_FILES, bundle.SHORTLIST_FILE, bundle.EVAL_FILE}, folder.name
    # The app imports nothing outside what is deployed (at any indentation: some imports
    # are inside functions).
    code = [(ROOT / p).read_text() for p in with_models if p.endswith(".py")]
    imported = re.findall(r"^\s*from (\w+)|^\s*import (\w+)", "\n".join(code), re.M)
    local = {a or b for a, b in imported} & {"training", "tests", "benchmarks"}
    assert not local


@pytest.mark.slow
def test_deploy_space_uploads_only_the_app(tmp_path):
    """Deploy against the local fake Hub, with the models named as Hub repos."""
    import os
    import subprocess
    import sys

    from hub_server import FakeHub

    hub = FakeHub({"hf_test_token": "alice"})
    hub.start()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        env.update(HF_ENDPOINT=hub.url, HF_HOME=str(tmp_path), HF_TOKEN="hf_test_token")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "training.deploy_space",
                "--space-id",
                "alice/demo",
                "--model-repo",
                "alice/en-de",
                "--model-repo",
                "alice/de-en",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stderr[-3000:]
        files = hub.files("alice/demo")
        assert set(files) == set(space_files(with_models=False))
        assert files["app.py"] == (ROOT / "app.py").read_bytes()
        assert files["README.md"].decode("utf-8") == space_readme(["alice/en-de", "alice/de-en"])
        assert hub.space_sdk("alice/demo") == "gradio"
        assert hub.space_variables("alice/demo")["TRANSLATOR_MODELS"] == "alice/en-de,alice/de-en"
        assert "hf_test_token" not in result.stdout + result.stderr
    finally:
        hub.stop()


def test_space_readme_names_the_model_repos_and_preloads_them():
    repos = ["alice/en-de", "alice/de-en"]
    text = space_readme(repos)
    meta, ours = front_matter(text), front_matter()
    assert meta["models"] == repos
    assert meta["preload_from_hub"] == [f"{r} {','.join(RUNTIME_MODEL_FILES)}" for r in repos]
    assert {"translation", "keras", "gradio"} <= set(meta["tags"])
    assert {k: v for k, v in meta.items() if k in ours} == ours  # the rest unchanged
    assert body(text) == body((ROOT / "README.md").read_text(encoding="utf-8"))
    bundled = front_matter(space_readme(None))
    assert "models" not in bundled and "preload_from_hub" not in bundled and bundled["tags"]


def test_no_lfs_rules_the_history_does_not_follow():
    """The weights are plain blobs in this repository's history; an LFS filter would make an
    LFS user's checkout report them modified. deploy_space is the supported publish path."""
    attrs = subprocess.run(
        ["git", "check-attr", "filter", "models/en-de/model.weights.h5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if attrs.returncode != 0:  # not a git checkout
        return
    assert attrs.stdout.strip().endswith("filter: unspecified")


def test_the_space_installs_a_font_with_chinese_glyphs():
    packages = (ROOT / "packages.txt").read_text().split()
    assert "fonts-wqy-microhei" in packages and "chromium" not in packages
    # The README's test command (what CI runs) installs the same font for the browser test.
    readme = (ROOT / "README.md").read_text()
    assert re.search(r"apt-get install -y -qq chromium fonts-wqy-microhei", readme)
