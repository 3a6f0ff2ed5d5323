"""Build the default parallel corpus of a language pair from Debian packages.

``python -m training.corpus build --pair en-de --out training/data/en-de`` downloads the
source packages with ``apt-get download`` (nothing is installed), unpacks them with
``dpkg-deb -x``, extracts and aligns the text (:mod:`training.sources`), cleans it
(:mod:`training.clean`), splits it deterministically and writes ``train/dev/test.tsv.gz``
(columns: English, foreign, source name), ``stats.json`` and ``SOURCES.md``.

Not for: reading corpora at training time (see :mod:`training.readers`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import random
import subprocess
import tempfile
from collections import Counter
from pathlib import Path

from training.clean import clean
from training.sources import SOURCES, Source, extract, sources_for

log = logging.getLogger("training.corpus")

SPLITS = ("train", "dev", "test")
FILTERS = (
    "empty", "markup_or_placeholder", "no_letters", "untranslated",
    "too_long", "length_ratio", "duplicate",
)  # fmt: skip


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


def split(
    pairs_by_source: dict[str, list[tuple[str, str]]],
    held_out: int,
    seed: int,
    min_per_source: int = 200,
) -> tuple[dict[str, list[tuple[str, str, str]]], Counter]:
    """Split cleaned pairs into train/dev/test with no English sentence shared.

    Sentences are grouped by their case-folded English side, so all translations of one
    English sentence land in one split. Dev and test each get ``held_out`` sentences,
    from every source in proportion to its size (at least ``min_per_source``), one
    reference each; the other translations of a held-out sentence are dropped (counted
    as ``held_out_alternatives``) rather than leak into train.

    Returns:
        ({split: [(english, foreign, source)]}, Counter of dropped alternatives per source).
    """
    rng = random.Random(seed)
    owner: dict[str, str] = {}  # english key → first source that has it
    for name, pairs in pairs_by_source.items():
        for en, _ in pairs:
            owner.setdefault(en.casefold(), name)
    total = sum(len(p) for p in pairs_by_source.values())
    held: dict[str, str] = {}  # english key → "dev" | "test"
    for name, pairs in pairs_by_source.items():
        keys = sorted({en.casefold() for en, _ in pairs if owner[en.casefold()] == name})
        rng.shuffle(keys)
        n = max(min_per_source, round(held_out * len(pairs) / total))
        for key in keys[:n]:
            held[key] = "dev"
        for key in keys[n : 2 * n]:
            held[key] = "test"
    out: dict[str, list[tuple[str, str, str]]] = {s: [] for s in SPLITS}
    dropped: Counter = Counter()
    taken: set[str] = set()
    for name, pairs in pairs_by_source.items():
        for en, xx in pairs:
            key = en.casefold()
            where = held.get(key, "train")
            if where != "train":
                if key in taken:
                    dropped[name] += 1
                    continue
                taken.add(key)
            out[where].append((en, xx, name))
    rng.shuffle(out["train"])
    return out, dropped


def write_tsv_gz(path: Path, rows: list[tuple[str, str, str]]) -> None:
    """Write rows as gzip TSV, byte-for-byte reproducible (no timestamp in the header)."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write("".join("\t".join(r) + "\n" for r in rows).encode("utf-8"))


