"""Where training runs live: outside the work tree.

The work tree may be laid anew while a run goes on across sessions, so checkpoints and
candidate model folders go under one folder of the machine: ``$SEQ2SEQ_RUNS``, by default
``~/.cache/seq2seq/runs``. Configs keep naming them ``runs/<name>/...``:

- ``run_dir``: a relative path is under that folder (a leading ``runs/`` dropped):
  ``runs/en-zh-ft/run`` → ``~/.cache/seq2seq/runs/en-zh-ft/run``, ``scratch`` →
  ``~/.cache/seq2seq/runs/scratch``.
- ``out`` and ``init_from`` (model folders): only a relative path that starts with
  ``runs/`` moves there (a run may start from another run's model); ``models/en-de``
  stays in the work tree, relative to the working directory.
- Absolute paths (and ``~/...``) are used as they are.

Not for: the shipped models (``models/``), which are part of the work tree.
"""

from __future__ import annotations

import os
from pathlib import Path

RUNS_ENV = "SEQ2SEQ_RUNS"
DEFAULT_RUNS = "~/.cache/seq2seq/runs"


def runs_root() -> Path:
    """``$SEQ2SEQ_RUNS``, else ``~/.cache/seq2seq/runs`` (``~`` expanded, not created)."""
    return Path(os.environ.get(RUNS_ENV) or DEFAULT_RUNS).expanduser()


def _resolve(path: str | Path, always: bool) -> Path:
    path = Path(path).expanduser()
    if path.is_absolute():
        return path
    if path.parts[:1] == ("runs",):
        return runs_root().joinpath(*path.parts[1:])
    return runs_root() / path if always else path


def resolve_run_dir(path: str | Path) -> Path:
    """A run's checkpoint folder: a relative ``path`` is under :func:`runs_root`."""
    return _resolve(path, always=True)


def resolve_out(path: str | Path) -> Path:
    """A run's model folder: a relative ``path`` starting with ``runs/`` is under
    :func:`runs_root`; any other path is used as it is."""
    return _resolve(path, always=False)
