"""The library installs with pip and works outside the checkout.

``pip install --no-deps --target DIR`` from a copy of what the build reads (pyproject.toml
and seq2seq/, so no build/ or *.egg-info lands in the checkout), then a fresh interpreter
whose working directory is elsewhere imports ``seq2seq`` from DIR and runs the console
script. ``--no-deps --no-build-isolation``: the runtime stack is already installed here, and
nothing is downloaded. The ``git+file://`` variant installs the committed HEAD the way the
model card's ``pip install "git+URL"`` line does.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # pip installs

ROOT = Path(__file__).resolve().parents[1]
PIP = [
    sys.executable,
    "-m",
    "pip",
    "install",
    "--no-deps",
    "--no-build-isolation",
    "--quiet",
    "--disable-pip-version-check",
    "--no-index",
]


def pip_install(source: str, target: Path):
    result = subprocess.run(
        [*PIP, "--target", str(target), source], capture_output=True, text=True, timeout=120
    )
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
    # seq2seq.model registered the model, then the console script itself with --help.
    code = (
        "import runpy, sys, keras, seq2seq.model; print(seq2seq.__file__); "
        "print(keras.saving.get_registered_object('seq2seq>Seq2Seq')); "
        "sys.argv = [sys.argv[1], '--help']; "
        "runpy.run_path(sys.argv[0], run_name='__main__')"
    )
    result = run_outside(target, cwd, sys.executable, "-c", code, str(script))
    assert result.returncode == 0, result.stderr[-3000:]
    file, registered, *helped = result.stdout.split("\n")
    assert Path(file).is_relative_to(target)  # not the checkout
    assert "seq2seq.model.Seq2Seq" in registered  # `import seq2seq.model` registered it
    assert "usage:" in helped[0] and "--model" in "\n".join(helped)
    # Every module of the installed package imports (none needs the app's extras).
    code = (
        "import importlib, pkgutil, seq2seq; "
        "names = [m.name for m in pkgutil.walk_packages(seq2seq.__path__, 'seq2seq.')]; "
        "[importlib.import_module(n) for n in names]; print(len(names))"
    )
    result = run_outside(target, cwd, sys.executable, "-c", code)
    assert result.returncode == 0 and int(result.stdout) >= 20, result.stderr[-3000:]


def test_pip_install_from_the_checkout_works_from_another_folder(tmp_path):
    source = tmp_path / "source"
    source.mkdir()
    shutil.copy(ROOT / "pyproject.toml", source)
    shutil.copytree(
        ROOT / "seq2seq", source / "seq2seq", ignore=shutil.ignore_patterns("__pycache__")
    )
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
    installed = run_outside(
        tmp_path / "site",
        elsewhere,
        sys.executable,
        "-c",
        "import seq2seq.bundle, seq2seq.hub; print('ok')",
    )
    assert installed.returncode == 0 and installed.stdout == "ok\n", installed.stderr[-3000:]


def declared_modules() -> set[str]:
    """The import names of the core dependencies in pyproject.toml."""
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = {re.split(r"[=<>;\[ ]", d, maxsplit=1)[0] for d in project["dependencies"]}
    return {
        {"tensorflow-cpu": "tensorflow", "huggingface-hub": "huggingface_hub"}.get(n, n)
        for n in names
    }


def test_the_library_imports_only_what_it_declares():
    """Each module of seq2seq/ (imports inside functions too) imports the standard library,
    seq2seq itself, a declared dependency, or a Keras backend the user chose (jax)."""
    import ast

    allowed = set(sys.stdlib_module_names) | declared_modules() | {"seq2seq", "jax"}
    found = {}
    for path in sorted((ROOT / "seq2seq").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module]
            else:
                continue
            for name in names:
                if name.split(".")[0] not in allowed:
                    found.setdefault(path.name, set()).add(name)
    assert not found, found


def test_the_cli_answers_help_without_tensorflow():
    code = (
        "import runpy, sys\nsys.argv = ['seq2seq.translate', '--help']\n"
        "try:\n    runpy.run_module('seq2seq.translate', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "heavy = {'keras', 'tensorflow', 'jax'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "usage:" in result.stdout, result.stderr[-2000:]
    assert result.stdout.splitlines()[-1] == "[]"