def sources_md(pair: str, sources: list[Source], stats: dict) -> str:
    """SOURCES.md: provenance, licenses, what cleaning removed, split sizes per source."""
    lang = pair.split("-")[1]
    lines = [
        f"# The {pair} corpus: sources and counts",
        "",
        "Built by `python -m training.corpus build --pair "
        f"{pair} --out training/data/{pair}` (seed {stats['seed']}) from Debian packages "
        "(bookworm). Columns of each `*.tsv.gz`: English, "
        f"{lang}, source.",
        "",
        "| source | what | license | packages (version) |",
        "|---|---|---|---|",
    ]
    for s in sources:
        pkgs = ", ".join(f"`{p}` ({stats['versions'][p]})" for p in s.package_names(lang))
        lines.append(f"| {s.name} | {s.description} | {s.license} | {pkgs} |")
    lines += ["", "## Cleaning (pairs removed per filter)", ""]
    names = [s.name for s in sources]
    lines.append("| filter | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    for f in ("raw", *FILTERS, "kept", "held_out_alternatives"):
        row = [str(stats["cleaning"][n].get(f, 0)) for n in names]
        lines.append(f"| {f} | " + " | ".join(row) + " |")
    lines += ["", "## Split (pairs)", "", "| split | " + " | ".join(names) + " | total |"]
    lines.append("|---|" + "---|" * (len(names) + 1))
    for sp in SPLITS:
        row = [str(stats["splits"][sp].get(n, 0)) for n in names]
        lines.append(f"| {sp} | " + " | ".join(row) + f" | {stats['splits'][sp]['total']} |")
    lines += [
        "",
        "No English sentence (case-folded) of dev or test occurs in train; "
        "`tests/test_corpus_data.py` checks this and these counts.",
        "",
    ]
    return "\n".join(lines)


def build(pair: str, out: Path, work: Path | None, seed: int, held_out: int) -> dict:
    """Fetch, extract, clean, split and write the corpus of ``pair``; return its stats."""
    src_lang, lang = pair.split("-")
    if src_lang != "en":
        raise SystemExit(f"corpora are built English-first (en-xx); got {pair!r}")
    sources = sources_for(lang)
    if not sources:
        raise SystemExit(f"no known source pairs English with {lang!r}")
    work = work or Path(tempfile.mkdtemp(prefix="corpus-"))
    versions = fetch([p for s in sources for p in s.package_names(lang)], work)
    cleaned, cleaning = {}, {}
    for s in sources:
        cleaned[s.name], counts = clean(extract(s, work / "root", lang))
        cleaning[s.name] = counts
        log.info("%s: %s", s.name, dict(counts))
    splits, dropped = split(cleaned, held_out, seed)
    for name, n in dropped.items():
        cleaning[name]["held_out_alternatives"] = n
    out.mkdir(parents=True, exist_ok=True)
    stats = {"pair": pair, "seed": seed, "versions": versions, "cleaning": {}, "splits": {}}
    for name, counts in cleaning.items():
        stats["cleaning"][name] = dict(counts)
    for sp, rows in splits.items():
        write_tsv_gz(out / f"{sp}.tsv.gz", rows)
        per_source = Counter(r[2] for r in rows)
        stats["splits"][sp] = {**per_source, "total": len(rows)}
        log.info("%s: %d pairs %s", sp, len(rows), dict(per_source))
    (out / "stats.json").write_text(json.dumps(stats, indent=1, ensure_ascii=False) + "\n")
    (out / "SOURCES.md").write_text(sources_md(pair, sources, stats))
    return stats


def provenance(train_file: str | Path) -> dict:
    """Per source: description, license and training pairs, from the ``stats.json`` beside
    a corpus built here (empty for other corpora)."""
    stats_file = Path(train_file).parent / "stats.json"
    if not stats_file.is_file():
        return {}
    stats = json.loads(stats_file.read_text())
    return {
        name: {
            "description": SOURCES[name].description,
            "license": SOURCES[name].license,
            "train_pairs": count,
        }
        for name, count in stats["splits"]["train"].items()
        if name in SOURCES
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.corpus", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build a corpus from Debian packages")
    b.add_argument("--pair", default="en-de", help="en-de, en-fr or en-es")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--work", type=Path, help="download/unpack folder (kept; default: temp)")
    b.add_argument("--seed", type=int, default=1234)
    b.add_argument("--held-out", type=int, default=2000, help="pairs in dev and in test")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    build(args.pair, args.out, args.work, args.seed, args.held_out)


if __name__ == "__main__":
    main()
