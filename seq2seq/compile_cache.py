"""The compile cache on disk: compiled search programs kept between processes, so a
restarted server or a second CLI run loads what the first compiled instead of compiling.

A process-wide setting: an entry point (the app's launcher, the CLIs) calls :func:`use`
once at start-up, before the first model loads (TensorFlow's XLA reads its flags once).
No constructor of the library sets it.
"""

from __future__ import annotations

import os
from pathlib import Path


def default_cache_dir() -> str:
    """``$SEQ2SEQ_CACHE_DIR``, else ``$XDG_CACHE_HOME/seq2seq`` (``~/.cache/seq2seq``)."""
    if "SEQ2SEQ_CACHE_DIR" in os.environ:
        return os.environ["SEQ2SEQ_CACHE_DIR"]
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return str(Path(base) / "seq2seq")


def use(cache_dir: str) -> None:
    """Keep compiled programs in ``cache_dir``; a no-op for other backends or ``""``.

    TensorFlow's XLA reads its flags once, before the first model is loaded: call this
    first (the entry points do). TensorFlow logs a harmless protobuf "Error parsing text-format
    XlaSerializedCacheEntry" line when it loads a cached program (it tries text first).
    """
    if not cache_dir:
        return
    import keras

    backend = keras.backend.backend()
    if backend == "tensorflow":
        flag = f"--tf_xla_persistent_cache_directory={Path(cache_dir) / 'xla'}"
        flags = os.environ.get("TF_XLA_FLAGS", "")
        if "tf_xla_persistent_cache_directory" not in flags:
            os.environ["TF_XLA_FLAGS"] = f"{flags} {flag}".strip()
    elif backend == "jax":
        import jax

        jax.config.update("jax_compilation_cache_dir", str(Path(cache_dir) / "jax"))
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
