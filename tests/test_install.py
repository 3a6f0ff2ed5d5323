"""The library installs with pip and works outside the checkout.

``pip install --no-deps --target DIR`` from a copy of what the build reads (pyproject.toml
and seq2seq/, so no build/ or *.egg-info lands in the checkout), then a fresh interpreter
whose working directory is elsewhere imports ``seq2seq`` from DIR and runs the console
script. ``--no-deps --no-build-isolation``: the runtime stack is already installed here, and
nothing is downloaded. The ``git+file://`` variant installs the committed HEAD the way the
model card's ``pip install "git+URL"`` line does.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PIP = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--quiet",
       "--disable-pip-version-check", "--no-index"]  # fmt: skip


def pip_install(source: str, target: Path):
    result = subprocess.run([*PIP, "--target", str(target), source], capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]


def run_outside(target: Path, cwd: Path, *args):
    """Run a command with only ``target`` added to the path, from a folder outside ROOT."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(target), TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def check_installed(target: Path, cwd: Path):
    installed = {p.name for p in target.iterdir()}
    assert "seq2seq" in installed
    assert not installed & {"training", "tests", "models", "app.py", "benchmarks"}, installed
    script = target / "bin" / "seq2seq-translate"
    assert script.is_file()
    # One interpreter (TensorFlow loads once): where seq2seq comes from, whether importing
    # it registered the model, then the console script itself with --help.
    code = ("import runpy, sys, keras, seq2seq; print(seq2seq.__file__); "
            "print(keras.saving.get_registered_object('seq2seq>Seq2Seq')); "
            "sys.argv = [sys.argv[1], '--help']; "
            "runpy.run_path(sys.argv[0], run_name='__main__')")  # fmt: skip
    result = run_outside(target, cwd, sys.executable, "-c", code, str(script))
    assert result.returncode == 0, result.stderr[-3000:]
    file, registered, *helped = result.stdout.split("\n")
    assert Path(file).is_relative_to(target)  # not the checkout
    assert "seq2seq.model.Seq2Seq" in registered  # `import seq2seq` registered the model
    assert "usage:" in helped[0] and "--model" in "\n".join(helped)


def test_pip_install_from_the_checkout_works_from_another_folder(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copytree(ROOT / "seq2seq", source / "seq2seq",
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    pip_install(str(source), tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    check_installed(tmp_path / "site", elsewhere)


@pytest.mark.skipif(
    not (ROOT / ".git").exists() or not shutil.which("git"), reason="not a git checkout"
)
def test_pip_install_git_url_of_the_committed_head(tmp_path):
    pip_install(f"git+file://{ROOT}", tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    installed = run_outside(tmp_path / "site", elsewhere, sys.executable, "-c",
                            "import seq2seq.bundle, seq2seq.hub; print('ok')")  # fmt: skip
    assert installed.returncode == 0 and installed.stdout == "ok\n", installed.stderr[-3000:]
