"""The repository as a Hugging Face Space: README front matter and the files deployed."""

import re
from pathlib import Path

import yaml

from training.deploy_space import space_files

ROOT = Path(__file__).resolve().parents[1]


def front_matter() -> dict:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.match(r"^---\n(.*?)\n---\n", text, re.S)
    assert match, "README.md must start with the Spaces front matter"
    return yaml.safe_load(match.group(1))


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.split("==")[0].strip().lower() == package:
            return line.split("==")[1].strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


def test_front_matter_matches_the_repository():
    meta = front_matter()
    for key in ("title", "emoji", "sdk", "sdk_version", "python_version", "app_file",
                "license", "short_description"):  # fmt: skip
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
    assert {"app.py", "requirements.txt", "README.md", "seq2seq/model.py"} <= set(with_models)
    assert "models/en-de/model.weights.h5" in with_models
    assert not any(p.startswith(("tests/", "training/", "benchmarks/", ".")) for p in with_models)
    without = space_files(with_models=False)
    assert not any(p.startswith("models/") for p in without)
    # The app imports nothing outside what is deployed.
    imported = re.findall(r"^from (\w+)|^import (\w+)", (ROOT / "app.py").read_text(), re.M)
    local = {a or b for a, b in imported} & {"training", "tests", "benchmarks"}
    assert not local
